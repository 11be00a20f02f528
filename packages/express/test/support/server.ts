/** Starting an Express app with the adapter, as a user would wire it; `express` is Express 4 where the test mocks it. */
import type { Server } from "node:http"
import { createServer } from "node:net"
import express from "express"
import type { McpAuth } from "@mcp-oauth/auth-core"
import type { McpServer as McpServerV1 } from "@modelcontextprotocol/sdk/server/mcp.js"
import type { McpServerFactory } from "@modelcontextprotocol/server"
import { mcpAuthRouter, requireMcpAuth, statelessMcpHandlerV1, statelessMcpHandlerV2 } from "../../src/index.js"

/** Which Express is running: `express.query` exists in 4 and was removed in 5. */
export const expressMajor = (): 4 | 5 => ((express as unknown as { query?: unknown }).query === undefined ? 5 : 4)

/** A free loopback port (the resource URL must be known before the IdP starts). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

/** What starting a server needs (the contract suite's options). */
export interface StartOptions {
  readonly port: number
  readonly auth: McpAuth.McpAuth
  readonly sdk: "v1" | "v2"
  readonly createMcpServer: () => unknown
}

/** Serves `createMcpServer` statelessly at `/mcp` behind the adapter; `close` also disposes `auth`. */
export const startExpress = async ({ port, auth, sdk, createMcpServer }: StartOptions) => {
  const app = express()
  app.use(mcpAuthRouter(auth))
  app.all(
    "/mcp",
    express.json(),
    requireMcpAuth(auth),
    sdk === "v1"
      ? statelessMcpHandlerV1(createMcpServer as () => McpServerV1)
      : statelessMcpHandlerV2(createMcpServer as McpServerFactory)
  )
  const server: Server = await new Promise((resolve, reject) => {
    const listening = app.listen(port, "127.0.0.1", () => resolve(listening))
    listening.once("error", reject)
  })
  return {
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await auth.dispose()
    }
  }
}

/** A JSON-RPC request body calling the tool `name`. */
export const toolCall = (name: string): string =>
  JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: {} } })

/** POSTs `body` to the MCP endpoint at `origin` as an MCP client would, with `token` as its bearer when given. */
export const postMcp = (origin: string, token: string | undefined, body: string): Promise<Response> =>
  fetch(`${origin}/mcp`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` })
    },
    body
  })
