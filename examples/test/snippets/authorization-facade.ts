/** Checked by `tsc -b`: docs/authorization.md, requirements with the facade, verbatim (docsSnippets.test.ts). */

import { oauthCustomProvider } from "@mcp-oauth/auth-core"
import { MCPServer } from "@mcp-oauth/node/server"

const server = new MCPServer({
  name: "files",
  version: "1.0.0",
  oauth: oauthCustomProvider({ issuer: "https://idp.example.com" }),
  scopes: ["files:read"], // advertised, and required for every call
  scopeImplications: { "files:write": ["files:read"] }
})
server.tool({
  name: "write-file",
  requires: { scopes: ["files:write"] }, // 403 step-up at the HTTP layer, and checked again before cb runs
  cb: async (_params, { auth }) => ({ writtenBy: auth.user.userId })
})
server.tool({
  name: "audit-log",
  requires: { roles: ["auditor"], permissions: ["logs:read"] }, // hidden from tools/list for anyone else
  cb: async () => []
})
await server.listen(3000)
