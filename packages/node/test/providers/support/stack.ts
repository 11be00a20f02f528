import { McpAuth, type OAuthProvider } from "@mcp-oauth/auth-core"
import { startTestIdp, type TestIdp, type TestIdpOptions } from "@mcp-oauth/testing"
import { listen, type Listening } from "../../../src/index.js"
import { statelessHandlerV1 } from "../../../src/sdkV1.js"
import { createWhoamiServer, freePort } from "../../support/harness.js"

/** An IdP playing a hosted provider, and a node:http MCP server (the `whoami` tool) protected by that provider. */
export interface ProviderStack {
  readonly idp: TestIdp
  readonly server: Listening
  readonly auth: McpAuth.McpAuth
  /** The MCP server's origin and resource URL. */
  readonly origin: string
  readonly resource: string
  readonly close: () => Promise<void>
}

/** Starts the IdP for the server's resource URL, then the server with `provider(idp)`. */
export const startProviderStack = async (
  idpOptions: Omit<TestIdpOptions, "resource">,
  provider: (idp: TestIdp) => OAuthProvider
): Promise<ProviderStack> => {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const resource = `${origin}/mcp`
  const idp = await startTestIdp({ ...idpOptions, resource })
  try {
    const auth = await McpAuth.make(McpAuth.layer({ resource, scopesSupported: ["mcp"], resourceName: "provider e2e" }, provider(idp).layer))
    const server = await listen(auth, statelessHandlerV1(createWhoamiServer), { port })
    return {
      idp,
      server,
      auth,
      origin,
      resource,
      close: async () => {
        await server.close()
        await idp.close()
      }
    }
  } catch (error) {
    await idp.close()
    throw error
  }
}

/** The `whoami` tool's answer through an SDK session. */
export const whoami = async (session: { callTool: (name: string) => Promise<{ content: ReadonlyArray<{ text?: string }> }> }) =>
  JSON.parse((await session.callTool("whoami")).content[0]?.text ?? "null")

/** A raw `tools/list` with a bearer token. */
export const listTools = (origin: string, token: string) =>
  fetch(`${origin}/mcp`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" })
  })

/** Fetches JSON. */
export const getJson = async (url: string): Promise<Record<string, unknown>> => {
  const response = await fetch(url)
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status}`)
  return (await response.json()) as Record<string, unknown>
}
