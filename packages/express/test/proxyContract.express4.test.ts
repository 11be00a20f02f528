import type { Server } from "node:http"
import { vi } from "vitest"
import express from "express"
import { runProxyContract } from "@mcp-oauth/testing/contract"
import { mcpAuthRouter, requireMcpAuth, statelessMcpHandlerV1 } from "../src/index.js"
import { expressMajor, startExpress } from "./support/server.js"

// the adapter and the app both import "express": here that is Express 4, as in an Express 4 application
vi.mock("express", async () => await import("express4"))

runProxyContract({
  name: "express 4",
  sdks: ["v1"],
  start: async (options) => {
    if (expressMajor() !== 4) throw new Error("expected Express 4")
    return startExpress(options)
  }
})

// Express 4's body parsers mounted before the router: the router serializes the parsed body back
runProxyContract({
  name: "express 4 (body parsers before the router)",
  sdks: ["v1"],
  start: async ({ port, auth, createMcpServer }) => {
    if (expressMajor() !== 4) throw new Error("expected Express 4")
    const app = express()
    app.use(express.json(), express.urlencoded({ extended: false }))
    app.use(mcpAuthRouter(auth))
    app.all("/mcp", requireMcpAuth(auth), statelessMcpHandlerV1(createMcpServer as Parameters<typeof statelessMcpHandlerV1>[0]))
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
