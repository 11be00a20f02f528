import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Layer from "effect/Layer"
import { McpAuth } from "@mcp-oauth/auth-core"
import type { ConfigProblem } from "@mcp-oauth/auth-core/ConfigProblem"
import type { Provider } from "@mcp-oauth/auth-core/Provider"
import type { ResourceServer } from "@mcp-oauth/auth-core/ResourceServer"
import type { TokenVerifier } from "@mcp-oauth/auth-core/TokenVerifier"
import { startTestIdp, type TestIdp, type TestIdpOptions } from "@mcp-oauth/testing"
import { listen } from "../../../src/index.js"
import { statelessHandlerV1 } from "../../../src/sdkV1.js"
import { createWhoamiServer, freePort } from "../../support/harness.js"

/** A provider module's layer, as `Supabase.layer(...)`, `Keycloak.layer(...)` and `BetterAuth.layer(...)` return it. */
export type ProviderLayer = Layer.Layer<Provider | TokenVerifier, ConfigProblem, ResourceServer | HttpClient.HttpClient>

/** The test IdP playing a provider, and a node server protected by that provider's module. */
export interface ProviderStack {
  readonly idp: TestIdp
  readonly origin: string
  readonly resource: string
  readonly warnings: ReadonlyArray<string>
  readonly close: () => Promise<void>
}

/**
 * Starts the oidc-provider test IdP (configured to look like the provider) for a fresh resource URL, then a node
 * server whose `whoami` tool returns the authenticated user, protected by `provider(idp)`.
 */
export const startProviderStack = async (
  idpOptions: Omit<TestIdpOptions, "resource">,
  provider: (idp: TestIdp) => ProviderLayer,
  scopesSupported: ReadonlyArray<string>
): Promise<ProviderStack> => {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const resource = `${origin}/mcp`
  const idp = await startTestIdp({ ...idpOptions, resource })
  try {
    const auth = await McpAuth.make(McpAuth.layer({ resource, scopesSupported, resourceName: "provider e2e" }, provider(idp)))
    const running = await listen(auth, statelessHandlerV1(createWhoamiServer), { port })
    return {
      idp,
      origin,
      resource,
      warnings: auth.warnings,
      close: async () => {
        await running.close()
        await idp.close()
      }
    }
  } catch (error) {
    await idp.close()
    throw error
  }
}

/** The JSON the `whoami` tool returned. */
export const whoami = async (session: {
  readonly callTool: (name: string) => Promise<{ readonly content: ReadonlyArray<{ readonly text?: string }> }>
}): Promise<{ user: { userId: string; email?: string; name?: string; roles: Array<string>; permissions: Array<string> }; scopes: Array<string>; clientId?: string }> =>
  JSON.parse((await session.callTool("whoami")).content[0]?.text ?? "null")

/** GETs a JSON document. */
export const getJson = async (url: string): Promise<{ status: number; body: Record<string, unknown> }> => {
  const response = await fetch(url, { headers: { accept: "application/json" } })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}
