/**
 * An Express MCP server protected by any OAuth 2.1 / OIDC issuer: `get-user-profile` for every signed-in user,
 * `admin-report` only with the `admin` scope (refused at the HTTP layer with a 403 step-up challenge).
 */
import type { Server } from "node:http"
import express from "express"
import { ConfigProvider, Layer } from "effect"
import { AuthContext, Custom, McpAuth } from "@mcp-oauth/auth-core"
import { ConfigProblem } from "@mcp-oauth/auth-core/ConfigProblem"
import { mcpAuthRouter, requireMcpAuth, statelessMcpHandlerV1, statelessMcpHandlerV2 } from "@mcp-oauth/express"
import { McpServer as McpServerV1 } from "@modelcontextprotocol/sdk/server/mcp.js"
import { McpServer as McpServerV2 } from "@modelcontextprotocol/server"

const adminOnly = { scopes: ["admin"] }

const profile = (handlerArgument: unknown) => {
  const auth = AuthContext.of(handlerArgument)
  if (auth === undefined) throw new Error("no authenticated user")
  const { userId, email, name } = auth.user
  return { content: [{ type: "text" as const, text: JSON.stringify({ userId, email, name, scopes: auth.scopes }) }] }
}

const report = () => ({ content: [{ type: "text" as const, text: JSON.stringify({ report: "all systems nominal" }) }] })

/** The server for SDK v1 (the default); tools read the user from `extra`. */
const createServerV1 = () => {
  const server = new McpServerV1({ name: "mcp-oauth-express-example", version: "0.1.0" })
  server.registerTool("get-user-profile", { description: "The signed-in user's profile" }, async (extra) => profile(extra))
  server.registerTool("admin-report", { description: "A report for administrators" }, AuthContext.guarded(adminOnly, async (_extra) => report()))
  return server
}

/** The same server on SDK v2 (`MCP_SDK=v2`); tools read the user from `ctx.http.authInfo`. */
const createServerV2 = () => {
  const server = new McpServerV2({ name: "mcp-oauth-express-example", version: "0.1.0" })
  server.registerTool("get-user-profile", { description: "The signed-in user's profile" }, async (ctx) => profile(ctx))
  server.registerTool("admin-report", { description: "A report for administrators" }, AuthContext.guarded(adminOnly, async (_ctx) => report()))
  return server
}

/** A running example. */
export interface ExpressExample {
  readonly mcpUrl: string
  readonly warnings: ReadonlyArray<string>
  readonly close: () => Promise<void>
}

const nonEmpty = (value: string | undefined) => (value === undefined || value.trim() === "" ? undefined : value.trim())

/**
 * Starts the example from an environment: `MCP_OAUTH_ISSUER` (required), `MCP_OAUTH_JWKS_URI`, `MCP_OAUTH_AUDIENCE`,
 * `MCP_OAUTH_SCOPES`, `PORT` (3000), `HOST` (127.0.0.1), `MCP_OAUTH_BASE_URL` (public origin, default from HOST and
 * PORT) and `MCP_SDK` (v1 or v2). Bad settings reject with a {@link ConfigProblem} naming the variable.
 */
export const startExpressExample = async (env: NodeJS.ProcessEnv): Promise<ExpressExample> => {
  const host = nonEmpty(env["HOST"]) ?? "127.0.0.1"
  const portText = nonEmpty(env["PORT"]) ?? "3000"
  const port = Number(portText)
  if (!/^\d+$/.test(portText) || port > 65535) throw new ConfigProblem({ setting: "PORT", problem: `${JSON.stringify(portText)} is not a port number` })
  const sdk = nonEmpty(env["MCP_SDK"]) ?? "v1"
  if (sdk !== "v1" && sdk !== "v2") throw new ConfigProblem({ setting: "MCP_SDK", problem: `${JSON.stringify(sdk)} is not one of: v1, v2` })
  const baseUrl = (nonEmpty(env["MCP_OAUTH_BASE_URL"]) ?? `http://${host.includes(":") ? `[${host}]` : host}:${port}`).replace(/\/+$/, "")
  const resource = `${baseUrl}/mcp`

  const variables = new Map(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined))
  const provider = Custom.layerConfig().pipe(Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(variables))))
  const auth = await McpAuth.make(
    McpAuth.layer({ resource, resourceSetting: "MCP_OAUTH_BASE_URL", resourceName: "mcp-oauth Express example" }, provider)
  )
  // declared for the HTTP layer too, so a token without `admin` gets a 403 step-up challenge before the server runs
  auth.policy.set("tool", "admin-report", adminOnly)

  const app = express()
  app.use(mcpAuthRouter(auth))
  app.all(
    "/mcp",
    // no body parser first: the guard reads the JSON-RPC body itself, and only for a valid token
    requireMcpAuth(auth),
    sdk === "v1" ? statelessMcpHandlerV1(createServerV1) : statelessMcpHandlerV2(createServerV2)
  )
  let server: Server
  try {
    server = await new Promise<Server>((resolve, reject) => {
      const listening = app.listen(port, host, () => resolve(listening))
      listening.once("error", reject)
    })
  } catch (error) {
    await auth.dispose()
    throw error
  }
  return {
    mcpUrl: resource,
    warnings: auth.warnings,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await auth.dispose()
    }
  }
}
