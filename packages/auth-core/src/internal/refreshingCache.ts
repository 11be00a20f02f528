/**
 * A single remote value kept fresh under the rules shared by the key set and metadata caches: single-flight fetches,
 * a cooldown between attempts, background refresh after a maximum age, and stale-if-error up to a maximum staleness.
 * All time comes from Effect's Clock.
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { UpstreamUnavailable } from "../Errors.js"

/** How a {@link RefreshingCache} fetches and ages its value. */
export interface Options<A> {
  /** Names the value in errors and logs. */
  readonly target: string
  /** One fetch; it must be bounded in time (the fetch's own timeout), since nothing else stops it. */
  readonly fetch: Effect.Effect<A, UpstreamUnavailable>
  /** Minimum time between two fetch attempts, measured from the end of the previous one. */
  readonly cooldown: Duration.DurationInput
  /** Age after which the value is refreshed in the background while it keeps being served. */
  readonly maxAge: Duration.DurationInput
  /** Age after which the value is no longer served, however the upstream fares. */
  readonly maxStale: Duration.DurationInput
}

/** A remote value with the shared cache rules. */
export interface RefreshingCache<A> {
  /**
   * The value, when one no older than `maxStale` is held (and a background refresh started when it is older than
   * `maxAge`); otherwise the result of a fetch, or the last failure while the cooldown lasts.
   */
  readonly get: Effect.Effect<A, UpstreamUnavailable>
  /**
   * A value as new as the cooldown allows, for a caller that found the held one lacking: joins a running fetch, or
   * fetches when the cooldown has passed; inside the cooldown returns the held value when the last attempt succeeded
   * and the last failure when it failed.
   */
  readonly refresh: Effect.Effect<A, UpstreamUnavailable>
  /**
   * The held value when `get` would serve it at `now` without starting anything (younger than `maxAge`), else
   * undefined. Synchronous, for callers that answer without a fiber when they can.
   */
  readonly fresh: (now: number) => A | undefined
  /**
   * The value `refresh` would answer at `now` without fetching or waiting (inside the cooldown after a success: the
   * held value), else undefined. Synchronous, like `fresh`.
   */
  readonly refreshed: (now: number) => A | undefined
}

interface Held<A> {
  readonly value: A
  /** When the fetch that produced it ended. */
  readonly at: number
}

interface State<A> {
  readonly held: Held<A> | undefined
  /** When the last attempt ended, and its failure if it failed. */
  readonly lastAttempt: { readonly at: number; readonly failure: UpstreamUnavailable | undefined } | undefined
  readonly inflight: Deferred.Deferred<A, UpstreamUnavailable> | undefined
}

type Plan<A> =
  | { readonly _tag: "Serve"; readonly value: A }
  | { readonly _tag: "Fail"; readonly error: UpstreamUnavailable }
  | { readonly _tag: "Await"; readonly deferred: Deferred.Deferred<A, UpstreamUnavailable> }
  /** Fetch into `deferred`; answer `serve` at once when given (a background refresh), else wait for the fetch. */
  | { readonly _tag: "Start"; readonly deferred: Deferred.Deferred<A, UpstreamUnavailable>; readonly serve?: Held<A> }

const secondsUntil = (ms: number): number => Math.max(1, Math.ceil(ms / 1000))

/** Builds a cache; nothing is fetched until the first `get` or `refresh`. */
export const make = <A>(options: Options<A>): Effect.Effect<RefreshingCache<A>> =>
  Effect.gen(function* () {
    const cooldown = Duration.toMillis(options.cooldown)
    const maxAge = Duration.toMillis(options.maxAge)
    const maxStale = Duration.toMillis(options.maxStale)
    // a plain variable: every change is one synchronous step (JavaScript runs one at a time), and `fresh` reads it
    // outside any fiber
    let state: State<A> = { held: undefined, lastAttempt: undefined, inflight: undefined }
    const swap = (next: (s: State<A>) => State<A>): Effect.Effect<State<A>> =>
      Effect.sync(() => {
        const previous = state
        state = next(previous)
        return previous
      })

    const coolingDown = (s: State<A>, now: number): boolean =>
      s.lastAttempt !== undefined && now - s.lastAttempt.at < cooldown

    // the remembered failure, with the time a client should wait before the next attempt can happen
    const failureNow = (s: State<A>, now: number): UpstreamUnavailable => {
      const failure = s.lastAttempt?.failure
      const retryAfterSeconds = secondsUntil(cooldown - (now - (s.lastAttempt?.at ?? now)))
      return new UpstreamUnavailable({
        reason: failure?.reason ?? "unreachable",
        target: failure?.target ?? options.target,
        retryAfterSeconds
      })
    }

    const settle = (deferred: Deferred.Deferred<A, UpstreamUnavailable>, exit: Exit.Exit<A, UpstreamUnavailable>) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        if (Exit.isSuccess(exit)) {
          const previous = yield* swap(() => ({
            held: { value: exit.value, at: now },
            lastAttempt: { at: now, failure: undefined },
            inflight: undefined
          }))
          if (previous.lastAttempt?.failure !== undefined) {
            yield* Effect.logInfo("upstream fetch recovered").pipe(Effect.annotateLogs("target", options.target))
          }
          return yield* Deferred.succeed(deferred, exit.value)
        }
        if (Cause.isInterruptedOnly(exit.cause)) {
          // nothing was learned about the upstream: no attempt is recorded, the next caller may try again
          yield* swap((s) => ({ ...s, inflight: undefined }))
          return yield* Deferred.failCause(deferred, exit.cause)
        }
        const reported = Cause.failureOption(exit.cause)
        const failure = new UpstreamUnavailable({
          reason: reported._tag === "Some" ? reported.value.reason : "bad_response",
          target: options.target,
          retryAfterSeconds: secondsUntil(cooldown)
        })
        if (reported._tag === "None") {
          yield* Effect.logError("upstream fetch crashed", exit.cause).pipe(Effect.annotateLogs("target", options.target))
        }
        const previous = yield* swap((s) => ({
          ...s,
          lastAttempt: { at: now, failure },
          inflight: undefined
        }))
        yield* Effect.logWarning(
          previous.held !== undefined && now - previous.held.at <= maxStale
            ? "upstream fetch failed; serving the last good value"
            : "upstream fetch failed"
        ).pipe(Effect.annotateLogs({ target: options.target, reason: failure.reason }))
        return yield* Deferred.fail(deferred, failure)
      })

    // the fetch runs in its own fiber so that a caller giving up (a closed HTTP request) never cancels it for the
    // others waiting on it; it is a daemon because the fetch's timeout already bounds its life. The fetch itself must
    // be interruptible (its timeout works by interruption), the bookkeeping after it must not be.
    const start = (deferred: Deferred.Deferred<A, UpstreamUnavailable>) =>
      Effect.interruptible(options.fetch).pipe(
        Effect.exit,
        Effect.flatMap((exit) => settle(deferred, exit)),
        Effect.uninterruptible,
        Effect.forkDaemon
      )

    // decisions are made in one synchronous step so that exactly one caller starts a fetch; nothing waits on a lock.
    // Deciding and forking are one uninterruptible step: a caller interrupted in between would leave an `inflight`
    // that nobody completes, and every later caller would wait on it forever.
    const decide = (
      choose: (
        s: State<A>,
        now: number,
        deferred: Deferred.Deferred<A, UpstreamUnavailable>
      ) => readonly [Plan<A>, State<A>]
    ): Effect.Effect<A, UpstreamUnavailable> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          const deferred = yield* Deferred.make<A, UpstreamUnavailable>()
          const plan = yield* Effect.sync(() => {
            const [chosen, next] = choose(state, now, deferred)
            state = next
            return chosen
          })
          switch (plan._tag) {
            case "Serve":
              return plan.value
            case "Fail":
              return yield* plan.error
            case "Await":
              return yield* restore(Deferred.await(plan.deferred))
            case "Start":
              yield* start(plan.deferred)
              return plan.serve === undefined ? yield* restore(Deferred.await(plan.deferred)) : plan.serve.value
          }
        })
      )

    const getSlow = decide((s, now, deferred) => {
      const held = s.held !== undefined && now - s.held.at <= maxStale ? s.held : undefined
      if (held !== undefined) {
        if (now - held.at < maxAge || s.inflight !== undefined || coolingDown(s, now)) {
          return [{ _tag: "Serve", value: held.value }, s]
        }
        return [{ _tag: "Start", deferred, serve: held }, { ...s, inflight: deferred }]
      }
      // beyond maxStale the value is dropped for good: trust in old keys must not outlive the limit
      const dropped: State<A> = { ...s, held: undefined }
      if (s.inflight !== undefined) return [{ _tag: "Await", deferred: s.inflight }, dropped]
      if (coolingDown(s, now) && s.lastAttempt?.failure !== undefined) {
        return [{ _tag: "Fail", error: failureNow(s, now) }, dropped]
      }
      return [{ _tag: "Start", deferred }, { ...dropped, inflight: deferred }]
    })

    const fresh = (now: number): A | undefined =>
      state.held !== undefined && now - state.held.at < maxAge ? state.held.value : undefined

    const get: Effect.Effect<A, UpstreamUnavailable> = Effect.flatMap(
      Clock.currentTimeMillis,
      // the common case, a fresh value, creates no Deferred and takes no decision
      (now) => {
        const value = fresh(now)
        return value !== undefined ? Effect.succeed(value) : getSlow
      }
    )

    const refreshSlow = decide((s, now, deferred) => {
      if (s.inflight !== undefined) return [{ _tag: "Await", deferred: s.inflight }, s]
      if (coolingDown(s, now)) {
        if (s.lastAttempt?.failure !== undefined) return [{ _tag: "Fail", error: failureNow(s, now) }, s]
        if (s.held !== undefined && now - s.held.at <= maxStale) return [{ _tag: "Serve", value: s.held.value }, s]
      }
      return [{ _tag: "Start", deferred }, { ...s, inflight: deferred }]
    })

    // inside the cooldown after a success the answer is the held value: the common case under a flood of unknown
    // kids, answered without a Deferred or a decision (the same answer `refreshSlow` would give)
    const refreshed = (now: number): A | undefined =>
      state.inflight === undefined && coolingDown(state, now) && state.lastAttempt?.failure === undefined &&
        state.held !== undefined && now - state.held.at <= maxStale
        ? state.held.value
        : undefined

    const refresh: Effect.Effect<A, UpstreamUnavailable> = Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const value = refreshed(now)
      return value !== undefined ? Effect.succeed(value) : refreshSlow
    })

    return { get, refresh, fresh, refreshed }
  })
