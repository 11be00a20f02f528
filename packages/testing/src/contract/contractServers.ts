/** The MCP servers the contract runs behind each adapter: the same tools on SDK v1 and SDK v2, with requirements. */
import { AuthContext, type Authorization } from "@mcp-oauth/auth-core"
import type { ServerSdk } from "./types.js"

/** Tools and what each requires; the contract declares these on the auth policy and guards the callbacks. */
export const contractTools: ReadonlyArray<{ readonly name: string; readonly requirement: Authorization.Requirement | undefined }> = [
  { name: "whoami", requirement: undefined },
  { name: "admin-report", requirement: { scopes: ["admin"] } },
  { name: "editor-tool", requirement: { roles: ["editor"] } },
  { name: "reports-tool", requirement: { permissions: ["reports:read"] } },
  { name: "rule-tool", requirement: { check: (auth) => auth.user.email?.endsWith("@example.com") === true } }
]

const answer = (extra: unknown, tool: string) => {
  const auth = AuthContext.of(extra)
  const body = {
    tool,
    userId: auth?.user.userId,
    email: auth?.user.email,
    scopes: auth?.scopes,
    roles: auth?.roles,
    clientId: auth?.clientId
  }
  return { content: [{ type: "text" as const, text: JSON.stringify(body) }] }
}

/** A fresh MCP server of the given SDK generation with the contract's tools. */
export const createContractServer = async (sdk: ServerSdk): Promise<() => unknown> => {
  if (sdk === "v1") {
    const { McpServer } = await import("@modelcontextprotocol/sdk/server/mcp.js")
    return () => {
      const server = new McpServer({ name: "mcp-oauth-contract-v1", version: "0.1.0" })
      for (const { name, requirement } of contractTools) {
        const handler = (extra: unknown) => answer(extra, name)
        server.registerTool(name, { description: `contract tool ${name}` }, requirement === undefined ? handler : AuthContext.guarded(requirement, handler))
      }
      return server
    }
  }
  const { McpServer } = await import("@modelcontextprotocol/server")
  return () => {
    const server = new McpServer({ name: "mcp-oauth-contract-v2", version: "0.1.0" })
    for (const { name, requirement } of contractTools) {
      const handler = (ctx: unknown) => answer(ctx, name)
      server.registerTool(name, { description: `contract tool ${name}` }, requirement === undefined ? handler : AuthContext.guarded(requirement, handler))
    }
    return server
  }
}
