/** Checked by `tsc -b`: the README's quickstart, verbatim (docsSnippets.test.ts keeps them equal). */

import { Auth0, AuthContext, McpAuth } from "@mcp-oauth/auth-core"
import { listen } from "@mcp-oauth/node"
import { statelessHandlerV1 } from "@mcp-oauth/node/sdk-v1"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"

// The identity provider is a Layer: Auth0 here; WorkOS, Keycloak, Clerk, Custom or OAuthProxy plug in the same way.
const auth = await McpAuth.make(
  McpAuth.layer(
    { resource: "https://mcp.example.com/mcp", scopesSupported: ["mcp"] },
    Auth0.layer({ domain: "your-tenant.us.auth0.com" })
  )
)

// A fresh MCP server per request (stateless), so no session outlives the token that opened it.
const createServer = () => {
  const server = new McpServer({ name: "my-server", version: "1.0.0" })
  server.registerTool("whoami", { description: "The signed-in user" }, async (extra) => {
    const user = AuthContext.of(extra)?.user
    return { content: [{ type: "text", text: `Hello ${user?.name ?? user?.userId}` }] }
  })
  return server
}

await listen(auth, statelessHandlerV1(createServer), { port: 3000 })
