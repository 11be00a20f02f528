/** Checked by `tsc -b`: docs/adapters.md, node:http with your own server, verbatim (docsSnippets.test.ts). */
import { McpServer } from "@modelcontextprotocol/server"
declare const createMcpServer: () => McpServer

import { createServer } from "node:http"
import { Custom, McpAuth } from "@mcp-oauth/auth-core"
import { protect } from "@mcp-oauth/node"
import { statelessHandlerV2 } from "@mcp-oauth/node/sdk-v2"

const auth = await McpAuth.make(
  McpAuth.layer({ resource: "https://mcp.example.com/mcp" }, Custom.layer({ issuer: "https://idp.example.com" }))
)
// protect answers the metadata routes, preflights and challenges itself, and calls the handler only with a valid token
const mcp = protect(auth, statelessHandlerV2(createMcpServer))
createServer((req, res) => {
  if (req.url === "/healthz") return void res.end("ok")
  void mcp(req, res)
}).listen(3000)
