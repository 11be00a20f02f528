/** Checked by `tsc -b`: docs/providers/supabase.md, code block 1, verbatim (docsSnippets.test.ts keeps them equal). */
import type { McpServer as SnippetMcpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
declare const createMcpServer: () => SnippetMcpServer

import { McpAuth } from "@mcp-oauth/auth-core"
import * as Supabase from "@mcp-oauth/auth-core/providers/Supabase"
import { listen } from "@mcp-oauth/node"
import { statelessHandlerV1 } from "@mcp-oauth/node/sdk-v1"

const auth = await McpAuth.make(
  McpAuth.layer({ resource: "https://mcp.example.com/mcp" }, Supabase.layer({ url: "https://abcdefghijklmnopqrst.supabase.co" }))
)
for (const warning of auth.warnings) console.warn(warning) // the audience warning, always
await listen(auth, statelessHandlerV1(createMcpServer), { port: 3000 })
