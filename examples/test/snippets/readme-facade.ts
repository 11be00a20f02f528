/** Checked by `tsc -b`: the README's facade snippet, verbatim (docsSnippets.test.ts keeps them equal). */

import { oauthKeycloakProvider } from "@mcp-oauth/auth-core"
import { MCPServer } from "@mcp-oauth/node/server"

const server = new MCPServer({
  name: "reports",
  version: "1.0.0",
  baseUrl: "https://mcp.example.com",
  oauth: oauthKeycloakProvider({ url: "https://sso.example.com", realm: "acme" })
})
server.tool({
  name: "monthly-report",
  requires: { roles: ["analyst"] },
  cb: async (_params, { auth }) => ({ for: auth.user.email, rows: [] })
})
await server.listen(3000)
