/**
 * Settings and verifier refinements shared by the provider modules whose issuer carries a path (Supabase, Keycloak,
 * Better Auth): base URLs with paths, extra claim checks after the JWT verifier, user fields the claim mapping cannot
 * express.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import type { AuthInfo, User } from "../../AuthInfo.js"
import { ConfigProblem } from "../../ConfigProblem.js"
import { InvalidToken, type InvalidTokenReason } from "../../Errors.js"
import type * as TokenVerifier from "../../TokenVerifier.js"
import { toServerUrl } from "./hostedDomain.js"

/**
 * A base URL from a bare host (`sso.example.com`, https assumed) or a full URL that may carry a path
 * (`https://example.com/auth`, `http://127.0.0.1:8080` for a local stand-in): https unless loopback; no query,
 * fragment or credentials. Returned without trailing slashes. Fails naming `setting`.
 */
export const toBaseUrl = (setting: string, value: string): Effect.Effect<string, ConfigProblem> =>
  toServerUrl(setting, value, "URL").pipe(Effect.map((url) => `${url.origin}${url.pathname.replace(/\/+$/, "")}`))

/** A URL path setting: begins with `/`, no `..`, query or fragment. */
export const toPath = (setting: string, value: string): Effect.Effect<string, ConfigProblem> => {
  const trimmed = value.trim()
  return trimmed.startsWith("/") && !trimmed.includes("..") && !/[?#\s]/.test(trimmed)
    ? Effect.succeed(trimmed === "/" ? "" : trimmed.replace(/\/+$/, ""))
    : Effect.fail(new ConfigProblem({ setting, problem: `${JSON.stringify(value)} must be a path beginning with /` }))
}

const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * Whether the token is sender-constrained (RFC 9449 DPoP `cnf.jkt`, RFC 8705 mTLS `cnf.x5t#S256`). This server
 * accepts only the Bearer scheme, so honouring such a token would drop the proof of possession its issuer required.
 */
export const isSenderConstrained = (claims: Readonly<Record<string, unknown>>): boolean => {
  const cnf = claims["cnf"]
  return isRecord(cnf) && (Object.hasOwn(cnf, "jkt") || Object.hasOwn(cnf, "x5t#S256"))
}

/** How a provider narrows what the generic JWT verifier accepted. */
export interface Refinement {
  /** A reason to refuse the token after its signature, issuer, audience and times were checked, or undefined. */
  readonly check?: ((claims: Readonly<Record<string, unknown>>) => InvalidTokenReason | undefined) | undefined
  /** The user as the provider reads it (fields the claim mapping cannot reach). */
  readonly user?: ((info: AuthInfo) => User) | undefined
  /** Called when the verifier refuses a token, e.g. to explain a provider-specific cause in the log. */
  readonly onInvalid?: ((token: string, error: InvalidToken) => Effect.Effect<void>) | undefined
}

/** A verifier that runs `refinement` around `verifier`. */
export const refine = (verifier: TokenVerifier.Service, refinement: Refinement): TokenVerifier.Service => {
  // the one place the refinement decides, for both the verification and a verdict the inner verifier already holds
  const refined = (info: AuthInfo): AuthInfo | InvalidToken => {
    const reason = refinement.check?.(info.claims)
    if (reason !== undefined) return new InvalidToken({ reason })
    return refinement.user === undefined ? info : { ...info, user: refinement.user(info) }
  }
  const inner = verifier.immediate
  return {
    verify: (token) =>
      verifier.verify(token).pipe(
        Effect.flatMap((info) => {
          const outcome = refined(info)
          return outcome instanceof InvalidToken ? Effect.fail(outcome) : Effect.succeed(outcome)
        }),
        Effect.tapError((error) =>
          refinement.onInvalid !== undefined && error instanceof InvalidToken
            ? refinement.onInvalid(Redacted.value(token), error)
            : Effect.void
        )
      ),
    // a refusal is left to `verify` when `onInvalid` has to hear of it (an effect, which needs the fiber)
    immediate:
      inner === undefined
        ? undefined
        : (token, now) => {
            const verdict = inner(token, now)
            if (verdict === undefined) return undefined
            if (Exit.isFailure(verdict)) return refinement.onInvalid === undefined ? verdict : undefined
            const outcome = refined(verdict.value)
            if (!(outcome instanceof InvalidToken)) return Exit.succeed(outcome)
            return refinement.onInvalid === undefined ? Exit.fail(outcome) : undefined
          }
  }
}

/** Strings of a claim that is an array of strings (other members ignored). */
export const stringArray = (value: unknown): ReadonlyArray<string> =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === "string" && v !== "") : []

/** Own-property lookup that never walks inherited members such as `__proto__`. */
export const member = (value: unknown, key: string): unknown =>
  isRecord(value) && Object.hasOwn(value, key) ? value[key] : undefined
