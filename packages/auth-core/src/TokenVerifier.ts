/**
 * The service that turns a bearer token into an {@link AuthInfo}, and a verifier from a user function.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type { AuthInfo, User } from "./AuthInfo.js"
import * as ClaimMapping from "./ClaimMapping.js"
import { InvalidToken, type UpstreamUnavailable } from "./Errors.js"

/** Verifies bearer tokens. */
export interface Service {
  /** The principal of a valid token, or why the token is refused. */
  readonly verify: (token: Redacted.Redacted<string>) => Effect.Effect<AuthInfo, InvalidToken | UpstreamUnavailable>
  /**
   * `verify`'s verdict when it can be reached at once, with nothing to fetch or wait for: a held verdict, or a JWT whose
   * key is held. Undefined whenever only `verify` can tell. `now` is the time in milliseconds (the runtime's Clock).
   * It runs outside any fiber (no logs, no spans) and must agree with `verify`: a wrapper that changes verdicts
   * implements it the same way or leaves it out.
   */
  readonly immediate?:
    | ((token: Redacted.Redacted<string>, now: number) => Exit.Exit<AuthInfo, InvalidToken | UpstreamUnavailable> | undefined)
    | undefined
}

/** The token verifier service. */
export class TokenVerifier extends Context.Tag("@mcp-oauth/auth-core/TokenVerifier")<TokenVerifier, Service>() {}

/** What a user-supplied verification function returns for a valid token. */
export interface VerifiedToken {
  readonly subject: string
  readonly issuer?: string | undefined
  readonly audience?: ReadonlyArray<string> | undefined
  readonly clientId?: string | undefined
  readonly scopes?: ReadonlyArray<string> | undefined
  /** Expiry in seconds since the epoch. */
  readonly expiresAt?: number | undefined
  readonly claims?: Readonly<Record<string, unknown>> | undefined
  readonly user?: Partial<User> | undefined
}

/** A user function that verifies a token; anything it throws or rejects with means the token is invalid. */
export type VerifyFunction = (token: string) => VerifiedToken | Promise<VerifiedToken>

const rejected = new InvalidToken({ reason: "rejected" })

/**
 * A verifier backed by a user function. A throw, a rejection, or a result without a non-empty subject
 * becomes 401 `invalid_token`, never a 500.
 */
export const fromFunction = (verify: VerifyFunction): Service => ({
  verify: (token) =>
    Effect.tryPromise({
      try: async () => verify(Redacted.value(token)),
      catch: () => rejected
    }).pipe(
      Effect.flatMap((result) =>
        typeof result === "object" && result !== null && typeof result.subject === "string" && result.subject !== ""
          ? Effect.succeed(fromVerified(token, result))
          : Effect.fail(rejected)
      ),
      // a synchronous throw surfaces as a defect when `verify` is not async
      Effect.catchAllDefect(() => Effect.fail(rejected))
    )
})

const fromVerified = (token: Redacted.Redacted<string>, v: VerifiedToken): AuthInfo => {
  const claims = v.claims ?? { sub: v.subject }
  const mapped = ClaimMapping.toUser({ ...claims, sub: v.subject })
  return {
    token,
    subject: v.subject,
    issuer: v.issuer ?? "",
    audience: v.audience ?? [],
    clientId: v.clientId,
    scopes: v.scopes ?? ClaimMapping.scopes(claims),
    expiresAt: v.expiresAt,
    claims,
    user: { ...mapped, ...v.user, userId: v.user?.userId ?? mapped.userId }
  }
}

/** A layer providing a verifier backed by a user function. */
export const layerFunction = (verify: VerifyFunction): Layer.Layer<TokenVerifier> =>
  Layer.succeed(TokenVerifier, fromFunction(verify))
