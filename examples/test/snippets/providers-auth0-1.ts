/** Checked by `tsc -b`: docs/providers/auth0.md, code block 1, verbatim (docsSnippets.test.ts keeps them equal). */
import type { McpServer as SnippetMcpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
declare const createMcpServer: () => SnippetMcpServer

import { McpAuth } from "@mcp-oauth/auth-core"
import * as Auth0 from "@mcp-oauth/auth-core/providers/Auth0"
import { listen } from "@mcp-oauth/node"
import { statelessHandlerV1 } from "@mcp-oauth/node/sdk-v1"

const auth = await McpAuth.make(
  McpAuth.layer(
    { resource: "https://mcp.example.com/mcp", scopesSupported: ["read:reports", "write:reports"] },
    Auth0.layer({ domain: "your-tenant.us.auth0.com", rolesClaim: "https://example.com/roles" })
  )
)
for (const warning of auth.warnings) console.warn(warning)
// createMcpServer: your function returning an McpServer from @modelcontextprotocol/sdk with its tools
await listen(auth, statelessHandlerV1(createMcpServer), { port: 3000 })
