/** An MCP server protected by the embedded development IdP, with its spans and metrics exported by OpenTelemetry. */
import { oauthCustomProvider } from "@mcp-oauth/auth-core"
import { MCPServer } from "@mcp-oauth/node/server"
import { startTestIdp } from "@mcp-oauth/testing"
import { telemetryLayer } from "./telemetry.js"

/** A running example. */
export interface OtelExample {
  readonly mcpUrl: string
  /** The development identity provider's issuer (for development only). */
  readonly devIssuer: string
  readonly close: () => Promise<void>
}

/** Starts the example on `PORT` (default 3000) of 127.0.0.1. */
export const startOtelExample = async (env: NodeJS.ProcessEnv): Promise<OtelExample> => {
  const port = Number(env["PORT"] ?? "3000")
  const mcpUrl = `http://127.0.0.1:${port}/mcp`
  const idp = await startTestIdp({ resource: mcpUrl, scopes: ["mcp"] })
  try {
    const server = new MCPServer({
      name: "mcp-oauth-otel-example",
      version: "0.1.0",
      oauth: oauthCustomProvider({ issuer: idp.issuer, scopes: ["mcp"] }),
      scopes: ["mcp"],
      // the one line that turns spans on: without it the tracer stays off and only the counters are kept
      telemetry: telemetryLayer(env)
    })
    server.tool({
      name: "whoami",
      description: "The authenticated user",
      cb: (_params, context) => ({ userId: context.auth.user.userId, scopes: context.auth.scopes })
    })
    await server.listen(port)
    return {
      mcpUrl,
      devIssuer: idp.issuer,
      close: async () => {
        // closing the server disposes the auth runtime, which flushes and shuts the exporters down
        await server.close()
        await idp.close()
      }
    }
  } catch (error) {
    await idp.close()
    throw error
  }
}
