/** Checked by `tsc -b`: docs/testing.md, the adapter contract for your own wiring, verbatim (docsSnippets.test.ts). */

import type { Server } from "node:http"
import express from "express"
import { mcpAuthRouter, requireMcpAuth, statelessMcpHandlerV1 } from "@mcp-oauth/express"
import { runAdapterContract } from "@mcp-oauth/testing/contract"
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"

// every case of the contract (metadata, challenges, CORS, hostile tokens, the SDK clients' full flow, step-up, roles)
// against your app's wiring; the suite builds `auth` for the port and registers its own tools
runAdapterContract({
  name: "my Express app",
  sdks: ["v1"],
  start: async ({ port, auth, createMcpServer }) => {
    const app = express()
    app.use(mcpAuthRouter(auth))
    app.post("/mcp", express.json(), requireMcpAuth(auth), statelessMcpHandlerV1(createMcpServer as () => McpServer))
    const server = await new Promise<Server>((resolve) => {
      const listening = app.listen(port, "127.0.0.1", () => resolve(listening))
    })
    return {
      close: async () => {
        server.closeAllConnections()
        await new Promise((resolve) => server.close(resolve))
        await auth.dispose()
      }
    }
  }
})
