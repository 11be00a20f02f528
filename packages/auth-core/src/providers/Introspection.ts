/**
 * Any OAuth 2.0 authorization server whose access tokens are opaque and checked by token introspection (RFC 7662),
 * with this server as a confidential client of it.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { ConfigProblem } from "../ConfigProblem.js"
import * as Discovery from "../Discovery.js"
import * as IntrospectionVerifier from "../IntrospectionVerifier.js"
import type { OAuthProvider } from "../OAuthProvider.js"
import { Provider } from "../Provider.js"
import { ResourceServer } from "../ResourceServer.js"
import * as TokenVerifier from "../TokenVerifier.js"
import { checkScopes, checkUrl } from "../internal/settings.js"
import { configuredLayer, optionalList, optionalValue, providerLayer } from "./internal/providerModule.js"

/** Options of an introspection provider: the verifier's, with the issuer required and the audience defaulted. */
export interface IntrospectionOptions extends Omit<IntrospectionVerifier.IntrospectionVerifierOptions, "issuer" | "audience"> {
  /** The authorization server's issuer identifier, listed in the protected resource metadata. */
  readonly issuer: string
  /** Accepted audiences (default: this server's resource URL). */
  readonly audience?: string | ReadonlyArray<string> | undefined
  /** Scopes this server accepts from the issuer, advertised in the metadata and in 401 challenges. */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** Mirror the issuer's metadata at this server's well-known authorization-server URLs (default true). */
  readonly mirrorMetadata?: boolean | undefined
  /** The provider's name in logs (default `introspection`). */
  readonly name?: string | undefined
}

/** Builds the provider and its verifier; settings are validated here, the issuer is not contacted yet. */
export const make = (
  options: IntrospectionOptions
): Effect.Effect<
  { readonly provider: typeof Provider.Service; readonly verifier: TokenVerifier.Service },
  ConfigProblem,
  ResourceServer | HttpClient.HttpClient
> =>
  Effect.gen(function* () {
    const issuer = yield* checkUrl("issuer", options.issuer, "issuer")
    yield* checkScopes("scopes", options.scopes ?? [])
    const server = yield* ResourceServer
    // one discovery per provider, shared by the endpoint lookup (when not given) and the mirrored metadata
    const discovery = yield* Discovery.make({ ...options.discovery, issuer })
    const { scopes: _scopes, mirrorMetadata, name, ...verifierOptions } = options
    const verifier = yield* IntrospectionVerifier.make(
      { ...verifierOptions, issuer, audience: options.audience ?? server.resource },
      { discovery }
    )
    const warnings =
      options.requireAudience === false
        ? ["token introspection: responses without `aud` are accepted, so tokens are not checked to be meant for this server"]
        : []
    const provider: typeof Provider.Service = {
      name: name ?? "introspection",
      authorizationServers: [issuer],
      scopesSupported: options.scopes,
      metadata: mirrorMetadata === false ? undefined : discovery.metadata,
      warnings
    }
    return { provider, verifier }
  })

/** A layer providing {@link Provider} and {@link TokenVerifier.TokenVerifier} for an introspecting authorization server. */
export const layer = (
  options: IntrospectionOptions
): Layer.Layer<Provider | TokenVerifier.TokenVerifier, ConfigProblem, ResourceServer | HttpClient.HttpClient> =>
  providerLayer(make(options))

/** The environment variables read by {@link layerConfig}. */
export const config: Config.Config<IntrospectionOptions> = Config.all({
  issuer: Config.string("MCP_OAUTH_ISSUER"),
  endpoint: optionalValue("MCP_OAUTH_INTROSPECTION_URL"),
  clientId: Config.string("MCP_OAUTH_INTROSPECTION_CLIENT_ID"),
  clientSecret: Config.redacted("MCP_OAUTH_INTROSPECTION_CLIENT_SECRET"),
  clientAuthMethod: Config.option(
    Config.literal("client_secret_basic", "client_secret_post")("MCP_OAUTH_INTROSPECTION_AUTH_METHOD")
  ).pipe(Config.map(Option.getOrUndefined)),
  audience: optionalList("MCP_OAUTH_AUDIENCE"),
  scopes: optionalList("MCP_OAUTH_SCOPES")
})

/**
 * Like {@link layer}, with options from configuration: `MCP_OAUTH_ISSUER`, `MCP_OAUTH_INTROSPECTION_CLIENT_ID` and
 * `MCP_OAUTH_INTROSPECTION_CLIENT_SECRET` (required), `MCP_OAUTH_INTROSPECTION_URL` (discovered when absent),
 * `MCP_OAUTH_INTROSPECTION_AUTH_METHOD` (`client_secret_basic` or `client_secret_post`), `MCP_OAUTH_AUDIENCE` and
 * `MCP_OAUTH_SCOPES` (space- or comma-separated).
 */
export const layerConfig = (
  options: Config.Config<IntrospectionOptions> = config
): Layer.Layer<Provider | TokenVerifier.TokenVerifier, ConfigProblem, ResourceServer | HttpClient.HttpClient> =>
  // validated here too so that the message names the variable rather than the option
  configuredLayer(
    options,
    (resolved) =>
      Effect.gen(function* () {
        yield* checkUrl("MCP_OAUTH_ISSUER", resolved.issuer, "issuer")
        if (resolved.endpoint !== undefined) yield* checkUrl("MCP_OAUTH_INTROSPECTION_URL", resolved.endpoint)
        if (resolved.clientId === "") {
          return yield* new ConfigProblem({ setting: "MCP_OAUTH_INTROSPECTION_CLIENT_ID", problem: "is required" })
        }
        if (Redacted.value(resolved.clientSecret) === "") {
          return yield* new ConfigProblem({ setting: "MCP_OAUTH_INTROSPECTION_CLIENT_SECRET", problem: "is required" })
        }
      }),
    layer
  )

/** The introspection provider for the `MCPServer` facade (same options as {@link layer}). */
export const oauthIntrospectionProvider = (options: IntrospectionOptions): OAuthProvider => ({
  name: options.name ?? "introspection",
  layer: layer(options)
})
