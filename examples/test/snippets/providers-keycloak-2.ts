/** Checked by `tsc -b`: docs/providers/keycloak.md, code block 2, verbatim (docsSnippets.test.ts keeps them equal). */

import { MCPServer } from "@mcp-oauth/node/server"
import { oauthKeycloakProvider } from "@mcp-oauth/auth-core/providers/Keycloak"

const server = new MCPServer({
  name: "reports",
  version: "1.0.0",
  baseUrl: "https://mcp.example.com",
  scopes: ["mcp:tools"],
  oauth: oauthKeycloakProvider({ url: "https://sso.example.com", realm: "acme", clientId: "mcp-server" })
})
server.tool({
  name: "audit-log",
  requires: { roles: ["auditor"] },
  cb: (_args, { auth }) => `Hello ${auth.user.name}, roles: ${auth.roles.join(", ")}`
})
await server.listen(3000)
