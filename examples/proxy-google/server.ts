/**
 * A node:http MCP server whose users sign in with Google, through the OAuth proxy (Google has no dynamic client
 * registration: MCP clients register with this server, approve its consent page, sign in at Google, and receive this
 * server's own tokens). Run it with `npm run example:proxy-google`.
 *
 * Variables: MCP_OAUTH_GOOGLE_CLIENT_ID and MCP_OAUTH_GOOGLE_CLIENT_SECRET (required: a "Web application" OAuth client
 * whose redirect URI is {MCP_OAUTH_BASE_URL}/oauth/callback), MCP_OAUTH_GOOGLE_HOSTED_DOMAINS (Workspace domains
 * allowed to sign in), MCP_OAUTH_GOOGLE_SCOPES, MCP_OAUTH_GOOGLE_OFFLINE; the proxy's MCP_OAUTH_PROXY_SIGNING_KEY,
 * MCP_OAUTH_PROXY_ENCRYPTION_KEY and MCP_OAUTH_PROXY_COOKIE_SECRET (generated with a warning when absent),
 * MCP_OAUTH_PROXY_TRUSTED_PROXIES; MCP_OAUTH_BASE_URL (public origin; default http://HOST:PORT), HOST (127.0.0.1),
 * PORT (3000). See docs/proxy-presets.md#google and docs/proxy.md.
 */
import { ConfigProvider, Layer } from "effect"
import { AuthContext, McpAuth, OAuthProxy } from "@mcp-oauth/auth-core"
import { ConfigProblem } from "@mcp-oauth/auth-core/ConfigProblem"
import { listen, type Listening } from "@mcp-oauth/node"
import { statelessHandlerV1 } from "@mcp-oauth/node/sdk-v1"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"

/** A fresh MCP server per request; tools read the caller from the SDK's `extra`. */
const createServer = () => {
  const server = new McpServer({ name: "proxy-google-example", version: "0.1.0" })
  server.registerTool("get-user-profile", { description: "The signed-in Google user" }, async (extra) => {
    const auth = AuthContext.of(extra)
    if (auth === undefined) throw new Error("no authenticated user")
    // the proxy's tokens carry Google's subject and the verified email and name from the sign-in
    const profile = { userId: auth.user.userId, email: auth.user.email, name: auth.user.name }
    return { content: [{ type: "text", text: JSON.stringify(profile) }] }
  })
  return server
}

/** Starts the server from an environment; a bad or missing variable rejects with a ConfigProblem naming it. */
export const start = async (env: NodeJS.ProcessEnv): Promise<Listening & { readonly mcpUrl: string; readonly warnings: ReadonlyArray<string> }> => {
  const host = env["HOST"] || "127.0.0.1"
  const port = Number(env["PORT"] || "3000")
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigProblem({ setting: "PORT", problem: "is not a port number" })
  const baseUrl = env["MCP_OAUTH_BASE_URL"] || `http://${host}:${port}`
  // the preset reads its MCP_OAUTH_GOOGLE_* and MCP_OAUTH_PROXY_* variables from this environment rather than process.env
  const variables = ConfigProvider.fromMap(new Map(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)))
  const auth = await McpAuth.make(
    McpAuth.layer(
      { resource: `${baseUrl.replace(/\/+$/, "")}/mcp`, resourceSetting: "MCP_OAUTH_BASE_URL", scopesSupported: ["mcp"] },
      OAuthProxy.layerPreset("google").pipe(Layer.provide(Layer.setConfigProvider(variables)))
      // one instance keeps the proxy's state in memory; several share a Store: docs/deployment.md
    )
  )
  const listening = await listen(auth, statelessHandlerV1(createServer), { port, host }).catch(async (error: unknown) => {
    await auth.dispose()
    throw error
  })
  return { ...listening, mcpUrl: auth.resource, warnings: auth.warnings }
}
