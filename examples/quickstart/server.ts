/** The quickstart MCP server, written with the `MCPServer` facade: the signed-in user's profile and an admin tool. */
import { oauthCustomProvider } from "@mcp-oauth/auth-core"
import { MCPServer } from "@mcp-oauth/node/server"
import { startTestIdp } from "@mcp-oauth/testing"
import { readSettings } from "./config.js"
import { providerFromEnv, proxyNames } from "./providers.js"

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
  const mcpUrl = `${settings.baseUrl}/mcp`
  const idp =
    settings.provider === "dev"
      ? await startTestIdp({ resource: mcpUrl, scopes: [...new Set([...settings.scopes, "admin"])] })
      : undefined
  try {
    const server = new MCPServer({
      name: "mcp-oauth-quickstart",
      version: "0.1.0",
      oauth:
        settings.provider === "dev"
          ? oauthCustomProvider({ issuer: idp!.issuer, scopes: [...settings.scopes, "admin"] })
          : providerFromEnv(
              settings.provider,
              // the proxy grants the scopes its consent page shows: the server's, plus admin for the step-up tool
              proxyNames.has(settings.provider) ? { MCP_OAUTH_PROXY_SCOPES: [...settings.scopes, "admin"].join(" "), ...env } : env
            ),
      baseUrl: settings.baseUrl,
      host: settings.host,
      scopes: settings.scopes
    })
    server.tool({
      name: "get-user-profile",
      description: "Get the authenticated user's profile",
      cb: async (_params, context) => {
        const { userId, email, name } = context.auth.user
        return { userId, email, name }
      }
    })
    server.tool({
      name: "admin-report",
      description: "A report for administrators (needs scope admin; clients step up to it)",
      requires: { scopes: ["admin"] },
      cb: async (_params, context) => ({ report: "all systems nominal", requestedBy: context.auth.user.userId })
    })
    await server.listen(settings.port)
    return {
      mcpUrl,
      devIssuer: idp?.issuer,
      warnings: server.warnings,
      close: async () => {
        await server.close()
        await idp?.close()
      }
    }
  } catch (error) {
    await idp?.close()
    throw error
  }
}
