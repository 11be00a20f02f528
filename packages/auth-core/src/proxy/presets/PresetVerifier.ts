/**
 * The upstream verifier a preset calls for (`verifyUpstream`): GitHub's token check, Google's token info, or the
 * upstream's own JWT (ID token or access token) verified with its key set, audience and issuer policy — the
 * multi-tenant Entra `tid` allowlist included.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as ClaimMapping from "../../ClaimMapping.js"
import type { ConfigProblem } from "../../ConfigProblem.js"
import { InvalidToken } from "../../Errors.js"
import * as Jwks from "../../Jwks.js"
import * as JwtVerifier from "../../JwtVerifier.js"
import * as GitHubTokenVerifier from "../upstream/GitHubTokenVerifier.js"
import * as GoogleTokenVerifier from "../upstream/GoogleTokenVerifier.js"
import * as Telemetry from "../../Telemetry.js"
import type { Service, UpstreamIdentity } from "../upstream/UpstreamVerifier.js"
import { checkIssuer, fromUpstreamScopes, issuersOf, type UpstreamPreset } from "./UpstreamPreset.js"

/** Options of {@link make}. */
export interface PresetVerifierOptions {
  /** The key set to verify JWTs with (default: fetched from the preset's `jwksUri`); tests pass fixed keys. */
  readonly jwks?: Jwks.Service | undefined
}

/** The application a JWT was issued to, from whichever claim the provider uses. */
const authorizedPartyOf = (claims: Readonly<Record<string, unknown>>): string | undefined => {
  for (const name of ["azp", "client_id", "cid", "appid"]) {
    const value = Object.hasOwn(claims, name) ? claims[name] : undefined
    if (typeof value === "string" && value !== "") return value
  }
  return undefined
}

/** Builds the verifier for a preset; nothing is fetched until a token is verified. */
export const make = (
  preset: UpstreamPreset,
  options: PresetVerifierOptions = {}
): Effect.Effect<Service, ConfigProblem, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const how = preset.verifyUpstream
    switch (how.kind) {
      case "github-token-check":
        return yield* GitHubTokenVerifier.make({ clientId: preset.clientId, clientSecret: preset.clientSecret, apiBaseUrl: how.apiBaseUrl })
      case "google-tokeninfo":
        return yield* GoogleTokenVerifier.make({
          clientId: preset.clientId,
          tokenInfoUrl: how.tokenInfoUrl,
          userInfoUrl: how.userInfoUrl,
          hostedDomains: how.hostedDomains
        })
      case "jwt":
        break
    }
    const jwks = options.jwks ?? (yield* Jwks.make({ uri: how.jwksUri }))
    // the exact list of issuers rejects a foreign token before any key is looked up; the policy then ties iss to tid
    const jwt = yield* JwtVerifier.make({ issuer: issuersOf(how.issuer), audience: how.audience }).pipe(
      Effect.provideService(Jwks.Jwks, jwks)
    )
    const verify = Effect.fnUntraced(function* (token: Parameters<Service["verify"]>[0]) {
      const info = yield* jwt.verify(token)
      if (!checkIssuer(how.issuer, info.claims).ok) return yield* new InvalidToken({ reason: "issuer" })
      const party = authorizedPartyOf(info.claims)
      // an access token must have been issued to our application (another app of the same authorization server
      // can obtain tokens for the same audience); an ID token's azp, when present, must be ours too
      if (how.token === "access_token" ? party !== preset.clientId : party !== undefined && party !== preset.clientId) {
        return yield* new InvalidToken({ reason: "audience" })
      }
      const identity: UpstreamIdentity = {
        provider: preset.name,
        issuer: info.issuer,
        subject: info.subject,
        clientId: preset.clientId,
        scopes: fromUpstreamScopes(preset.scopeForm, ClaimMapping.scopes(info.claims)),
        expiresAt: info.expiresAt,
        user: info.user,
        claims: info.claims
      }
      return identity
    })
    const span = Telemetry.spanned(Telemetry.Span.verifyToken, { [Telemetry.Attribute.verifier]: "upstream_jwt" })
    return { verify: (token) => span(verify(token)) }
  })
