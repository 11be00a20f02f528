/**
 * Better Auth as the authorization server (remote mode): the app runs Better Auth with the JWT plugin and the MCP
 * (or OAuth 2.1 Provider) plugin, MCP clients register and sign in there, and this server verifies the JWT access
 * tokens it issues for this server's resource.
 *
 * Issuer: the app's Better Auth base URL including its base path (`https://app.example.com/api/auth`), or the JWT
 * plugin's `jwt.issuer` when set; keys at `{base URL}/api/auth/jwks` (the JWT plugin's `jwksPath`); EdDSA (Ed25519)
 * by default, so EdDSA is accepted next to the plugin's other algorithms (ES256, ES512, PS256, RS256); `aud` is the
 * `resource` the MCP client asked for. Access tokens are JWTs only when a `resource` was requested (MCP clients always
 * send it); opaque tokens are refused.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as ClaimMapping from "../ClaimMapping.js"
import type { ConfigProblem } from "../ConfigProblem.js"
import type { AsymmetricAlgorithm } from "../JwtVerifier.js"
import type { OAuthProvider } from "../OAuthProvider.js"
import { Provider } from "../Provider.js"
import { ResourceServer } from "../ResourceServer.js"
import * as TokenVerifier from "../TokenVerifier.js"
import { checkScopes, checkUrl } from "../internal/settings.js"
import * as Custom from "./Custom.js"
import { audienceWarnings, toList } from "./internal/hostedDomain.js"
import { isSenderConstrained, refine, toBaseUrl, toPath } from "./internal/selfHosted.js"
import { configuredLayer, facadeProvider, optionalList, optionalValue, providerLayer } from "./internal/providerModule.js"

/** Options of the Better Auth provider. */
export interface BetterAuthOptions extends Pick<Custom.CustomOptions, "scopes" | "typ" | "clockTolerance" | "jwks" | "mirrorMetadata"> {
  /**
   * The app's Better Auth URL (its `baseURL` / `BETTER_AUTH_URL`), as a bare host or a URL. As Better Auth itself
   * does, a URL with a path is taken as the full auth base URL and {@link basePath} is not appended.
   */
  readonly url: string
  /** Better Auth's `basePath` (default `/api/auth`). */
  readonly basePath?: string | undefined
  /** The JWT plugin's `jwt.issuer`, when the app sets one (default: the auth base URL, `{url}{basePath}`). */
  readonly issuer?: string | undefined
  /** The JWT plugin's `jwks.jwksPath` under the auth base URL (default `/jwks`). */
  readonly jwksPath?: string | undefined
  /** The key set URL, when the app publishes keys elsewhere (the JWT plugin's `jwks.remoteUrl`); wins over jwksPath. */
  readonly jwksUri?: string | undefined
  /**
   * Accepted audiences (default: this server's resource URL, the `resource` the MCP plugin binds tokens to).
   * Anything that does not name this server, such as the app's own base URL, is warned about at start.
   */
  readonly audience?: string | ReadonlyArray<string> | undefined
  /** Accepted signing algorithms (default every algorithm the JWT plugin can sign with, EdDSA first). */
  readonly algorithms?: ReadonlyArray<AsymmetricAlgorithm> | undefined
  /**
   * Where user fields live (defaults: `sub`, `email`, `name`, `roles`, `permissions`); Better Auth adds roles or
   * permissions to access tokens only through `customAccessTokenClaims`.
   */
  readonly claims?: ClaimMapping.ClaimMapping | undefined
}

/** The algorithms Better Auth's JWT plugin can sign with (`keyPairConfig.alg`); EdDSA with Ed25519 is its default. */
export const defaultAlgorithms: ReadonlyArray<AsymmetricAlgorithm> = ["EdDSA", "Ed25519", "ES256", "ES512", "PS256", "RS256"]

/** Better Auth's default `basePath`. */
export const defaultBasePath = "/api/auth"

/** The JWT plugin's default `jwks.jwksPath`. */
export const defaultJwksPath = "/jwks"

const optionNames = {
  url: "url",
  basePath: "basePath",
  issuer: "issuer",
  jwksPath: "jwksPath",
  jwksUri: "jwksUri",
  audience: "audience",
  scopes: "scopes"
} as const
const variableNames = {
  url: "MCP_OAUTH_BETTER_AUTH_URL",
  basePath: "MCP_OAUTH_BETTER_AUTH_BASE_PATH",
  issuer: "MCP_OAUTH_BETTER_AUTH_ISSUER",
  jwksPath: "MCP_OAUTH_BETTER_AUTH_JWKS_PATH",
  jwksUri: "MCP_OAUTH_BETTER_AUTH_JWKS_URI",
  audience: "MCP_OAUTH_BETTER_AUTH_AUDIENCE",
  scopes: "MCP_OAUTH_BETTER_AUTH_SCOPES"
} as const

/**
 * The auth base URL Better Auth stamps into tokens: `url` with `basePath` appended, unless `url` already has a path.
 * Fails naming the setting at fault.
 */
export const authBaseOf = (
  url: string,
  basePath: string | undefined,
  names: { readonly url: string; readonly basePath: string } = optionNames
): Effect.Effect<string, ConfigProblem> =>
  Effect.gen(function* () {
    const base = yield* toBaseUrl(names.url, url)
    if (new URL(base).pathname !== "/" && new URL(base).pathname !== "") return base
    const path = yield* toPath(names.basePath, basePath ?? defaultBasePath)
    return `${base}${path}`
  })

/** Validates the options, naming each problem after `names` (option names, or environment variables). */
const check = (options: BetterAuthOptions, names: Record<keyof typeof optionNames, string>) =>
  Effect.gen(function* () {
    const authBase = yield* authBaseOf(options.url, options.basePath, names)
    const issuer = options.issuer === undefined ? authBase : yield* checkUrl(names.issuer, options.issuer.trim(), "issuer")
    const jwksUri =
      options.jwksUri !== undefined
        ? yield* checkUrl(names.jwksUri, options.jwksUri.trim())
        : `${authBase}${yield* toPath(names.jwksPath, options.jwksPath ?? defaultJwksPath)}`
    const audience = options.audience === undefined ? undefined : yield* toList(names.audience, options.audience)
    yield* checkScopes(names.scopes, options.scopes ?? [])
    return { issuer, jwksUri, audience }
  })

/** Builds the provider and its verifier; nothing is fetched until the first token or metadata request. */
export const make = (
  options: BetterAuthOptions
): Effect.Effect<
  { readonly provider: typeof Provider.Service; readonly verifier: TokenVerifier.Service },
  ConfigProblem,
  ResourceServer | HttpClient.HttpClient
> =>
  Effect.gen(function* () {
    const { issuer, jwksUri, audience } = yield* check(options, optionNames)
    const server = yield* ResourceServer
    const audiences = audience ?? [server.resource]
    const warnings = audienceWarnings(
      "better-auth",
      audiences,
      server.resource,
      "configure the MCP plugin with resource: " +
        JSON.stringify(server.resource) +
        " so that tokens are bound to this server; as it is, any token the app issues for the accepted audience " +
        "(its own session JWTs included) is accepted here"
    )
    const { provider, verifier } = yield* Custom.make({
      name: "better-auth",
      issuer,
      jwksUri,
      audience: audiences,
      scopes: options.scopes,
      algorithms: options.algorithms ?? defaultAlgorithms,
      typ: options.typ,
      clockTolerance: options.clockTolerance,
      jwks: options.jwks,
      mirrorMetadata: options.mirrorMetadata,
      claims: options.claims,
      warnings
    })
    // DPoP-bound tokens (`cnf.jkt`) come with the DPoP scheme; presented as Bearer they would lose their binding
    const refined = refine(verifier, { check: (claims) => (isSenderConstrained(claims) ? "rejected" : undefined) })
    return { provider, verifier: refined }
  })

/** A layer providing {@link Provider} and {@link TokenVerifier.TokenVerifier} for a Better Auth app. */
export const layer = (
  options: BetterAuthOptions
): Layer.Layer<Provider | TokenVerifier.TokenVerifier, ConfigProblem, ResourceServer | HttpClient.HttpClient> =>
  providerLayer(make(options))

/** The environment variables read by {@link layerConfig}. */
export const config: Config.Config<BetterAuthOptions> = Config.all({
  url: Config.string(variableNames.url),
  basePath: optionalValue(variableNames.basePath),
  issuer: optionalValue(variableNames.issuer),
  jwksPath: optionalValue(variableNames.jwksPath),
  jwksUri: optionalValue(variableNames.jwksUri),
  audience: optionalList(variableNames.audience),
  scopes: optionalList(variableNames.scopes)
})

/**
 * Like {@link layer}, with options from configuration: `MCP_OAUTH_BETTER_AUTH_URL` (required), and optionally
 * `MCP_OAUTH_BETTER_AUTH_BASE_PATH`, `MCP_OAUTH_BETTER_AUTH_ISSUER`, `MCP_OAUTH_BETTER_AUTH_JWKS_PATH`,
 * `MCP_OAUTH_BETTER_AUTH_JWKS_URI`, `MCP_OAUTH_BETTER_AUTH_AUDIENCE` and `MCP_OAUTH_BETTER_AUTH_SCOPES`
 * (space- or comma-separated).
 */
export const layerConfig = (
  options: Config.Config<BetterAuthOptions> = config
): Layer.Layer<Provider | TokenVerifier.TokenVerifier, ConfigProblem, ResourceServer | HttpClient.HttpClient> =>
  // validated here too so that a message names the variable rather than the option
  configuredLayer(options, (resolved) => check(resolved, variableNames), layer)

/**
 * The Better Auth provider for the `MCPServer` facade (same options as {@link layer}); without options it reads the
 * environment like {@link layerConfig}.
 */
export const oauthBetterAuthProvider = (options?: BetterAuthOptions): OAuthProvider =>
  facadeProvider("better-auth", options, layer, layerConfig)
