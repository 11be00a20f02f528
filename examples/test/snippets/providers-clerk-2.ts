/** Checked by `tsc -b`: docs/providers/clerk.md, code block 2, verbatim (docsSnippets.test.ts keeps them equal). */

import { MCPServer } from "@mcp-oauth/node/server"
import { oauthClerkProvider } from "@mcp-oauth/auth-core/providers/Clerk"

const server = new MCPServer({
  name: "my-server",
  version: "1.0.0",
  baseUrl: "https://mcp.example.com",
  oauth: oauthClerkProvider({ domain: "clerk.example.com" })
})
server.tool({ name: "whoami", cb: (_args, { auth }) => auth.user })
await server.listen(3000)
