/**
 * Re-checking the upstream grant behind the proxy's access tokens, at most once per interval per grant. The proxy's
 * tokens are valid for minutes whatever happens upstream; with this on, the guard asks the upstream (introspection,
 * the provider's token check, userinfo, or a refresh: see `Upstream.checkGrant`) when the interval has passed, and a
 * revoked upstream grant ends the proxy's grant, so its tokens answer 401 `invalid_token`.
 *
 * The interval is claimed with a Store counter that expires with it, so instances sharing a Store ask once between
 * them. When the upstream cannot be asked, the safe default refuses the request (503 with Retry-After): accepting
 * would let a revoked user in for as long as the upstream stays unreachable. `maxStale` opts into failing open for a
 * bounded time after the last confirmation instead.
 *
 * Whether a grant can be asked about at all is only known per grant: every upstream can be asked by a refresh, and
 * only the token response says whether there is a refresh token. A grant that cannot be asked is accepted, with a
 * warning once per proxy (not per request) so the gap is seen without flooding the log.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { UpstreamUnavailable } from "../Errors.js"
import type * as Store from "../Store.js"
import * as Telemetry from "../Telemetry.js"
import type { Grants } from "./Grants.js"
import type { GrantRecord } from "./internal/records.js"
import type { Upstream } from "./Upstream.js"

/** When and how the upstream grant is re-checked. */
export interface RecheckOptions {
  /** The longest time between two checks of one grant (`0` checks on every request). */
  readonly every: Duration.DurationInput
  /**
   * How long after its last confirmation a grant is still accepted while the upstream cannot be asked (default 0:
   * refused with 503 and Retry-After).
   */
  readonly maxStale?: Duration.DurationInput | undefined
}

/** The re-check of one proxy. */
export interface UpstreamRecheck {
  /** Whether the grant may be used: asks the upstream when the interval has passed; false once it is revoked there. */
  readonly check: (grant: GrantRecord) => Effect.Effect<boolean, UpstreamUnavailable>
  /** Records that the upstream confirmed the grant just now (the sign-in itself). */
  readonly confirmed: (grant: GrantRecord) => Effect.Effect<void, UpstreamUnavailable>
}

/** Settings of {@link make}. */
export interface UpstreamRecheckOptions extends RecheckOptions {
  readonly store: Store.Service
  readonly keyPrefix: string
  readonly grants: Grants
  readonly upstream: Upstream
}

/** Builds the re-check. */
export const make = (options: UpstreamRecheckOptions): UpstreamRecheck => {
  const { store, grants, upstream } = options
  const every = Duration.decode(options.every)
  const maxStale = Duration.decode(options.maxStale ?? 0)
  const claimKey = (grantId: string) => `${options.keyPrefix}recheck:${grantId}`
  const confirmedKey = (grantId: string) => `${options.keyPrefix}recheck-ok:${grantId}`
  const remaining = (grant: GrantRecord, now: number) => Duration.millis(Math.max(1, grant.expires_at - now))
  let warnedUncheckable = false
  const uncheckable = Effect.suspend(() => {
    if (warnedUncheckable) return Effect.logDebug("upstream offers no way to re-check a grant")
    warnedUncheckable = true
    return Effect.logWarning(
      "recheckUpstream: the upstream gave no way to re-check a grant (no introspection, provider token check or " +
        "userinfo answer, and no refresh token); such grants are accepted unchecked (logged once)"
    )
  })

  const confirmed = (grant: GrantRecord) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      if (Duration.toMillis(every) > 0) yield* store.increment(claimKey(grant.grant_id), every)
      yield* store.set(confirmedKey(grant.grant_id), String(now), remaining(grant, now))
    })

  const ask = (grant: GrantRecord) =>
    Effect.gen(function* () {
      const tokens = yield* grants.upstreamTokens(grant)
      // a grant without readable upstream tokens cannot be asked about; the sealed value only fails if altered
      if (Option.isNone(tokens)) return false
      const answer = yield* Effect.either(upstream.checkGrant(tokens.value))
      if (answer._tag === "Left") {
        // the next request asks again rather than waiting out the interval
        yield* store.delete(claimKey(grant.grant_id))
        const now = yield* Clock.currentTimeMillis
        const last = yield* store.get(confirmedKey(grant.grant_id))
        const age = Option.isSome(last) ? now - Number(last.value) : Number.POSITIVE_INFINITY
        if (age <= Duration.toMillis(maxStale)) {
          yield* Effect.logWarning("upstream grant re-check unavailable; accepted within maxStale")
          return true
        }
        return yield* answer.left
      }
      switch (answer.right._tag) {
        case "revoked":
          // the upstream already ended it: nothing to revoke there
          yield* grants.revoke(grant.grant_id, "upstream grant no longer active", { upstream: false })
          return false
        case "active":
          yield* confirmed(
            answer.right.tokens === undefined ? grant : yield* grants.replaceUpstream(grant, answer.right.tokens)
          )
          return true
        case "unknown":
          yield* uncheckable
          return true
      }
    }).pipe(
      Effect.tap((ok) => Telemetry.count(Telemetry.proxySteps, { step: "upstream_recheck", outcome: ok ? "ok" : "refused" })),
      Effect.tapError(() => Telemetry.count(Telemetry.proxySteps, { step: "upstream_recheck", outcome: "error" })),
      Effect.withSpan(Telemetry.Span.upstreamCall, {
        attributes: { [Telemetry.Attribute.target]: "upstream grant re-check", [Telemetry.Attribute.clientId]: grant.client_id }
      })
    )

  const check = (grant: GrantRecord) =>
    Effect.gen(function* () {
      if (Duration.toMillis(every) > 0) {
        // the first request after the interval claims the check; the others rely on its outcome
        const claims = yield* store.increment(claimKey(grant.grant_id), every)
        if (claims > 1) return true
      }
      return yield* ask(grant)
    })

  return { check, confirmed }
}
