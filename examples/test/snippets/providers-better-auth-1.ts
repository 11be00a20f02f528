/** Checked by `tsc -b`: docs/providers/better-auth.md, code block 1, verbatim (docsSnippets.test.ts keeps them equal). */
import type { McpServer as SnippetMcpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
declare const createMcpServer: () => SnippetMcpServer

import { McpAuth } from "@mcp-oauth/auth-core"
import * as BetterAuth from "@mcp-oauth/auth-core/providers/BetterAuth"
import { listen } from "@mcp-oauth/node"
import { statelessHandlerV1 } from "@mcp-oauth/node/sdk-v1"

const auth = await McpAuth.make(
  McpAuth.layer(
    { resource: "https://mcp.example.com/mcp", scopesSupported: ["mcp:tools"] },
    BetterAuth.layer({ url: "https://app.example.com" })
  )
)
await listen(auth, statelessHandlerV1(createMcpServer), { port: 3000 })
