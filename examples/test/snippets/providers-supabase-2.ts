/** Checked by `tsc -b`: docs/providers/supabase.md, code block 2, verbatim (docsSnippets.test.ts keeps them equal). */

import { MCPServer } from "@mcp-oauth/node/server"
import { oauthSupabaseProvider } from "@mcp-oauth/auth-core/providers/Supabase"

const server = new MCPServer({
  name: "notes",
  version: "1.0.0",
  baseUrl: "https://mcp.example.com",
  oauth: oauthSupabaseProvider({ url: "https://abcdefghijklmnopqrst.supabase.co" })
})
server.tool({
  name: "publish",
  requires: { roles: ["editor"] },
  cb: (_args, { auth }) => `Published as ${auth.user.email}`
})
await server.listen(3000)
