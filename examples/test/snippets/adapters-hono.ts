/** Checked by `tsc -b`: docs/adapters.md, Hono, verbatim (docsSnippets.test.ts). */
import { McpServer } from "@modelcontextprotocol/server"
declare const createMcpServer: () => McpServer

import { serve } from "@hono/node-server"
import { Hono } from "hono"
import { Custom, McpAuth } from "@mcp-oauth/auth-core"
import { type McpAuthEnv, mcpAuthMiddleware, mcpAuthRoutes } from "@mcp-oauth/hono"
import { statelessMcpHandlerV2 } from "@mcp-oauth/hono/sdk-v2"

const auth = await McpAuth.make(
  McpAuth.layer({ resource: "https://mcp.example.com/mcp" }, Custom.layer({ issuer: "https://idp.example.com" }))
)
const app = new Hono<McpAuthEnv>()
app.route("/", mcpAuthRoutes(auth)) // metadata, preflights, the OAuth proxy's routes
app.use("/mcp/*", mcpAuthMiddleware(auth)) // sets c.var.auth, or answers with the exact challenge
app.all("/mcp", statelessMcpHandlerV2(createMcpServer))
serve({ fetch: app.fetch, port: 3000 })
