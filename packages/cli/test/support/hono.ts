/**
 * Hono servers for the doctor's tests: an app protected by the real @mcp-oauth/hono adapter, served by
 * @hono/node-server as packages/hono/test does, wired by the test itself so each test shows the wiring it checks.
 */
import type { Server } from "node:http"
import { serve } from "@hono/node-server"
import { Custom, McpAuth } from "@mcp-oauth/auth-core"
import type { McpAuthEnv } from "@mcp-oauth/hono"
import { statelessMcpHandlerV1 } from "@mcp-oauth/hono/sdk-v1"
import { statelessMcpHandlerV2 } from "@mcp-oauth/hono/sdk-v2"
import { McpServer as McpServerV1 } from "@modelcontextprotocol/sdk/server/mcp.js"
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js"
import { McpServer as McpServerV2 } from "@modelcontextprotocol/server"
import type { Handler, Hono } from "hono"
import { freePort } from "./servers.js"

/** What a test's wiring gets: the auth instance and the SDK handler of the chosen SDK. */
export interface HonoWiring {
  readonly auth: McpAuth.McpAuth
  readonly mcp: Handler<McpAuthEnv>
}

/**
 * Starts the Hono app `wire` builds, for a resource at `/mcp` (or `path`) protected for `issuer`, serving MCP with SDK v1 or v2
 * through the adapter's stateless handlers.
 */
export const startHonoServer = async (options: {
  readonly issuer: string
  readonly sdk: "v1" | "v2"
  /** The MCP endpoint's path (default `/mcp`). */
  readonly path?: string
  readonly wire: (wiring: HonoWiring) => Hono<McpAuthEnv>
}): Promise<{ resource: string; close: () => Promise<void> }> => {
  const port = await freePort()
  const resource = `http://127.0.0.1:${port}${options.path ?? "/mcp"}`
  const auth = await McpAuth.make(McpAuth.layer({ resource, scopesSupported: ["mcp"] }, Custom.layer({ issuer: options.issuer })))
  const v2 = options.sdk === "v2" ? statelessMcpHandlerV2(() => new McpServerV2({ name: "doctor-hono", version: "0.0.0" })) : undefined
  const mcp = v2 ?? statelessMcpHandlerV1(() => new McpServerV1({ name: "doctor-hono", version: "0.0.0" }))
  const app = options.wire({ auth, mcp })
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, () => resolve(listening as Server)) as Server
    listening.once("error", reject)
  })
  return {
    resource,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      await v2?.close()
      await auth.dispose()
    }
  }
}

/**
 * An MCP handler on the SDK's own web-standard transport, with no mcp-oauth involved: what a user copies from the
 * SDK's examples, and which serves anyone the guard did not stop.
 */
export const unguardedMcpHandler: Handler = async (c) => {
  const server = new McpServerV1({ name: "doctor-hono-unguarded", version: "0.0.0" })
  // JSON answers, so the exchange is over once the response exists and both can be closed
  const transport = new WebStandardStreamableHTTPServerTransport({ enableJsonResponse: true })
  await server.connect(transport)
  const response = await transport.handleRequest(c.req.raw)
  await server.close()
  return response
}
