/**
 * An MCP server whose users sign in with GitHub, through the OAuth proxy (GitHub has no dynamic client registration:
 * MCP clients register with this server, approve its consent page, sign in at GitHub, and receive this server's own
 * tokens). Written with the `MCPServer` facade. Run it with `npm run example:proxy-github`.
 *
 * Variables: MCP_OAUTH_GITHUB_CLIENT_ID and MCP_OAUTH_GITHUB_CLIENT_SECRET (required: an OAuth App whose callback URL
 * is {MCP_OAUTH_BASE_URL}/oauth/callback), MCP_OAUTH_GITHUB_SCOPES, MCP_OAUTH_GITHUB_WEB_URL and MCP_OAUTH_GITHUB_API_URL
 * (GitHub Enterprise Server); the proxy's MCP_OAUTH_PROXY_SIGNING_KEY, MCP_OAUTH_PROXY_ENCRYPTION_KEY and
 * MCP_OAUTH_PROXY_COOKIE_SECRET (generated with a warning when absent), MCP_OAUTH_PROXY_TRUSTED_PROXIES;
 * MCP_OAUTH_BASE_URL (public origin; default http://HOST:PORT), HOST (127.0.0.1), PORT (3000).
 * See docs/proxy-presets.md#github and docs/proxy.md.
 */
import { ConfigProvider, Layer } from "effect"
import { OAuthProxy } from "@mcp-oauth/auth-core"
import { ConfigProblem } from "@mcp-oauth/auth-core/ConfigProblem"
import { MCPServer } from "@mcp-oauth/node/server"

/** Starts the server from an environment; a bad or missing variable rejects with a ConfigProblem naming it. */
export const start = async (env: NodeJS.ProcessEnv) => {
  const host = env["HOST"] || "127.0.0.1"
  const port = Number(env["PORT"] || "3000")
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigProblem({ setting: "PORT", problem: "is not a port number" })
  // the preset reads its MCP_OAUTH_GITHUB_* and MCP_OAUTH_PROXY_* variables from this environment rather than process.env
  const variables = ConfigProvider.fromMap(new Map(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)))
  const server = new MCPServer({
    name: "proxy-github-example",
    version: "0.1.0",
    oauth: { name: "github", layer: OAuthProxy.layerPreset("github").pipe(Layer.provide(Layer.setConfigProvider(variables))) },
    baseUrl: env["MCP_OAUTH_BASE_URL"] || `http://${host}:${port}`,
    host,
    scopes: ["mcp"]
  })
  server.tool({
    name: "get-user-profile",
    description: "The signed-in GitHub user",
    // the proxy's tokens carry the GitHub user id as the subject, and the name and email GitHub returned at sign-in
    cb: async (_params, { auth }) => ({ userId: auth.user.userId, name: auth.user.name, email: auth.user.email })
  })
  await server.listen(port)
  return { mcpUrl: server.url!, warnings: server.warnings, close: () => server.close() }
}
