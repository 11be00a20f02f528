/**
 * Any OpenID Connect provider as the proxy's upstream, from its discovery document: endpoints, key set and client
 * authentication method come from `{issuer}/.well-known/openid-configuration` (or RFC 8414 metadata), whose `issuer`
 * must equal the configured one exactly. The provider must support PKCE with S256 when it says which methods it
 * supports; when it says nothing, a warning is given.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import { ConfigProblem } from "../../ConfigProblem.js"
import * as Discovery from "../../Discovery.js"
import type { UpstreamUnavailable } from "../../Errors.js"
import type { AuthorizationServerMetadata } from "../../Metadata.js"
import { checkUrl } from "../../internal/settings.js"
import { fromConfig, optionalList, optionalString, requireSecret, requireText, scopeList } from "./settings.js"
import { type IssuerPolicy, type TokenEndpointAuthMethod, type UpstreamPreset, verifyOidcTokens } from "./UpstreamPreset.js"

/** Options of the generic preset. */
export interface GenericOptions {
  /** The issuer identifier; discovery starts from it and its document must name it exactly. */
  readonly issuer: string
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  /** Scopes asked for (default `openid email profile`). */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** How the secret is sent (default: `client_secret_basic` when supported, else `client_secret_post`). */
  readonly tokenEndpointAuthMethod?: TokenEndpointAuthMethod | undefined
  /** The audience of the upstream's JWT access tokens; when set they are verified, else the ID token is. */
  readonly audience?: string | undefined
}

/** Setting names for problems: the options. */
export const optionNames = {
  issuer: "issuer",
  clientId: "clientId",
  clientSecret: "clientSecret",
  scopes: "scopes",
  tokenEndpointAuthMethod: "tokenEndpointAuthMethod",
  audience: "audience"
} as const

/** The environment variables of {@link config}. */
export const variableNames = {
  issuer: "MCP_OAUTH_UPSTREAM_ISSUER",
  clientId: "MCP_OAUTH_UPSTREAM_CLIENT_ID",
  clientSecret: "MCP_OAUTH_UPSTREAM_CLIENT_SECRET",
  scopes: "MCP_OAUTH_UPSTREAM_SCOPES",
  tokenEndpointAuthMethod: "MCP_OAUTH_UPSTREAM_TOKEN_ENDPOINT_AUTH_METHOD",
  audience: "MCP_OAUTH_UPSTREAM_AUDIENCE"
} as const

/** Builds the preset from an already fetched (and issuer-checked) metadata document. */
export const fromMetadata = (
  metadata: AuthorizationServerMetadata,
  options: GenericOptions,
  names: Record<keyof typeof optionNames, string> = optionNames
): Effect.Effect<UpstreamPreset, ConfigProblem> =>
  Effect.gen(function* () {
    const issuer = yield* checkUrl(names.issuer, options.issuer, "issuer")
    if (metadata.issuer !== issuer) {
      return yield* new ConfigProblem({ setting: names.issuer, problem: "does not match the issuer in the provider's metadata" })
    }
    const clientId = yield* requireText(names.clientId, options.clientId)
    const clientSecret = yield* requireSecret(names.clientSecret, options.clientSecret)
    const scopes = yield* scopeList(names.scopes, options.scopes ?? ["openid", "email", "profile"])
    const audience = options.audience === undefined ? undefined : yield* requireText(names.audience, options.audience)

    // endpoints from the document are checked like configured ones: https, no fragment, no credentials
    const endpoint = (member: "authorization_endpoint" | "token_endpoint" | "revocation_endpoint" | "introspection_endpoint" | "userinfo_endpoint" | "jwks_uri") => {
      const value = metadata[member]
      return typeof value === "string" ? Effect.map(checkUrl(`${names.issuer} metadata ${member}`, value), (url) => url as string | undefined) : Effect.succeed(undefined)
    }
    const authorizationEndpoint = yield* endpoint("authorization_endpoint")
    const tokenEndpoint = yield* endpoint("token_endpoint")
    if (authorizationEndpoint === undefined || tokenEndpoint === undefined) {
      return yield* new ConfigProblem({ setting: names.issuer, problem: "metadata lacks an authorization or token endpoint" })
    }
    const jwksUri = yield* endpoint("jwks_uri")
    if (jwksUri === undefined) {
      return yield* new ConfigProblem({ setting: names.issuer, problem: "metadata has no jwks_uri, so the upstream's tokens cannot be verified" })
    }

    const warnings: Array<string> = []
    const challengeMethods = metadata.code_challenge_methods_supported
    if (challengeMethods === undefined) {
      warnings.push(`generic: ${issuer} does not say whether it supports PKCE; the proxy sends S256 challenges regardless`)
    } else if (!challengeMethods.includes("S256")) {
      return yield* new ConfigProblem({ setting: names.issuer, problem: "the provider does not support PKCE with S256" })
    }

    // RFC 8414 §2: when the member is absent, client_secret_basic is the default
    const supported = metadata.token_endpoint_auth_methods_supported ?? ["client_secret_basic"]
    let tokenEndpointAuthMethod: TokenEndpointAuthMethod
    if (options.tokenEndpointAuthMethod !== undefined) {
      if (!supported.includes(options.tokenEndpointAuthMethod)) {
        return yield* new ConfigProblem({ setting: names.tokenEndpointAuthMethod, problem: "is not supported by the provider" })
      }
      tokenEndpointAuthMethod = options.tokenEndpointAuthMethod
    } else if (supported.includes("client_secret_basic")) {
      tokenEndpointAuthMethod = "client_secret_basic"
    } else if (supported.includes("client_secret_post")) {
      tokenEndpointAuthMethod = "client_secret_post"
    } else {
      return yield* new ConfigProblem({ setting: names.issuer, problem: "the provider supports neither client_secret_basic nor client_secret_post" })
    }

    const revocationEndpoint = yield* endpoint("revocation_endpoint")
    const introspectionEndpoint = yield* endpoint("introspection_endpoint")
    const userinfoEndpoint = yield* endpoint("userinfo_endpoint")
    const policy: IssuerPolicy = { kind: "exact", issuers: [issuer] }
    return {
      name: "generic",
      issuer,
      authorizationEndpoint,
      tokenEndpoint,
      revocationEndpoint,
      introspectionEndpoint,
      userinfoEndpoint,
      jwksUri,
      clientId,
      clientSecret,
      tokenEndpointAuthMethod,
      tokenRequestHeaders: { accept: "application/json" },
      authorizationParams: {},
      defaultScopes: scopes,
      scopeForm: { kind: "plain" },
      idTokenIssuer: policy,
      verifyUpstream: verifyOidcTokens(jwksUri, clientId, audience, policy),
      warnings
    }
  })

/** Discovers the provider's metadata and builds the preset. */
export const make = (
  options: GenericOptions,
  names: Record<keyof typeof optionNames, string> = optionNames
): Effect.Effect<UpstreamPreset, ConfigProblem | UpstreamUnavailable, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const issuer = yield* checkUrl(names.issuer, options.issuer, "issuer")
    const discovery = yield* Discovery.make({ issuer }).pipe(
      Effect.mapError((problem) => new ConfigProblem({ setting: names.issuer, problem: problem.problem }))
    )
    const metadata = yield* discovery.metadata
    return yield* fromMetadata(metadata, options, names)
  })

const authMethod = Config.literal("client_secret_basic", "client_secret_post")(variableNames.tokenEndpointAuthMethod)

/** The environment variables read by {@link fromEnvironment}. */
export const config: Config.Config<GenericOptions> = Config.all({
  issuer: Config.string(variableNames.issuer),
  clientId: Config.string(variableNames.clientId),
  clientSecret: Config.redacted(variableNames.clientSecret),
  scopes: optionalList(variableNames.scopes),
  tokenEndpointAuthMethod: Config.option(authMethod).pipe(Config.map(Option.getOrUndefined)),
  audience: optionalString(variableNames.audience)
})

/**
 * The generic preset from `MCP_OAUTH_UPSTREAM_ISSUER`, `MCP_OAUTH_UPSTREAM_CLIENT_ID`,
 * `MCP_OAUTH_UPSTREAM_CLIENT_SECRET` (required), `MCP_OAUTH_UPSTREAM_SCOPES`,
 * `MCP_OAUTH_UPSTREAM_TOKEN_ENDPOINT_AUTH_METHOD` and `MCP_OAUTH_UPSTREAM_AUDIENCE`; the provider's metadata is
 * fetched (an unreachable provider fails with `UpstreamUnavailable`).
 */
export const fromEnvironment: Effect.Effect<UpstreamPreset, ConfigProblem | UpstreamUnavailable, HttpClient.HttpClient> =
  fromConfig(config, (options) => make(options, variableNames))
