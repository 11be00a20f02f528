/** Serving an MCP SDK v1 server (`@modelcontextprotocol/sdk`) from Hono, stateless, on the web-standard transport. */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js"
import type { Handler } from "hono"
import { requestAsArrived } from "./internal/restoredBody.js"
import { type McpAuthEnv, sdkAuthInfoOf } from "./middleware.js"

/** The response, with `close` run once its body has been sent or the client went away. */
const closingAfter = (response: Response, signal: AbortSignal, close: () => void): Response => {
  signal.addEventListener("abort", close, { once: true })
  if (response.body === null) {
    close()
    return response
  }
  return new Response(response.body.pipeThrough(new TransformStream({ flush: close })), response)
}

const methodNotAllowed = () =>
  new Response(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message: "Method not allowed." }, id: null }), {
    status: 405,
    headers: { allow: "POST", "content-type": "application/json" }
  })

/**
 * A Hono handler building a fresh v1 MCP server and transport per POST (the SDK's stateless pattern), so no
 * session outlives the token that opened it. The guard's AuthInfo reaches tools as `extra.authInfo`. GET and
 * DELETE (session streams and teardown) answer 405, as the v2 handler's stateless serving does.
 */
export const statelessMcpHandlerV1 =
  (createServer: () => McpServer): Handler<McpAuthEnv> =>
  async (c) => {
    const authInfo = sdkAuthInfoOf(c)
    // with the body the guard parsed, the transport reads only the method, URL and headers
    const parsedBody: unknown = c.get("mcpBody")
    const request = parsedBody === undefined ? c.req.raw : requestAsArrived(c.req)
    if (request.method !== "POST") return methodNotAllowed()
    const server = createServer()
    // no sessionIdGenerator: the transport runs stateless
    const transport = new WebStandardStreamableHTTPServerTransport({})
    await server.connect(transport)
    const response = await transport.handleRequest(request, parsedBody === undefined ? { authInfo } : { authInfo, parsedBody })
    return closingAfter(response, request.signal, () => {
      void transport.close()
      void server.close()
    })
  }
