import { createServer } from "node:net"
import { Custom, McpAuth } from "@mcp-oauth/auth-core"
import type { CustomOptions } from "@mcp-oauth/auth-core/providers/Custom"
import { startTestIdp, type TestIdp, type TestIdpOptions } from "@mcp-oauth/testing"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { listen } from "../../src/index.js"
import { statelessHandlerV1 } from "../../src/sdkV1.js"
import { AuthInfo } from "@mcp-oauth/auth-core"

/** A free loopback port (the resource URL must be known before the IdP starts). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

/** An MCP server whose `whoami` tool returns the authenticated user as JSON. */
export const createWhoamiServer = (): McpServer => {
  const server = new McpServer({ name: "node-adapter-test", version: "0.0.0" })
  server.registerTool("whoami", { description: "The authenticated user" }, async (extra) => {
    const auth = AuthInfo.fromSdkAuthInfo(extra.authInfo)
    return {
      content: [
        {
          type: "text",
          text: JSON.stringify({ user: auth?.user, scopes: auth?.scopes, clientId: extra.authInfo?.clientId, sdkScopes: extra.authInfo?.scopes })
        }
      ]
    }
  })
  return server
}

/** A protected node:http MCP server in front of a running identity provider. */
export interface Protected {
  readonly origin: string
  readonly resource: string
  readonly metadataUrl: string
  readonly close: () => Promise<void>
}

/** Starts the node adapter protecting the whoami server for `issuer`. */
export const startProtected = async (options: {
  readonly port: number
  readonly provider: CustomOptions
  readonly scopesSupported?: ReadonlyArray<string>
  readonly requiredScopes?: ReadonlyArray<string>
  readonly allowedOrigins?: ReadonlyArray<string>
}): Promise<Protected> => {
  const origin = `http://127.0.0.1:${options.port}`
  const resource = `${origin}/mcp`
  const auth = await McpAuth.make(
    McpAuth.layer(
      { resource, scopesSupported: options.scopesSupported ?? ["mcp"], requiredScopes: options.requiredScopes, resourceName: "test" },
      Custom.layer(options.provider)
    ),
    options.allowedOrigins === undefined ? {} : { allowedOrigins: options.allowedOrigins }
  )
  const running = await listen(auth, statelessHandlerV1(createWhoamiServer), { port: options.port })
  return { origin, resource, metadataUrl: auth.metadataUrl, close: running.close }
}

/** An IdP and a protected server for it, on a fresh port. */
export const startStack = async (idpOptions: Partial<TestIdpOptions> = {}, provider: Partial<CustomOptions> = {}) => {
  const port = await freePort()
  const resource = `http://127.0.0.1:${port}/mcp`
  const idp: TestIdp = await startTestIdp({ resource, scopes: ["mcp", "admin"], ...idpOptions })
  const server = await startProtected({ port, provider: { issuer: idp.issuer, ...provider } })
  return {
    idp,
    server,
    close: async () => {
      await server.close()
      await idp.close()
    }
  }
}

/** A JSON-RPC `tools/call` over Streamable HTTP with a raw Authorization header (or none). */
export const callTool = (origin: string, authorization: string | Array<string> | undefined, name = "whoami", extraHeaders: Record<string, string> = {}) => {
  const headers = new Headers({ "content-type": "application/json", accept: "application/json, text/event-stream", ...extraHeaders })
  for (const value of authorization === undefined ? [] : Array.isArray(authorization) ? authorization : [authorization]) {
    headers.append("authorization", value)
  }
  return fetch(`${origin}/mcp`, {
    method: "POST",
    headers,
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: {} } })
  })
}
