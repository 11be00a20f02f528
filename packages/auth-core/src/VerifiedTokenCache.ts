/**
 * A {@link TokenVerifier} wrapper that remembers tokens it has seen verified, so a client repeating its token
 * (an MCP client sends the same access token on every request) pays for the signature check once per `maxTtl`.
 *
 * - Keyed by the SHA-256 digest of the whole token (signature included), never by the token: the raw token is not
 *   kept, and the principal is handed back with the token the request presented.
 * - Only successes are remembered; a refusal or an unavailable upstream is never cached, so junk cannot fill it.
 * - An entry is served until the token's `exp` and never longer than `maxTtl` after it was verified; a principal
 *   without an expiry is not cached. Time comes from Effect's Clock.
 * - Bounded: at most `maxEntries`, the least recently used dropped first.
 *
 * What caching changes: a verdict is reused for up to `maxTtl`, so a token signed by a key that the identity provider
 * has since withdrawn keeps being accepted for up to `maxTtl` after the key set refresh that dropped the key (the key
 * set itself is trusted for up to its `maxAge` before it is refreshed). For JWTs nothing else changes, since a JWT
 * cannot be revoked before its `exp` anyway. For a verifier that checks revocation (introspection, a user function)
 * a revoked token keeps working for up to `maxTtl`. Verifiers whose verdict depends on more than the token and the
 * time (e.g. `maxTokenAge`) should use a `maxTtl` no longer than the slack they can afford.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type { AuthInfo } from "./AuthInfo.js"
import type { InvalidToken, UpstreamUnavailable } from "./Errors.js"
import { TokenVerifier, type Service as VerifierService } from "./TokenVerifier.js"
import * as ExpiringLru from "./internal/expiringLru.js"
import { tokenDigest } from "./internal/tokenDigest.js"

/** Options of the cache. */
export interface VerifiedTokenCacheOptions {
  /** Most tokens remembered; the least recently used is dropped beyond it (default 10,000). */
  readonly maxEntries?: number | undefined
  /** Longest time a verdict is reused, whatever the token's `exp` (default 1 minute). */
  readonly maxTtl?: Duration.DurationInput | undefined
}

/** The defaults of {@link VerifiedTokenCacheOptions}. */
export const defaults = { maxEntries: 10_000, maxTtl: "1 minute" } as const

/** A caching verifier. */
export interface VerifiedTokenCache extends VerifierService {
  /** The held verdict at `now`, else the inner verifier's immediate one (remembered when a success), else undefined. */
  readonly immediate: (token: Redacted.Redacted<string>, now: number) => Exit.Exit<AuthInfo, InvalidToken | UpstreamUnavailable> | undefined
  /** Tokens remembered now (expired ones count until they are touched or evicted). */
  readonly size: Effect.Effect<number>
  /** Forgets every verdict, e.g. after learning that a signing key was compromised. */
  readonly invalidateAll: Effect.Effect<void>
}

/** The principal without its token: what the cache keeps. */
type Remembered = Omit<AuthInfo, "token">

/** The cache key of a token: its SHA-256 digest, base64url. */
export const digest = tokenDigest

// plain data (JSON claims, arrays) is frozen so that a caller changing the principal of one request cannot change
// what later requests with the same token see; objects of other classes are left alone. Iterative: claims may nest deep.
const isPlain = (value: unknown): value is object => {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return false
  if (Array.isArray(value)) return true
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

const deepFreeze = <A extends object>(root: A): A => {
  const pending: Array<object> = [root]
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    Object.freeze(next)
    for (const child of Object.values(next)) if (isPlain(child)) pending.push(child)
  }
  return root
}

/** Wraps `verifier` with a cache of its successful verdicts. */
export const make = (
  verifier: VerifierService,
  options: VerifiedTokenCacheOptions = {}
): Effect.Effect<VerifiedTokenCache> =>
  Effect.sync(() => {
    const maxTtl = Duration.toMillis(options.maxTtl ?? defaults.maxTtl)
    const entries = ExpiringLru.make<Remembered>(options.maxEntries ?? defaults.maxEntries)

    const remember = (key: string, info: AuthInfo, now: number): void => {
      if (info.expiresAt === undefined || !Number.isFinite(info.expiresAt) || maxTtl <= 0) return
      const until = Math.min(info.expiresAt * 1000, now + maxTtl)
      if (until <= now) return
      const { token: _token, ...rest } = info
      entries.set(key, deepFreeze(rest), until, now)
    }

    // a held verdict, handed back with the token the request presented
    const held = (key: string, token: Redacted.Redacted<string>, now: number): AuthInfo | undefined => {
      const hit = entries.get(key, now)
      return hit === undefined ? undefined : { ...hit, token }
    }

    // the hot path is a digest and a map lookup; no span, since it would cost more than the lookup
    const verify = (token: Redacted.Redacted<string>): Effect.Effect<AuthInfo, InvalidToken | UpstreamUnavailable> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const key = digest(Redacted.value(token))
        const hit = held(key, token, now)
        if (hit !== undefined) return Effect.succeed(hit)
        // the entry's life is counted from before the verification: a slow upstream can only shorten it
        return Effect.map(verifier.verify(token), (info) => {
          remember(key, info, now)
          return info
        })
      })

    const inner = verifier.immediate
    const immediate = (token: Redacted.Redacted<string>, now: number): Exit.Exit<AuthInfo, InvalidToken | UpstreamUnavailable> | undefined => {
      const key = digest(Redacted.value(token))
      const hit = held(key, token, now)
      if (hit !== undefined) return Exit.succeed(hit)
      const verdict = inner?.(token, now)
      if (verdict !== undefined && Exit.isSuccess(verdict)) remember(key, verdict.value, now)
      return verdict
    }

    return {
      verify,
      immediate,
      size: Effect.sync(() => entries.size()),
      invalidateAll: Effect.sync(() => entries.clear())
    }
  })

/** A layer replacing the {@link TokenVerifier} in context with a caching one in front of it. */
export const layer = (options: VerifiedTokenCacheOptions = {}): Layer.Layer<TokenVerifier, never, TokenVerifier> =>
  Layer.effect(TokenVerifier, Effect.flatMap(TokenVerifier, (verifier) => make(verifier, options)))
