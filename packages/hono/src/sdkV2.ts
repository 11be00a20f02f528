/** Serving an MCP SDK v2 server (`@modelcontextprotocol/server`) from Hono through the SDK's web-standard handler. */
import { type CreateMcpHandlerOptions, createMcpHandler, type McpServerFactory } from "@modelcontextprotocol/server"
import type { Handler } from "hono"
import { requestAsArrived } from "./internal/restoredBody.js"
import { type McpAuthEnv, sdkAuthInfoOf } from "./middleware.js"

/** A Hono handler with the `close` of the SDK handler behind it (aborts in-flight exchanges). */
export type McpHandlerV2 = Handler<McpAuthEnv> & { readonly close: () => Promise<void> }

/**
 * A Hono handler serving v2 MCP servers through `createMcpHandler`: a fresh server per request for both the
 * 2026 per-request protocol and the stateless 2025 fallback. The guard's AuthInfo is passed as `authInfo`
 * and reaches tools as `ctx.http.authInfo`.
 */
export const statelessMcpHandlerV2 = (createServer: McpServerFactory, options?: CreateMcpHandlerOptions): McpHandlerV2 => {
  const mcp = createMcpHandler(createServer, options)
  const handler: Handler<McpAuthEnv> = (c) => {
    const authInfo = sdkAuthInfoOf(c)
    // with the body the guard parsed, the SDK reads only the method, URL and headers
    const parsedBody: unknown = c.get("mcpBody")
    return parsedBody === undefined
      ? mcp.fetch(c.req.raw, { authInfo })
      : mcp.fetch(requestAsArrived(c.req), { authInfo, parsedBody })
  }
  return Object.assign(handler, { close: mcp.close })
}
