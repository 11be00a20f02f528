/** Checked by `tsc -b`: docs/providers/keycloak.md, code block 1, verbatim (docsSnippets.test.ts keeps them equal). */
import type { McpServer as SnippetMcpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
declare const createMcpServer: () => SnippetMcpServer

import { McpAuth } from "@mcp-oauth/auth-core"
import * as Keycloak from "@mcp-oauth/auth-core/providers/Keycloak"
import { listen } from "@mcp-oauth/node"
import { statelessHandlerV1 } from "@mcp-oauth/node/sdk-v1"

const auth = await McpAuth.make(
  McpAuth.layer(
    { resource: "https://mcp.example.com/mcp", scopesSupported: ["mcp:tools"] },
    Keycloak.layer({ url: "https://sso.example.com", realm: "acme", clientId: "mcp-server" })
  )
)
for (const warning of auth.warnings) console.warn(warning)
await listen(auth, statelessHandlerV1(createMcpServer), { port: 3000 })
