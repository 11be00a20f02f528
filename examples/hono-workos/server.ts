/**
 * A Hono MCP server protected by WorkOS AuthKit (remote mode): MCP clients register and sign in at your AuthKit
 * domain, this server verifies AuthKit's JWT access tokens. Run it with `npm run example:hono-workos`.
 *
 * Variables: MCP_OAUTH_WORKOS_SUBDOMAIN (e.g. your-company, for https://your-company.authkit.app) or
 * MCP_OAUTH_WORKOS_DOMAIN (a custom AuthKit domain) — one is required; MCP_OAUTH_WORKOS_AUDIENCE (default: this
 * server's URL), MCP_OAUTH_WORKOS_SCOPES, MCP_OAUTH_BASE_URL (public origin; default http://HOST:PORT), HOST
 * (127.0.0.1), PORT (3000). WorkOS setup (the MCP resource indicator, dynamic registration): docs/providers/workos.md.
 */
import { serve } from "@hono/node-server"
import { ConfigProvider, Layer } from "effect"
import { Hono } from "hono"
import { AuthContext, McpAuth, WorkOS } from "@mcp-oauth/auth-core"
import { ConfigProblem } from "@mcp-oauth/auth-core/ConfigProblem"
import { type McpAuthEnv, mcpAuthMiddleware, mcpAuthRoutes } from "@mcp-oauth/hono"
import { statelessMcpHandlerV2 } from "@mcp-oauth/hono/sdk-v2"
import { McpServer } from "@modelcontextprotocol/server"

/** A fresh MCP server per request; tools read the caller from the SDK's `ctx`. */
const createServer = () => {
  const server = new McpServer({ name: "hono-workos-example", version: "0.1.0" })
  server.registerTool("get-user-profile", { description: "The signed-in WorkOS user" }, async (ctx) => {
    const auth = AuthContext.of(ctx)
    if (auth === undefined) throw new Error("no authenticated user")
    // AuthKit access tokens carry the user, the client and the organization, not the profile
    const profile = { userId: auth.user.userId, organization: auth.claims["org_id"], clientId: auth.clientId }
    return { content: [{ type: "text" as const, text: JSON.stringify(profile) }] }
  })
  return server
}

/** Starts the server from an environment; a bad or missing variable rejects with a ConfigProblem naming it. */
export const start = async (env: NodeJS.ProcessEnv) => {
  const host = env["HOST"] || "127.0.0.1"
  const port = Number(env["PORT"] || "3000")
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigProblem({ setting: "PORT", problem: "is not a port number" })
  const baseUrl = env["MCP_OAUTH_BASE_URL"] || `http://${host}:${port}`
  // the provider reads its MCP_OAUTH_WORKOS_* variables from this environment rather than process.env, so tests can pass theirs
  const variables = ConfigProvider.fromMap(new Map(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)))
  const auth = await McpAuth.make(
    McpAuth.layer(
      { resource: `${baseUrl.replace(/\/+$/, "")}/mcp`, resourceSetting: "MCP_OAUTH_BASE_URL", resourceName: "WorkOS example" },
      WorkOS.layerConfig().pipe(Layer.provide(Layer.setConfigProvider(variables)))
    )
  )
  const mcp = statelessMcpHandlerV2(createServer)
  const app = new Hono<McpAuthEnv>()
  app.route("/", mcpAuthRoutes(auth)) // metadata documents and CORS preflights
  app.use("/mcp/*", mcpAuthMiddleware(auth)) // sets c.var.auth, or answers with the exact challenge
  app.all("/mcp", mcp)
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const listening = serve({ fetch: app.fetch, port, hostname: host }, () => resolve(listening))
    listening.once("error", reject)
  }).catch(async (error: unknown) => {
    await auth.dispose()
    throw error
  })
  const close = async () => {
    await new Promise((resolve) => {
      server.close(resolve)
      if ("closeAllConnections" in server) server.closeAllConnections()
    })
    await mcp.close()
    await auth.dispose()
  }
  return { mcpUrl: auth.resource, warnings: auth.warnings, close }
}
