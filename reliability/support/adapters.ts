/**
 * One protected MCP server per adapter, wired as a user would (routes, guard, stateless SDK v1 handler), serving the
 * contract suite's tools on 127.0.0.1 in this process.
 */
import type { Server } from "node:http"
import type { McpAuth } from "@mcp-oauth/auth-core"
import { createContractServer } from "@mcp-oauth/testing/contract"
import type { McpServer as McpServerV1 } from "@modelcontextprotocol/sdk/server/mcp.js"

/** The adapters under test. */
export const adapterNames = ["node", "express", "hono"] as const

/** One adapter's name. */
export type AdapterName = (typeof adapterNames)[number]

/** A running protected server. */
export interface Served {
  /** Stops listening, drops open connections and disposes the auth runtime. */
  readonly close: () => Promise<void>
}

const closing = (server: Server, auth: McpAuth.McpAuth) => async () => {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  await auth.dispose()
}

const listening = (server: Server, port: number): Promise<void> =>
  new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(port, "127.0.0.1", () => resolve())
  })

/** Serves the contract tools at `/mcp` behind `auth` on `port` with the named adapter. */
export const serveWith = async (adapter: AdapterName, auth: McpAuth.McpAuth, port: number): Promise<Served> => {
  const createMcpServer = (await createContractServer("v1")) as () => McpServerV1
  switch (adapter) {
    case "node": {
      const { listen } = await import("@mcp-oauth/node")
      const { statelessHandlerV1 } = await import("@mcp-oauth/node/sdk-v1")
      const running = await listen(auth, statelessHandlerV1(createMcpServer), { port })
      return { close: running.close }
    }
    case "express": {
      const { default: express } = await import("express")
      const { mcpAuthRouter, requireMcpAuth, statelessMcpHandlerV1 } = await import("@mcp-oauth/express")
      const { createServer } = await import("node:http")
      const app = express()
      app.use(mcpAuthRouter(auth))
      app.all("/mcp", express.json(), requireMcpAuth(auth), statelessMcpHandlerV1(createMcpServer))
      const server = createServer(app)
      await listening(server, port)
      return { close: closing(server, auth) }
    }
    case "hono": {
      const { Hono } = await import("hono")
      const { getRequestListener } = await import("@hono/node-server")
      const { mcpAuthMiddleware, mcpAuthRoutes } = await import("@mcp-oauth/hono")
      const { statelessMcpHandlerV1 } = await import("@mcp-oauth/hono/sdk-v1")
      const { createServer } = await import("node:http")
      const app = new Hono()
      app.route("/", mcpAuthRoutes(auth))
      app.use("/mcp", mcpAuthMiddleware(auth))
      app.all("/mcp", statelessMcpHandlerV1(createMcpServer))
      const server = createServer(getRequestListener(app.fetch))
      await listening(server, port)
      return { close: closing(server, auth) }
    }
  }
}
