import express from "express"
import { runProxyContract } from "@mcp-oauth/testing/contract"
import type { Server } from "node:http"
import type { McpServer as McpServerV2 } from "@modelcontextprotocol/server"
import { mcpAuthRouter, requireMcpAuth, statelessMcpHandlerV2 } from "../src/index.js"
import { startExpress } from "./support/server.js"

runProxyContract({ name: "express 5", sdks: ["v1"], start: startExpress })

// body parsers mounted before the router, as many apps do: the router serializes the parsed body back
runProxyContract({
  name: "express 5 (body parsers before the router)",
  sdks: ["v2"],
  start: async ({ port, auth, createMcpServer }) => {
    const app = express()
    app.use(express.json(), express.urlencoded({ extended: false }))
    app.use(mcpAuthRouter(auth))
    app.all("/mcp", requireMcpAuth(auth), statelessMcpHandlerV2(createMcpServer as () => McpServerV2))
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
})
