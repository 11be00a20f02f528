/** A Hono MCP server protected by @mcp-oauth/hono: a profile tool for everyone, a report tool for managers only. */
import { serve } from "@hono/node-server"
import { ConfigProvider, Layer } from "effect"
import { Hono } from "hono"
import { AuthContext, type Authorization, Custom, McpAuth } from "@mcp-oauth/auth-core"
import { ConfigProblem } from "@mcp-oauth/auth-core/ConfigProblem"
import { type McpAuthEnv, mcpAuthMiddleware, mcpAuthRoutes } from "@mcp-oauth/hono"
import { statelessMcpHandlerV2 } from "@mcp-oauth/hono/sdk-v2"
import { McpServer } from "@modelcontextprotocol/server"

/** What `team-report` requires: the `manager` role (from the token's `roles` claim unless `Custom.layer({ claims })` says otherwise). */
export const teamReportRequirement: Authorization.Requirement = { roles: ["manager"] }

const json = (value: unknown) => ({ content: [{ type: "text" as const, text: JSON.stringify(value) }] })

/** The MCP server; a new instance serves each request. Tools read the caller with `AuthContext.of(ctx)`. */
export const createMcpServer = (): McpServer => {
  const server = new McpServer({ name: "mcp-oauth-hono-example", version: "0.1.0" })
  server.registerTool("get-user-profile", { description: "Get the authenticated user's profile" }, async (ctx) => {
    const auth = AuthContext.of(ctx)
    if (auth === undefined) throw new Error("no authenticated user")
    const { userId, email, name, roles } = auth.user
    return json({ userId, email, name, roles })
  })
  server.registerTool(
    "team-report",
    { description: "The team's report (managers only)" },
    // refused before the callback runs unless the caller has the role
    AuthContext.guarded(teamReportRequirement, async (ctx) => json({ report: "all on track", for: AuthContext.of(ctx)?.user.userId }))
  )
  return server
}

/** A running example server. */
export interface HonoExample {
  readonly mcpUrl: string
  readonly warnings: ReadonlyArray<string>
  readonly close: () => Promise<void>
}

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value.trim() === "" ? undefined : value.trim())

/**
 * Starts the server from an environment (process.env in main.ts): `MCP_OAUTH_ISSUER` (required),
 * `MCP_OAUTH_JWKS_URI`, `MCP_OAUTH_AUDIENCE`, `MCP_OAUTH_SCOPES`, `MCP_OAUTH_BASE_URL`, `PORT`, `HOST`.
 * Bad settings reject with a {@link ConfigProblem} naming the variable.
 */
export const startHonoExample = async (env: NodeJS.ProcessEnv): Promise<HonoExample> => {
  const host = nonEmpty(env["HOST"]) ?? "127.0.0.1"
  const portText = nonEmpty(env["PORT"]) ?? "3000"
  const port = Number(portText)
  if (!/^\d+$/.test(portText) || port > 65535) throw new ConfigProblem({ setting: "PORT", problem: `${JSON.stringify(portText)} is not a port number` })
  const baseUrl = (nonEmpty(env["MCP_OAUTH_BASE_URL"]) ?? `http://${host.includes(":") ? `[${host}]` : host}:${port}`).replace(/\/+$/, "")
  const resource = `${baseUrl}/mcp`
  const variables = new Map(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined))
  const provider = Custom.layerConfig().pipe(Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(variables))))
  const scopes = nonEmpty(env["MCP_OAUTH_SCOPES"])?.split(/[\s,]+/)
  const auth = await McpAuth.make(
    McpAuth.layer({ resource, resourceSetting: "MCP_OAUTH_BASE_URL", resourceName: "mcp-oauth Hono example", scopesSupported: scopes }, provider)
  )
  auth.policy.set("tool", "team-report", teamReportRequirement)

  const mcp = statelessMcpHandlerV2(createMcpServer)
  const app = new Hono<McpAuthEnv>()
  app.route("/", mcpAuthRoutes(auth))
  app.use("/mcp/*", mcpAuthMiddleware(auth))
  app.all("/mcp", mcp)

  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const listening = serve({ fetch: app.fetch, port, hostname: host }, () => resolve(listening))
    listening.once("error", reject)
  }).catch(async (error: unknown) => {
    await auth.dispose()
    throw error
  })
  return {
    mcpUrl: resource,
    warnings: auth.warnings,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        if ("closeAllConnections" in server) server.closeAllConnections()
      })
      await mcp.close()
      await auth.dispose()
    }
  }
}
