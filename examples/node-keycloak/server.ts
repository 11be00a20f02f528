/**
 * A node:http MCP server protected by a Keycloak realm (remote mode): MCP clients sign in at the realm, this server
 * verifies the realm's JWT access tokens. Run it with `npm run example:node-keycloak`.
 *
 * Variables: MCP_OAUTH_KEYCLOAK_URL (required, e.g. https://sso.example.com), MCP_OAUTH_KEYCLOAK_REALM (required unless
 * the URL ends with /realms/{realm}), MCP_OAUTH_KEYCLOAK_CLIENT_ID (adds that client's roles), MCP_OAUTH_KEYCLOAK_AUDIENCE,
 * MCP_OAUTH_KEYCLOAK_SCOPES, MCP_OAUTH_BASE_URL (public origin; default http://HOST:PORT), HOST (127.0.0.1), PORT (3000).
 * Realm setup (the Audience mapper that puts this server's URL into `aud`): docs/providers/keycloak.md.
 */
import { ConfigProvider, Layer } from "effect"
import { AuthContext, Keycloak, McpAuth } from "@mcp-oauth/auth-core"
import { ConfigProblem } from "@mcp-oauth/auth-core/ConfigProblem"
import { listen, type Listening } from "@mcp-oauth/node"
import { statelessHandlerV2 } from "@mcp-oauth/node/sdk-v2"
import { McpServer } from "@modelcontextprotocol/server"

const text = (value: unknown) => ({ content: [{ type: "text" as const, text: JSON.stringify(value) }] })

/** A fresh MCP server per request; tools read the caller from the SDK's `ctx`. */
const createServer = () => {
  const server = new McpServer({ name: "node-keycloak-example", version: "0.1.0" })
  server.registerTool("get-user-profile", { description: "The signed-in Keycloak user" }, async (ctx) => {
    const auth = AuthContext.of(ctx)
    if (auth === undefined) throw new Error("no authenticated user")
    return text({ userId: auth.user.userId, name: auth.user.name, email: auth.user.email, roles: auth.roles })
  })
  return server
}

/** Starts the server from an environment; a bad or missing variable rejects with a ConfigProblem naming it. */
export const start = async (env: NodeJS.ProcessEnv): Promise<Listening & { readonly mcpUrl: string; readonly warnings: ReadonlyArray<string> }> => {
  const host = env["HOST"] || "127.0.0.1"
  const port = Number(env["PORT"] || "3000")
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigProblem({ setting: "PORT", problem: "is not a port number" })
  const baseUrl = env["MCP_OAUTH_BASE_URL"] || `http://${host}:${port}`
  // the provider reads its MCP_OAUTH_KEYCLOAK_* variables from this environment rather than process.env, so tests can pass theirs
  const variables = ConfigProvider.fromMap(new Map(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)))
  const auth = await McpAuth.make(
    McpAuth.layer(
      { resource: `${baseUrl.replace(/\/+$/, "")}/mcp`, resourceSetting: "MCP_OAUTH_BASE_URL", resourceName: "Keycloak example" },
      Keycloak.layerConfig().pipe(Layer.provide(Layer.setConfigProvider(variables)))
    )
  )
  const listening = await listen(auth, statelessHandlerV2(createServer), { port, host }).catch(async (error: unknown) => {
    await auth.dispose()
    throw error
  })
  return { ...listening, mcpUrl: auth.resource, warnings: auth.warnings }
}
