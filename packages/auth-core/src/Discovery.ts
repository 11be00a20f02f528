/**
 * Authorization server metadata discovery (RFC 8414, OpenID Connect Discovery) in the MCP specification's URL order,
 * with the issuer compared exactly and the document cached: single-flight, refreshed after a TTL, stale-if-error.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import type { ConfigProblem } from "./ConfigProblem.js"
import { UpstreamUnavailable } from "./Errors.js"
import { AuthorizationServerMetadata } from "./Metadata.js"
import { wellKnownUrl } from "./ResourceUrl.js"
import * as Telemetry from "./Telemetry.js"
import { decodeJson, fetchJson } from "./internal/fetchJson.js"
import * as RefreshingCache from "./internal/refreshingCache.js"
import { checkUrl, fromConfigError } from "./internal/settings.js"

export type {
  /** The decoded metadata document; unknown members are kept. */
  AuthorizationServerMetadata
} from "./Metadata.js"

/** Options of metadata discovery; durations accept anything `Duration.decode` does. */
export interface DiscoveryOptions {
  /** The issuer identifier; the document's `issuer` must equal it exactly. */
  readonly issuer: string
  /** Age after which the document is refetched in the background while it keeps being served (default 1 hour). */
  readonly ttl?: Duration.DurationInput | undefined
  /** Minimum time between two fetch attempts, so a failing server is not asked on every request (default 30 s). */
  readonly cooldown?: Duration.DurationInput | undefined
  /** How long the last good document is served while the server fails (default 24 hours). */
  readonly maxStale?: Duration.DurationInput | undefined
  /** Timeout of one fetch (default 5 seconds). */
  readonly timeout?: Duration.DurationInput | undefined
  /** Largest accepted document in bytes (default 512 KiB). */
  readonly maxResponseBytes?: number | undefined
}

/** The defaults of {@link DiscoveryOptions}. */
export const defaults = {
  ttl: "1 hour",
  cooldown: "30 seconds",
  maxStale: "24 hours",
  timeout: "5 seconds",
  maxResponseBytes: 512 * 1024
} as const

/** An issuer's metadata, fetched once and kept fresh. */
export interface Service {
  /**
   * The metadata document. Fails with `UpstreamUnavailable` when no candidate URL yields a document whose `issuer`
   * is the configured one; a wrong issuer is reported as `bad_response` (and logged with both values).
   */
  readonly metadata: Effect.Effect<AuthorizationServerMetadata, UpstreamUnavailable>
}

/** The metadata discovery service. */
export class Discovery extends Context.Tag("@mcp-oauth/auth-core/Discovery")<Discovery, Service>() {}

const target = "authorization server metadata"

/**
 * The URLs tried for an issuer, in order (MCP authorization spec, "Authorization Server Metadata Discovery"):
 * without a path, RFC 8414 then OpenID Connect; with a path, RFC 8414 and OpenID Connect with the well-known
 * segment inserted, then OpenID Connect appended to the path.
 */
export const metadataUrls = (issuer: string): ReadonlyArray<string> => {
  const url = new URL(issuer)
  const path = url.pathname.replace(/\/+$/, "")
  if (path === "") {
    return [`${url.origin}/.well-known/oauth-authorization-server`, `${url.origin}/.well-known/openid-configuration`]
  }
  return [
    wellKnownUrl(issuer, "oauth-authorization-server"),
    wellKnownUrl(issuer, "openid-configuration"),
    `${url.origin}${path}/.well-known/openid-configuration`
  ]
}

/** Builds discovery for one issuer; the issuer is checked now but contacted only on first use. */
export const make = (options: DiscoveryOptions): Effect.Effect<Service, ConfigProblem, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const issuer = yield* checkUrl("issuer", options.issuer, "issuer")
    const client = yield* HttpClient.HttpClient
    const urls = metadataUrls(issuer)
    const decode = decodeJson(AuthorizationServerMetadata, target)
    const fetchOptions = {
      target,
      timeout: options.timeout ?? defaults.timeout,
      maxResponseBytes: options.maxResponseBytes ?? defaults.maxResponseBytes
    }

    const fetchOne = (url: string) =>
      fetchJson(url, fetchOptions).pipe(
        Effect.flatMap(decode),
        Effect.filterOrElse(
          (document) => document.issuer === issuer,
          (document) =>
            // RFC 8414 §3.3: a document for another issuer must not be used, or that issuer could impersonate ours
            Effect.zipRight(
              Effect.logWarning("metadata names another issuer; ignored").pipe(
                Effect.annotateLogs({ expected: issuer, received: document.issuer })
              ),
              new UpstreamUnavailable({ reason: "bad_response", target, retryAfterSeconds: 1 })
            )
        )
      )

    const fetchMetadata = Effect.gen(function* () {
      let reported: UpstreamUnavailable | undefined
      for (const url of urls) {
        const result = yield* Effect.either(fetchOne(url))
        if (Either.isRight(result)) return result.right
        const error = result.left
        // a missing document, an error status or a wrong document (an SPA's HTML fallback, another issuer) leaves
        // the next URL worth trying; a timeout or a dead host does not, and trying on would only multiply the wait
        if (error.reason !== "status" && error.reason !== "bad_response") return yield* error
        // a document that was found but refused says more than a later 404
        if (reported === undefined || reported.reason === "status") reported = error
      }
      return yield* reported ?? new UpstreamUnavailable({ reason: "status", target, retryAfterSeconds: 1 })
    }).pipe(
      Effect.provideService(HttpClient.HttpClient, client),
      // the issuer is public (it is in every token and metadata document); each URL tried is a child outbound call
      Telemetry.spanned(Telemetry.Span.discoveryFetch, { [Telemetry.Attribute.issuer]: issuer })
    )

    const cache = yield* RefreshingCache.make({
      target,
      fetch: fetchMetadata,
      cooldown: options.cooldown ?? defaults.cooldown,
      maxAge: options.ttl ?? defaults.ttl,
      maxStale: options.maxStale ?? defaults.maxStale
    })

    return Discovery.of({ metadata: cache.get })
  })

/** A layer providing {@link Discovery} for one issuer. */
export const layer = (options: DiscoveryOptions): Layer.Layer<Discovery, ConfigProblem, HttpClient.HttpClient> =>
  Layer.effect(Discovery, make(options))

/** Like {@link layer}, with options read from configuration, e.g. `{ issuer: Config.string("MCP_OAUTH_ISSUER") }`. */
export const layerConfig = (
  options: Config.Config.Wrap<DiscoveryOptions>
): Layer.Layer<Discovery, ConfigProblem, HttpClient.HttpClient> =>
  Layer.effect(Discovery, Effect.flatMap(Effect.mapError(Config.unwrap(options), fromConfigError), make))
