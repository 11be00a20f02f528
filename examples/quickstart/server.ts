/** The quickstart MCP server: one tool that returns the signed-in user, protected by an identity provider. */
import { ConfigProvider, Layer } from "effect"
import { AuthInfo, Custom, McpAuth } from "@mcp-oauth/auth-core"
import { listen } from "@mcp-oauth/node"
import { statelessHandlerV1 } from "@mcp-oauth/node/sdk-v1"
import { startTestIdp } from "@mcp-oauth/testing"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { readSettings } from "./config.js"

/** The MCP server with its one tool; a new instance serves each request. */
export const createMcpServer = (): McpServer => {
  const server = new McpServer({ name: "mcp-oauth-quickstart", version: "0.1.0" })
  server.registerTool(
    "get-user-profile",
    { description: "Get the authenticated user's profile" },
    async (extra) => {
      const auth = AuthInfo.fromSdkAuthInfo(extra.authInfo)
      if (auth === undefined) throw new Error("no authenticated user")
      const { userId, email, name } = auth.user
      return { content: [{ type: "text", text: JSON.stringify({ userId, email, name }) }] }
    }
  )
  return server
}

/** A running quickstart. */
export interface Quickstart {
  readonly mcpUrl: string
  /** The development identity provider's issuer, when it runs embedded. */
  readonly devIssuer: string | undefined
  readonly warnings: ReadonlyArray<string>
  readonly close: () => Promise<void>
}

/** Starts the quickstart from an environment (process.env in `npm start`); bad settings reject with a ConfigProblem. */
export const startQuickstart = async (env: NodeJS.ProcessEnv): Promise<Quickstart> => {
  const settings = readSettings(env)
  const resource = `${settings.baseUrl}/mcp`
  const resourceOptions = {
    resource,
    resourceSetting: "MCP_OAUTH_BASE_URL",
    resourceName: "mcp-oauth quickstart",
    scopesSupported: settings.scopes
  }
  const idp = settings.provider === "dev" ? await startTestIdp({ resource, scopes: [...settings.scopes] }) : undefined
  try {
    const provider =
      idp !== undefined
        ? Custom.layer({ issuer: idp.issuer })
        : Custom.layerConfig().pipe(
            Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)))))
          )
    const auth = await McpAuth.make(McpAuth.layer(resourceOptions, provider))
    const running = await listen(auth, statelessHandlerV1(createMcpServer), { port: settings.port, host: settings.host })
    return {
      mcpUrl: resource,
      devIssuer: idp?.issuer,
      warnings: auth.warnings,
      close: async () => {
        await running.close()
        await idp?.close()
      }
    }
  } catch (error) {
    await idp?.close()
    throw error
  }
}
