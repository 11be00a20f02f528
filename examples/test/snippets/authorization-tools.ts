/** Checked by `tsc -b`: docs/authorization.md, per-tool requirements with the SDK, verbatim (docsSnippets.test.ts). */

import { type Authorization, AuthContext, Custom, McpAuth } from "@mcp-oauth/auth-core"
import { listen } from "@mcp-oauth/node"
import { statelessHandlerV1 } from "@mcp-oauth/node/sdk-v1"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"

const canWrite: Authorization.Requirement = { scopes: ["files:write"] }
const auditors: Authorization.Requirement = { roles: ["auditor", "admin"] } // any one of them
const ownOrg: Authorization.Requirement = { check: (auth) => auth.claims["org_id"] === "org_acme" }

const auth = await McpAuth.make(
  McpAuth.layer(
    {
      resource: "https://mcp.example.com/mcp",
      scopesSupported: ["files:read", "files:write"],
      // a token with files:write satisfies files:read
      scopeImplications: { "files:write": ["files:read"] }
    },
    Custom.layer({ issuer: "https://idp.example.com" })
  )
)
// declared for the HTTP layer too: a call without the scope gets 403 insufficient_scope, and the client steps up
auth.policy.set("tool", "write-file", canWrite)

const text = (value: unknown) => ({ content: [{ type: "text" as const, text: JSON.stringify(value) }] })

const createServer = () => {
  const server = new McpServer({ name: "files", version: "1.0.0" })
  server.registerTool("write-file", { description: "Writes a file" }, AuthContext.guarded(canWrite, async (extra) => {
    const caller = AuthContext.of(extra, auth.scopeImplications)! // hasScope then honours the implications
    return text({ writtenBy: caller.user.userId, canRead: caller.hasScope("files:read") })
  }))
  server.registerTool("audit-log", { description: "The audit log" }, AuthContext.guarded(auditors, async () => text([])))
  server.registerTool("org-report", { description: "Your organization" }, AuthContext.guarded(ownOrg, async () => text({})))
  return server
}

await listen(auth, statelessHandlerV1(createServer), { port: 3000 })
