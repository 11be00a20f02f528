/**
 * Confirming an upstream grant: the OAuth proxy keeps the upstream's tokens server-side and, where a provider issues
 * opaque tokens (GitHub, Google), asks the provider whether a token is still valid and was issued to the proxy's own
 * application. Each provider module (`GitHubTokenVerifier`, `GoogleTokenVerifier`) builds this service.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import type { AuthInfo, User } from "../../AuthInfo.js"
import type { InvalidToken, UpstreamUnavailable } from "../../Errors.js"
import type * as TokenVerifier from "../../TokenVerifier.js"

/** The user and grant behind a valid upstream token, as the provider reported them. */
export interface UpstreamIdentity {
  /** The provider, e.g. `github` or `google`. */
  readonly provider: string
  /** Who issued the token, e.g. `https://github.com` or `https://accounts.google.com`. */
  readonly issuer: string
  /** The provider's stable user id (GitHub's numeric id, Google's `sub`), never a changeable login or email. */
  readonly subject: string
  /** The application the token was issued to: always the configured client id once verified. */
  readonly clientId: string
  /** Scopes granted to the token, in the provider's form. */
  readonly scopes: ReadonlyArray<string>
  /** Expiry in seconds since the epoch, when the provider says. */
  readonly expiresAt?: number | undefined
  readonly user: User
  /** What the provider returned that is worth keeping (no token, no secret). */
  readonly claims: Readonly<Record<string, unknown>>
}

/** Verifies upstream access tokens with their provider. */
export interface Service {
  /**
   * The identity behind a token. `InvalidToken` when the provider does not know the token, it belongs to another
   * application (a personal access token included) or it expired; `UpstreamUnavailable` when the provider cannot be
   * asked (unreachable, timeout, 5xx, our own credentials refused, a malformed answer).
   */
  readonly verify: (token: Redacted.Redacted<string>) => Effect.Effect<UpstreamIdentity, InvalidToken | UpstreamUnavailable>
}

/** The upstream verifier service. */
export class UpstreamVerifier extends Context.Tag("@mcp-oauth/auth-core/proxy/UpstreamVerifier")<UpstreamVerifier, Service>() {}

/** An {@link AuthInfo} for a verified upstream token (the audience is the upstream application). */
export const toAuthInfo = (token: Redacted.Redacted<string>, identity: UpstreamIdentity): AuthInfo => ({
  token,
  subject: identity.subject,
  issuer: identity.issuer,
  audience: [identity.clientId],
  clientId: identity.clientId,
  scopes: identity.scopes,
  expiresAt: identity.expiresAt,
  claims: identity.claims,
  user: identity.user
})

/** The verifier as a `TokenVerifier`, for places that take one (the proxy's re-check of an upstream grant). */
export const asTokenVerifier = (service: Service): TokenVerifier.Service => ({
  verify: (token) => Effect.map(service.verify(token), (identity) => toAuthInfo(token, identity))
})

// a token is sent in a header and a JSON body: printable ASCII only, and bounded
const plausibleToken = /^[\x21-\x7e]{1,4096}$/

/** Whether a string can be an access token at all; anything else is refused without calling the provider. */
export const isPlausibleToken = (token: string): boolean => plausibleToken.test(token)
