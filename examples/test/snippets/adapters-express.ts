/** Checked by `tsc -b`: docs/adapters.md, Express, verbatim (docsSnippets.test.ts). */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
declare const createMcpServer: () => McpServer

import express from "express"
import { Custom, McpAuth } from "@mcp-oauth/auth-core"
import { mcpAuthRouter, requireMcpAuth, statelessMcpHandlerV1 } from "@mcp-oauth/express"

const auth = await McpAuth.make(
  McpAuth.layer({ resource: "https://mcp.example.com/mcp" }, Custom.layer({ issuer: "https://idp.example.com" }))
)
const app = express()
app.use(mcpAuthRouter(auth)) // metadata, preflights, the OAuth proxy's routes: before any body parser
app.post("/mcp", requireMcpAuth(auth), statelessMcpHandlerV1(createMcpServer)) // the guard reads the body itself
app.listen(3000)
