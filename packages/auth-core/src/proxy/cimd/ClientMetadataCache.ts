/**
 * Client ID Metadata Documents fetched once and reused: concurrent requests for one `client_id` share one fetch, a
 * document is kept as long as its `Cache-Control` allows (capped), and refusals decided before any connection
 * (not a client identifier URL, a blocked or unresolvable host) are remembered briefly so that a flood of authorize
 * requests naming one bad URL causes no name lookups.
 *
 * Other failures (redirects, error statuses, invalid documents, timeouts) are not cached: the draft forbids caching
 * error responses and invalid documents (§5.2), and a client that fixes its document is then picked up at once.
 *
 * @since 0.1.0
 */
import * as Cache from "effect/Cache"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { UpstreamUnavailable } from "../../Errors.js"
import {
  type ClientMetadataDocument,
  type FetchOptions,
  fetchWithLifetime,
  type Fetched,
  InvalidClientMetadataDocument
} from "./ClientMetadataDocument.js"

/** Cache settings; durations accept anything `Duration.decode` does. */
export interface CacheOptions {
  /** Upper bound of a document's lifetime, whatever its `Cache-Control` says (default 1 hour). */
  readonly maxTtl?: Duration.DurationInput | undefined
  /** Lifetime of a document served without `max-age` (default 5 minutes, within `maxTtl`). */
  readonly defaultTtl?: Duration.DurationInput | undefined
  /** How long a refusal decided before any connection is remembered (default 30 seconds; `0` turns it off). */
  readonly negativeTtl?: Duration.DurationInput | undefined
  /** Most `client_id`s remembered (default 1 000). */
  readonly capacity?: number | undefined
}

/** Options of the cached service: the fetch options plus {@link CacheOptions}. */
export interface ClientMetadataCacheOptions extends FetchOptions {
  readonly cache?: CacheOptions | undefined
}

/** The defaults of {@link CacheOptions}. */
export const defaults = {
  maxTtl: "1 hour",
  defaultTtl: "5 minutes",
  negativeTtl: "30 seconds",
  capacity: 1000
} as const

/** Client metadata documents by `client_id`. */
export interface Service {
  /** The validated document, from the cache or fetched (see `fetchClientMetadataDocument` for the failures). */
  readonly get: (clientId: string) => Effect.Effect<ClientMetadataDocument, InvalidClientMetadataDocument | UpstreamUnavailable>
  /** Forgets what is remembered about a `client_id`, so the next `get` fetches again. */
  readonly invalidate: (clientId: string) => Effect.Effect<void>
}

/** The client metadata document service. */
export class ClientMetadataCache extends Context.Tag("@mcp-oauth/auth-core/proxy/ClientMetadataCache")<
  ClientMetadataCache,
  Service
>() {}

// refusals that involved no response from the client's host
const preConnection = new Set(["client_id", "blocked_host", "unresolvable"])

/** How long a lookup's outcome is kept. */
export const timeToLive = (
  exit: Exit.Exit<Fetched, InvalidClientMetadataDocument | UpstreamUnavailable>,
  options: CacheOptions = {}
): Duration.Duration => {
  const maxTtl = Duration.decode(options.maxTtl ?? defaults.maxTtl)
  if (Exit.isSuccess(exit)) {
    const declared = exit.value.maxAgeSeconds
    const ttl = declared === undefined ? Duration.decode(options.defaultTtl ?? defaults.defaultTtl) : Duration.seconds(declared)
    return Duration.min(ttl, maxTtl)
  }
  // the typed failure only: defects and interruptions are never kept
  const failure = Option.getOrUndefined(Cause.failureOption(exit.cause))
  return failure instanceof InvalidClientMetadataDocument && preConnection.has(failure.reason)
    ? Duration.min(Duration.decode(options.negativeTtl ?? defaults.negativeTtl), maxTtl)
    : Duration.zero
}

/** Builds the service; nothing is fetched until the first `get`. */
export const make = (options: ClientMetadataCacheOptions = {}): Effect.Effect<Service> =>
  Effect.gen(function* () {
    const cache = yield* Cache.makeWith({
      capacity: options.cache?.capacity ?? defaults.capacity,
      lookup: (clientId: string) => fetchWithLifetime(clientId, options),
      timeToLive: (exit) => timeToLive(exit, options.cache)
    })
    // an outcome with no lifetime is dropped as soon as it is read: the cache compares deadlines with `>`, so a zero
    // lifetime would otherwise last the current millisecond (and forever under a test clock)
    const dropIfUncached = (clientId: string, exit: Exit.Exit<Fetched, InvalidClientMetadataDocument | UpstreamUnavailable>) =>
      Duration.isZero(timeToLive(exit, options.cache)) ? cache.invalidate(clientId) : Effect.void
    return {
      get: (clientId) =>
        cache.get(clientId).pipe(
          Effect.onExit((exit) => (Exit.isInterrupted(exit) ? Effect.void : dropIfUncached(clientId, exit))),
          Effect.map((fetched) => fetched.document)
        ),
      invalidate: (clientId) => cache.invalidate(clientId)
    }
  })

/** A layer providing {@link ClientMetadataCache}. */
export const layer = (options: ClientMetadataCacheOptions = {}): Layer.Layer<ClientMetadataCache> =>
  Layer.effect(ClientMetadataCache, make(options))
