/**
 * Per-source rate limits of the proxy's endpoints (registration, authorization, token), counted in the Store so
 * several instances share them. The source is the peer address; forwarded addresses (`X-Forwarded-For`) are used
 * only when the operator says how many reverse proxies sit in front, since anyone can send that header.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { RateLimited, type UpstreamUnavailable } from "../Errors.js"
import type { HttpAnswer } from "../HttpAnswer.js"
import type { ProviderRequest } from "../Provider.js"
import type * as Store from "../Store.js"
import { errorPage } from "./internal/html.js"

/** One limit: at most `limit` requests per `window` from one source. */
export interface Limit {
  readonly limit: number
  readonly window: Duration.DurationInput
}

/**
 * The source of a request. With `trustedProxies` = n > 0, the address n hops back in `X-Forwarded-For` (each proxy
 * appends the address it saw); otherwise the peer. IPv6 addresses count per /64, since one host holds a whole /64.
 */
export const sourceOf = (request: ProviderRequest, trustedProxies: number): string => {
  const peer = request.remoteAddress ?? "unknown"
  if (trustedProxies <= 0) return normalize(peer)
  const forwarded = (request.header("x-forwarded-for") ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "")
  const chain = [...forwarded, peer]
  return normalize(chain[Math.max(0, chain.length - 1 - trustedProxies)] ?? peer)
}

const normalize = (address: string): string => {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address)
  if (mapped !== null) return mapped[1]!
  if (!address.includes(":")) return address.slice(0, 64)
  const [head = "", tail = ""] = address.toLowerCase().replace(/%.*$/, "").split("::")
  const left = head === "" ? [] : head.split(":")
  const right = tail === "" ? [] : tail.split(":")
  const groups = address.includes("::") ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right] : left
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":")}::/64`
}

/** Counts one request of `source` against `limit`; fails with 429 `RateLimited` once over it. */
export const check = (
  store: Store.Service,
  key: string,
  limit: Limit,
  target: string
): Effect.Effect<void, RateLimited | UpstreamUnavailable> =>
  Effect.flatMap(store.increment(key, limit.window), (count) =>
    count > limit.limit
      ? Effect.zipRight(
          count === limit.limit + 1
            ? Effect.logWarning("proxy rate limit reached").pipe(Effect.annotateLogs({ target }))
            : Effect.void,
          new RateLimited({ target, retryAfterSeconds: Math.max(1, Math.ceil(Duration.toSeconds(limit.window))) })
        )
      : Effect.void
  )

/**
 * The limit of a browser-facing endpoint (`authorize`, `consent`, `callback`): undefined under the limit, else a 429
 * page with Retry-After.
 */
export const checkPage = (
  options: { readonly store: Store.Service; readonly keyPrefix: string; readonly trustedProxies: number },
  request: ProviderRequest,
  endpoint: string,
  limit: Limit,
  message: string
): Effect.Effect<HttpAnswer | undefined, UpstreamUnavailable> =>
  check(options.store, `${options.keyPrefix}rate:${endpoint}:${sourceOf(request, options.trustedProxies)}`, limit, endpoint).pipe(
    Effect.as(undefined),
    Effect.catchTag("RateLimited", (limited) => {
      const page = errorPage(429, message)
      return Effect.succeed<HttpAnswer>({ ...page, headers: { ...page.headers, "retry-after": String(limited.retryAfterSeconds) } })
    })
  )
