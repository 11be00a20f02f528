/**
 * Remote JSON Web Key Set cache: single-flight refreshes, unknown-`kid` cooldown, max age, stale-if-error.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as jose from "jose"
import type { ConfigProblem } from "./ConfigProblem.js"
import { InvalidToken, type UpstreamUnavailable } from "./Errors.js"
import { decodeJson, fetchJson } from "./internal/fetchJson.js"
import * as JwkSet from "./internal/jwkSet.js"
import * as RefreshingCache from "./internal/refreshingCache.js"
import { fromConfigError } from "./internal/settings.js"
import * as Telemetry from "./Telemetry.js"

/** The JWS protected-header fields that select a key. */
export interface KeySelector {
  readonly alg: string
  readonly kid?: string | undefined
}

/** Options of a remote key set; durations accept anything `Duration.decode` does. */
export interface JwksOptions {
  /** The key set's URL (the issuer's `jwks_uri`). */
  readonly uri: string
  /** Minimum time between two fetches triggered by an unknown `kid` (default 30 seconds). */
  readonly cooldown?: Duration.DurationInput | undefined
  /** Age after which the key set is refreshed in the background (default 10 minutes). */
  readonly maxAge?: Duration.DurationInput | undefined
  /** How long known keys keep verifying while the identity provider fails (default 24 hours). */
  readonly maxStale?: Duration.DurationInput | undefined
  /** Timeout of one fetch (default 5 seconds). */
  readonly timeout?: Duration.DurationInput | undefined
  /** Largest accepted response body in bytes (default 512 KiB). */
  readonly maxResponseBytes?: number | undefined
  /** Smallest RSA modulus accepted, in bits (default 2048). */
  readonly minRsaModulusBits?: number | undefined
}

/** A cached remote key set. */
export interface Service {
  /** The verification key for a token header, fetching or refreshing the set as the cache rules allow. */
  readonly getKey: (selector: KeySelector) => Effect.Effect<CryptoKey, InvalidToken | UpstreamUnavailable>
  /**
   * `getKey`'s answer when it needs nothing fetched, refreshed or imported at `now` (milliseconds): the key of a fresh
   * set, or a refusal that no fetch can change. Undefined otherwise. Synchronous, for a guard answering without a fiber.
   */
  readonly held?: ((selector: KeySelector, now: number) => Exit.Exit<CryptoKey, InvalidToken> | undefined) | undefined
}

/** The remote key set service. */
export class Jwks extends Context.Tag("@mcp-oauth/auth-core/Jwks")<Jwks, Service>() {}

/** The defaults of {@link JwksOptions}. */
export const defaults = {
  cooldown: "30 seconds",
  maxAge: "10 minutes",
  maxStale: "24 hours",
  timeout: "5 seconds",
  maxResponseBytes: 512 * 1024,
  minRsaModulusBits: 2048
} as const

const target = "jwks"

/** The public keys of one fetched set, with the CryptoKeys imported from them so far. */
interface KeySet {
  readonly keys: ReadonlyArray<JwkSet.PublicJwk>
  /** By `${index} ${alg}`; it belongs to this set, so a rotation can never serve a key imported from an older one. */
  readonly imported: Map<string, ImportEntry>
}

interface ImportEntry {
  readonly promise: Promise<CryptoKey>
  /** Set once the import succeeded. */
  key: CryptoKey | undefined
}

const keySetOf = (keys: ReadonlyArray<unknown>): Effect.Effect<KeySet> => {
  const parsed = JwkSet.parseKeys(keys)
  const log = parsed.withSecrets > 0
    ? Effect.logWarning("key set publishes private or symmetric key material; those keys are refused")
    : parsed.unusable > 0
    ? Effect.logDebug("key set has keys that cannot verify signatures here; they are skipped")
    : Effect.void
  return log.pipe(
    Effect.annotateLogs({ target, refused: parsed.withSecrets, skipped: parsed.unusable }),
    Effect.as({ keys: parsed.keys, imported: new Map<string, ImportEntry>() })
  )
}

// refusals are fixed values, made once: junk tokens (unknown kids, foreign algorithms) are the ones sent in bulk
const refusals = {
  unknown_key: new InvalidToken({ reason: "unknown_key" }),
  weak_key: new InvalidToken({ reason: "weak_key" }),
  algorithm: new InvalidToken({ reason: "algorithm" })
} as const

const invalid = (reason: keyof typeof refusals): InvalidToken => refusals[reason]

/** Which key of one set a header selects (its index), a refusal, or `missing` (a newer set may have it). */
const selectIn = (set: KeySet, selector: KeySelector): number | InvalidToken | "missing" => {
  const selection = JwkSet.select(set.keys, selector.alg, selector.kid)
  switch (selection._tag) {
    case "Missing":
      return "missing"
    case "Mismatch":
      return invalid("algorithm")
    case "Ambiguous":
      // without a kid and with several candidates, trying each would turn one token into several verifications
      return invalid("unknown_key")
    case "Found":
      return selection.index
  }
}

/** How the key for a header is looked up in one set, before any refresh is considered. */
const lookup = (
  set: KeySet,
  selector: KeySelector,
  minRsaModulusBits: number
): Effect.Effect<CryptoKey, InvalidToken> | "missing" => {
  const selected = selectIn(set, selector)
  if (selected === "missing") return "missing"
  return typeof selected === "number" ? importKey(set, selected, selector.alg, minRsaModulusBits) : Effect.fail(selected)
}

/**
 * The answer for a header in one set when it is known at once: an imported key or a refusal; `missing` when the set
 * lacks the key, undefined when the key still has to be imported.
 */
const heldIn = (set: KeySet, selector: KeySelector): Exit.Exit<CryptoKey, InvalidToken> | "missing" | undefined => {
  if (JwkSet.keyTypeFor(selector.alg) === undefined) return Exit.fail(invalid("algorithm"))
  const selected = selectIn(set, selector)
  if (selected === "missing") return "missing"
  if (typeof selected !== "number") return Exit.fail(selected)
  const key = set.imported.get(importCacheKey(selected, selector.alg))?.key
  return key === undefined ? undefined : Exit.succeed(key)
}

const importCacheKey = (index: number, alg: string): string => `${index} ${alg}`

const importKey = (
  set: KeySet,
  index: number,
  alg: string,
  minRsaModulusBits: number
): Effect.Effect<CryptoKey, InvalidToken> => {
  const jwk = set.keys[index]!
  const cacheKey = importCacheKey(index, alg)
  let entry = set.imported.get(cacheKey)
  // the hot path: an imported key is returned without touching a promise
  if (entry?.key !== undefined) return Effect.succeed(entry.key)
  if (entry === undefined) {
    if (jwk.kty === "RSA") {
      const bits = JwkSet.rsaModulusBits(jwk.n)
      if (bits === undefined) return Effect.fail(invalid("unknown_key"))
      if (bits < minRsaModulusBits) return Effect.fail(invalid("weak_key"))
    }
    // the import promise is shared: concurrent first lookups import once, and no fiber owns the import
    const promise = jose.importJWK(JwkSet.toImportable(jwk), alg, { extractable: false }).then((key) => {
      if (key instanceof Uint8Array) throw new Error("symmetric key")
      return key
    })
    const created: ImportEntry = { promise, key: undefined }
    promise.then((key) => (created.key = key), () => undefined)
    set.imported.set(cacheKey, created)
    entry = created
  }
  const { promise } = entry
  return Effect.tryPromise({ try: () => promise, catch: (cause) => cause }).pipe(
    Effect.tapError((cause) =>
      Effect.logWarning("a key of the set could not be imported").pipe(
        Effect.annotateLogs({ target, kid: jwk.kid ?? "", alg, cause: String(cause) })
      )
    ),
    Effect.mapError(() => invalid("unknown_key"))
  )
}

/**
 * Builds a remote key set. Nothing is fetched until the first `getKey`; fetches run on the `HttpClient` in context
 * at build time, each in its own fiber bounded by `timeout`.
 */
export const make = (options: JwksOptions): Effect.Effect<Service, never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const minRsaModulusBits = options.minRsaModulusBits ?? defaults.minRsaModulusBits
    const fetchSet = fetchJson(options.uri, {
      target,
      timeout: options.timeout ?? defaults.timeout,
      maxResponseBytes: options.maxResponseBytes ?? defaults.maxResponseBytes,
      accept: "application/jwk-set+json, application/json"
    }).pipe(
      Effect.flatMap(decodeJson(JwkSet.JwkSetBody, target)),
      Effect.flatMap((body) => keySetOf(body.keys)),
      Effect.provideService(HttpClient.HttpClient, client),
      // a fetch is rare and slow next to a span: it is always traced when the tracer is on
      Telemetry.spanned(Telemetry.Span.jwksFetch, { [Telemetry.Attribute.target]: target })
    )
    const cache = yield* RefreshingCache.make({
      target,
      fetch: fetchSet,
      cooldown: options.cooldown ?? defaults.cooldown,
      maxAge: options.maxAge ?? defaults.maxAge,
      maxStale: options.maxStale ?? defaults.maxStale
    })

    // untraced: it runs on every verification and its span cost ~30 µs per call (bench/README.md)
    const getKey = Effect.fnUntraced(function* (selector: KeySelector) {
      // an algorithm no key set can serve is refused before any fetch: junk tokens never reach the upstream
      if (JwkSet.keyTypeFor(selector.alg) === undefined) return yield* invalid("algorithm")
      const held = yield* cache.get
      const first = lookup(held, selector, minRsaModulusBits)
      if (first !== "missing") return yield* first
      // an unknown key may be a rotation: look again in a set as new as the cooldown allows
      const fresh = yield* cache.refresh
      const second = lookup(fresh, selector, minRsaModulusBits)
      if (second !== "missing") return yield* second
      return yield* invalid("unknown_key")
    })

    const held = (selector: KeySelector, now: number): Exit.Exit<CryptoKey, InvalidToken> | undefined => {
      const set = cache.fresh(now)
      if (set === undefined) return JwkSet.keyTypeFor(selector.alg) === undefined ? Exit.fail(invalid("algorithm")) : undefined
      const found = heldIn(set, selector)
      if (found !== "missing") return found
      // a missing key may be a rotation, and only getKey may fetch a newer set; inside the cooldown the newer set is
      // this one (what `refresh` would answer at once), so the key is unknown without running anything
      const again = cache.refreshed(now)
      if (again === undefined) return undefined
      const second = heldIn(again, selector)
      return second === "missing" ? Exit.fail(invalid("unknown_key")) : second
    }

    return Jwks.of({ getKey, held })
  })

/** A key set over fixed keys, with the same key selection rules and no fetching (tests, keys from configuration). */
export const fromKeySet = (
  set: { readonly keys: ReadonlyArray<unknown> },
  options?: { readonly minRsaModulusBits?: number | undefined }
): Effect.Effect<Service> =>
  Effect.map(keySetOf(set.keys), (keySet) => {
    const minRsaModulusBits = options?.minRsaModulusBits ?? defaults.minRsaModulusBits
    return Jwks.of({
      getKey: Effect.fnUntraced(function* (selector: KeySelector) {
        if (JwkSet.keyTypeFor(selector.alg) === undefined) return yield* invalid("algorithm")
        const found = lookup(keySet, selector, minRsaModulusBits)
        return found === "missing" ? yield* invalid("unknown_key") : yield* found
      }),
      held: (selector) => {
        const found = heldIn(keySet, selector)
        return found === "missing" ? Exit.fail(invalid("unknown_key")) : found
      }
    })
  })

/** A layer providing {@link Jwks} for a remote key set. */
export const layer = (options: JwksOptions): Layer.Layer<Jwks, never, HttpClient.HttpClient> =>
  Layer.effect(Jwks, make(options))

/** Like {@link layer}, with options read from configuration, e.g. `{ uri: Config.string("MCP_OAUTH_JWKS_URI") }`. */
export const layerConfig = (
  options: Config.Config.Wrap<JwksOptions>
): Layer.Layer<Jwks, ConfigProblem, HttpClient.HttpClient> =>
  Layer.effect(Jwks, Effect.flatMap(Effect.mapError(Config.unwrap(options), fromConfigError), make))

/** A layer providing {@link Jwks} over fixed keys; see {@link fromKeySet}. */
export const layerKeySet = (
  set: { readonly keys: ReadonlyArray<unknown> },
  options?: { readonly minRsaModulusBits?: number | undefined }
): Layer.Layer<Jwks> => Layer.effect(Jwks, fromKeySet(set, options))
