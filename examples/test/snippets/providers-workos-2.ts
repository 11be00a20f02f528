/** Checked by `tsc -b`: docs/providers/workos.md, code block 2, verbatim (docsSnippets.test.ts keeps them equal). */

import { MCPServer } from "@mcp-oauth/node/server"
import { oauthWorkOSProvider } from "@mcp-oauth/auth-core/providers/WorkOS"

const server = new MCPServer({
  name: "my-server",
  version: "1.0.0",
  baseUrl: "https://mcp.example.com",
  oauth: oauthWorkOSProvider({ subdomain: "your-company.authkit.app" })
})
server.tool({ name: "whoami", cb: (_args, { auth }) => ({ user: auth.user.userId, org: auth.claims["org_id"] }) })
await server.listen(3000)
