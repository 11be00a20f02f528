/**
 * An Express MCP server protected by an Auth0 tenant (remote mode): MCP clients register and sign in at Auth0, this
 * server verifies the JWT access tokens Auth0 issues for the API whose identifier is this server's URL. Run it with
 * `npm run example:express-auth0`.
 *
 * Variables: MCP_OAUTH_AUTH0_DOMAIN (required, e.g. your-tenant.us.auth0.com), MCP_OAUTH_AUTH0_AUDIENCE (default: this
 * server's URL), MCP_OAUTH_AUTH0_ROLES_CLAIM (the custom claim an Action fills with roles), MCP_OAUTH_AUTH0_SCOPES,
 * MCP_OAUTH_BASE_URL (public origin; default http://HOST:PORT), HOST (127.0.0.1), PORT (3000).
 * Tenant setup (API, dynamic registration, RBAC permissions): docs/providers/auth0.md.
 */
import type { Server } from "node:http"
import express from "express"
import { ConfigProvider, Layer } from "effect"
import { Auth0, AuthContext, McpAuth } from "@mcp-oauth/auth-core"
import { ConfigProblem } from "@mcp-oauth/auth-core/ConfigProblem"
import { mcpAuthRouter, requireMcpAuth, statelessMcpHandlerV1 } from "@mcp-oauth/express"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"

/** A fresh MCP server per request; tools read the caller from the SDK's `extra`. */
const createServer = () => {
  const server = new McpServer({ name: "express-auth0-example", version: "0.1.0" })
  server.registerTool("get-user-profile", { description: "The signed-in Auth0 user" }, async (extra) => {
    const auth = AuthContext.of(extra)
    if (auth === undefined) throw new Error("no authenticated user")
    const profile = { userId: auth.user.userId, roles: auth.roles, permissions: auth.permissions, scopes: auth.scopes }
    return { content: [{ type: "text", text: JSON.stringify(profile) }] }
  })
  return server
}

/** Starts the server from an environment; a bad or missing variable rejects with a ConfigProblem naming it. */
export const start = async (env: NodeJS.ProcessEnv) => {
  const host = env["HOST"] || "127.0.0.1"
  const port = Number(env["PORT"] || "3000")
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigProblem({ setting: "PORT", problem: "is not a port number" })
  const baseUrl = env["MCP_OAUTH_BASE_URL"] || `http://${host}:${port}`
  // the provider reads its MCP_OAUTH_AUTH0_* variables from this environment rather than process.env, so tests can pass theirs
  const variables = ConfigProvider.fromMap(new Map(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)))
  const auth = await McpAuth.make(
    McpAuth.layer(
      { resource: `${baseUrl.replace(/\/+$/, "")}/mcp`, resourceSetting: "MCP_OAUTH_BASE_URL", resourceName: "Auth0 example" },
      Auth0.layerConfig().pipe(Layer.provide(Layer.setConfigProvider(variables)))
    )
  )
  const app = express()
  app.use(mcpAuthRouter(auth)) // metadata documents and CORS preflights, before any body parser
  app.post("/mcp", requireMcpAuth(auth), statelessMcpHandlerV1(createServer))
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(port, host, () => resolve(listening)).once("error", reject)
  }).catch(async (error: unknown) => {
    await auth.dispose()
    throw error
  })
  const close = async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await auth.dispose()
  }
  return { mcpUrl: auth.resource, warnings: auth.warnings, close }
}
