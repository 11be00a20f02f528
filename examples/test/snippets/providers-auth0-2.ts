/** Checked by `tsc -b`: docs/providers/auth0.md, code block 2, verbatim (docsSnippets.test.ts keeps them equal). */

import { MCPServer } from "@mcp-oauth/node/server"
import { oauthAuth0Provider } from "@mcp-oauth/auth-core/providers/Auth0"

const server = new MCPServer({
  name: "reports",
  version: "1.0.0",
  baseUrl: "https://mcp.example.com",
  oauth: oauthAuth0Provider({ domain: "your-tenant.us.auth0.com", rolesClaim: "https://example.com/roles" })
})
server.tool({
  name: "monthly-report",
  requires: { permissions: ["read:reports"] },
  cb: (_args, { auth }) => `Hello ${auth.user.userId}, roles: ${auth.roles.join(", ")}`
})
await server.listen(3000)
