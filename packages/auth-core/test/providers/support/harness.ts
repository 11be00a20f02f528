import type * as HttpClient from "@effect/platform/HttpClient"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import type { AuthInfo } from "../../../src/AuthInfo.js"
import type { ConfigProblem } from "../../../src/ConfigProblem.js"
import * as McpAuth from "../../../src/McpAuth.js"
import type { Provider } from "../../../src/Provider.js"
import { layer as resourceServerLayer, type ResourceServer } from "../../../src/ResourceServer.js"
import type * as TokenVerifier from "../../../src/TokenVerifier.js"
import * as OutboundHttp from "../../../src/internal/outboundHttp.js"

/** The MCP server's resource URL in these tests (nothing listens there; only the IdP stand-in is contacted). */
export const resource = "https://mcp.example.com/mcp"

/** The resource configuration and a real outbound client (redirects refused), as McpAuth.layer provides them. */
export const dependencies: Layer.Layer<ResourceServer | HttpClient.HttpClient, ConfigProblem> = Layer.merge(
  resourceServerLayer({ resource, scopesSupported: ["mcp"] }),
  OutboundHttp.layer
)

type Built = { readonly provider: typeof Provider.Service; readonly verifier: TokenVerifier.Service }

/** Runs a provider module's `make` with the test dependencies. */
export const build = <E>(make: Effect.Effect<Built, E, ResourceServer | HttpClient.HttpClient>) =>
  make.pipe(Effect.provide(dependencies))

/** The principal of a token, or fails. */
export const verify = (built: Built, token: string): Effect.Effect<AuthInfo, unknown> =>
  built.verifier.verify(Redacted.make(token))

/** Why a token is refused: the InvalidToken reason, or the error's tag. */
export const refusal = (built: Built, token: string): Effect.Effect<string, AuthInfo> =>
  built.verifier.verify(Redacted.make(token)).pipe(
    Effect.flip,
    Effect.map((error) => (error._tag === "InvalidToken" ? error.reason : error._tag))
  )

/** Builds a provider layer with configuration read from `env` only; the ConfigProblem on failure. */
export const buildFromEnv = (
  layer: Layer.Layer<Provider | TokenVerifier.TokenVerifier, ConfigProblem, ResourceServer | HttpClient.HttpClient>,
  env: Record<string, string>
) =>
  Layer.build(layer).pipe(
    Effect.scoped,
    Effect.provide(dependencies),
    Effect.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))
  )

/** The framework-neutral HTTP surface for a provider layer (what every adapter wraps). */
export const protect = (
  layer: Layer.Layer<Provider | TokenVerifier.TokenVerifier, ConfigProblem, ResourceServer | HttpClient.HttpClient>
) => McpAuth.make(McpAuth.layer({ resource, scopesSupported: ["mcp"], resourceName: "test" }, layer))

/** GETs a path from the HTTP surface and parses the JSON body. */
export const getJson = async (auth: McpAuth.McpAuth, pathname: string) => {
  const answer = await auth.route({ method: "GET", pathname })
  if (answer === undefined) throw new Error(`no route for ${pathname}`)
  return { status: answer.status, headers: answer.headers, body: JSON.parse(answer.body ?? "null") as Record<string, unknown> }
}
