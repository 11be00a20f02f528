/** Checked by `tsc -b`: docs/providers/better-auth.md, code block 2, verbatim (docsSnippets.test.ts keeps them equal). */

import { MCPServer } from "@mcp-oauth/node/server"
import { oauthBetterAuthProvider } from "@mcp-oauth/auth-core/providers/BetterAuth"

const server = new MCPServer({
  name: "todos",
  version: "1.0.0",
  baseUrl: "https://mcp.example.com",
  scopes: ["mcp:tools"],
  oauth: oauthBetterAuthProvider({ url: "https://app.example.com" })
})
server.tool({ name: "whoami", cb: (_args, { auth }) => auth.user.userId })
await server.listen(3000)
