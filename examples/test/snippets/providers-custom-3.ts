/** Checked by `tsc -b`: docs/providers/custom.md, code block 3, verbatim (docsSnippets.test.ts keeps them equal). */
declare const lookUpSession: (token: string) => Promise<{ userId: string; email: string; expiresAt: number } | undefined>

import { oauthCustomProvider } from "@mcp-oauth/auth-core"
import { MCPServer } from "@mcp-oauth/node/server"

const server = new MCPServer({
  name: "my-server",
  version: "1.0.0",
  baseUrl: "https://mcp.example.com",
  oauth: oauthCustomProvider({
    issuer: "https://auth.example.com",
    // your own check instead of JWT verification; throwing or returning no subject is a 401, never a 500
    verifyToken: async (token) => {
      const session = await lookUpSession(token)
      if (session === undefined) throw new Error("unknown token")
      return { subject: session.userId, expiresAt: session.expiresAt, user: { email: session.email } }
    }
  })
})
server.tool({ name: "whoami", cb: async (_params, { auth }) => auth.user })
await server.listen(3000)
