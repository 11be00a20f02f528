/**
 * Any OAuth 2.1 / OIDC authorization server that issues JWT access tokens: an issuer, its key set, the claims.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as ClaimMapping from "../ClaimMapping.js"
import type { ConfigProblem } from "../ConfigProblem.js"
import type { OAuthProvider } from "../OAuthProvider.js"
import * as Discovery from "../Discovery.js"
import * as Jwks from "../Jwks.js"
import * as JwtVerifier from "../JwtVerifier.js"
import { Provider } from "../Provider.js"
import { ResourceServer } from "../ResourceServer.js"
import * as Telemetry from "../Telemetry.js"
import * as TokenVerifier from "../TokenVerifier.js"
import * as VerifiedTokenCache from "../VerifiedTokenCache.js"
import { discoveredJwks } from "../internal/discoveredJwks.js"
import { checkScopes, checkUrl, fromConfigError, splitList } from "../internal/settings.js"

/** Options of a custom provider. */
export interface CustomOptions {
  /** The authorization server's issuer identifier, compared exactly with tokens' `iss`. */
  readonly issuer: string
  /** The key set URL; discovered from the issuer's metadata when absent. */
  readonly jwksUri?: string | undefined
  /** Accepted audiences (default: this server's resource URL). */
  readonly audience?: string | ReadonlyArray<string> | undefined
  /** Scopes this server accepts from the issuer, advertised in the metadata and in 401 challenges. */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** Where the user's fields live in the token. */
  readonly claims?: ClaimMapping.ClaimMapping | undefined
  /** Accepted signing algorithms (default: every asymmetric one). */
  readonly algorithms?: ReadonlyArray<JwtVerifier.AsymmetricAlgorithm> | undefined
  /** Require `typ: at+jwt` (RFC 9068). */
  readonly typ?: "at+jwt" | undefined
  /** Leeway for `exp`, `nbf` and `iat` (default 30 seconds). */
  readonly clockTolerance?: JwtVerifier.JwtVerifierOptions["clockTolerance"]
  /** Key-set cache settings. */
  readonly jwks?: Omit<Jwks.JwksOptions, "uri"> | undefined
  /** Verify tokens with this function instead of as JWTs (opaque tokens, custom checks). */
  readonly verifyToken?: TokenVerifier.VerifyFunction | undefined
  /**
   * Reuse the verdict for a token seen before (see `VerifiedTokenCache`): on by default for JWTs (a JWT's verdict
   * only changes at its `exp` or when its key is withdrawn, and entries live at most `maxTtl`, default 1 minute),
   * off by default for `verifyToken`, whose revocation checks caching would delay. `false` turns it off.
   */
  readonly verifiedTokenCache?: boolean | VerifiedTokenCache.VerifiedTokenCacheOptions | undefined
  /** Mirror the issuer's metadata at this server's well-known authorization-server URLs (default true). */
  readonly mirrorMetadata?: boolean | undefined
  /** The provider's name in logs (provider modules built on this one set it). */
  readonly name?: string | undefined
  /** Start-up warnings (provider modules built on this one set them). */
  readonly warnings?: ReadonlyArray<string> | undefined
}

/** Builds the provider and its verifier; settings are validated here, the issuer is not contacted yet. */
export const make = (
  options: CustomOptions
): Effect.Effect<{ readonly provider: typeof Provider.Service; readonly verifier: TokenVerifier.Service }, ConfigProblem, ResourceServer | HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const issuer = yield* checkUrl("issuer", options.issuer, "issuer")
    yield* checkScopes("scopes", options.scopes ?? [])
    const server = yield* ResourceServer
    // one discovery per provider, shared by the key set (when its URL is not given) and the mirrored metadata
    const discovery = yield* Discovery.make({ issuer })
    const provider: typeof Provider.Service = {
      name: options.name ?? "custom",
      authorizationServers: [issuer],
      scopesSupported: options.scopes,
      metadata: options.mirrorMetadata === false ? undefined : discovery.metadata,
      warnings: options.warnings ?? []
    }
    const cached = (verifier: TokenVerifier.Service, byDefault: boolean) => {
      const cache = options.verifiedTokenCache ?? byDefault
      return cache === false ? Effect.succeed(verifier) : VerifiedTokenCache.make(verifier, cache === true ? {} : cache)
    }
    if (options.verifyToken !== undefined) {
      const fromFunction = TokenVerifier.fromFunction(options.verifyToken)
      // the user's function is the verification: it gets the span the JWT verifier would have had
      const traced = TokenVerifier.TokenVerifier.of({
        verify: (token) =>
          fromFunction.verify(token).pipe(
            Telemetry.spanned(Telemetry.Span.verifyToken, { [Telemetry.Attribute.verifier]: "function" })
          )
      })
      return { provider, verifier: yield* cached(traced, false) }
    }
    const jwks =
      options.jwksUri !== undefined
        ? yield* Jwks.make({ ...options.jwks, uri: yield* checkUrl("jwksUri", options.jwksUri) })
        : yield* discoveredJwks(discovery, options.jwks ?? {})
    const verifier = yield* JwtVerifier.make({
      issuer,
      audience: options.audience ?? server.resource,
      algorithms: options.algorithms,
      typ: options.typ,
      clockTolerance: options.clockTolerance,
      claims: options.claims
    }).pipe(Effect.provideService(Jwks.Jwks, jwks))
    return { provider, verifier: yield* cached(verifier, true) }
  })

/** A layer providing {@link Provider} and {@link TokenVerifier.TokenVerifier} for a custom authorization server. */
export const layer = (
  options: CustomOptions
): Layer.Layer<Provider | TokenVerifier.TokenVerifier, ConfigProblem, ResourceServer | HttpClient.HttpClient> =>
  Layer.effectContext(
    Effect.map(make(options), ({ provider, verifier }) =>
      Context.make(Provider, provider).pipe(Context.add(TokenVerifier.TokenVerifier, verifier))
    )
  )

/** The environment variables read by {@link layerConfig}. */
export const config: Config.Config<CustomOptions> = Config.all({
  issuer: Config.string("MCP_OAUTH_ISSUER"),
  jwksUri: Config.option(Config.string("MCP_OAUTH_JWKS_URI")),
  audience: Config.option(Config.string("MCP_OAUTH_AUDIENCE")),
  scopes: Config.option(Config.string("MCP_OAUTH_SCOPES"))
}).pipe(
  Config.map(({ issuer, jwksUri, audience, scopes }) => ({
    issuer,
    jwksUri: Option.getOrUndefined(jwksUri),
    audience: Option.map(audience, splitList).pipe(Option.getOrUndefined),
    scopes: Option.map(scopes, splitList).pipe(Option.getOrUndefined)
  }))
)

/**
 * Like {@link layer}, with options from configuration: `MCP_OAUTH_ISSUER` (required), `MCP_OAUTH_JWKS_URI`,
 * `MCP_OAUTH_AUDIENCE` and `MCP_OAUTH_SCOPES` (space- or comma-separated).
 */
export const layerConfig = (
  options: Config.Config<CustomOptions> = config
): Layer.Layer<Provider | TokenVerifier.TokenVerifier, ConfigProblem, ResourceServer | HttpClient.HttpClient> =>
  Layer.unwrapEffect(
    Effect.gen(function* () {
      const resolved = yield* Effect.mapError(options, fromConfigError)
      // validated here too so that the message names the variable rather than the option
      yield* checkUrl("MCP_OAUTH_ISSUER", resolved.issuer, "issuer")
      if (resolved.jwksUri !== undefined) yield* checkUrl("MCP_OAUTH_JWKS_URI", resolved.jwksUri)
      return layer(resolved)
    })
  )

/** The custom provider for the `MCPServer` facade (same options as {@link layer}). */
export const oauthCustomProvider = (options: CustomOptions): OAuthProvider => ({ name: "custom", layer: layer(options) })
