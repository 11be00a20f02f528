/**
 * The auth-core {@link Store.Store} on Redis, so that several server instances share single-use codes, states,
 * refresh-token rotation and rate-limit counters. Every operation is one atomic Redis command or Lua script, bounded
 * by a timeout; an unreachable or slow Redis fails with `UpstreamUnavailable` (503 with Retry-After), never a defect
 * or a hang, and the client reconnects on its own.
 *
 * @since 0.1.0
 */
import { ConfigProblem } from "@mcp-oauth/auth-core/ConfigProblem"
import * as Store from "@mcp-oauth/auth-core/Store"
import { spanned, StoreSpan } from "@mcp-oauth/auth-core/Telemetry"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import { Redis } from "ioredis"
import * as Commands from "./internal/commands.js"

/** Settings shared by both ways of connecting. */
export interface CommonOptions {
  /** Prepended to every key (default `"mcp-oauth:"`); give each application sharing a Redis its own. */
  readonly keyPrefix?: string | undefined
  /** How long to wait for a connection (default 5 seconds); also how long `make` waits for the first one. */
  readonly connectTimeout?: Duration.DurationInput | undefined
  /** Longest any one command may take before it fails with a `timeout` (default 1 second). */
  readonly commandTimeout?: Duration.DurationInput | undefined
}

/** Options of a store that opens (and on scope close, closes) its own connection. */
export interface UrlOptions extends CommonOptions {
  /**
   * `redis://[[user]:password@]host[:port][/db]` or `rediss://…` for TLS. The password is a secret: pass the URL
   * `Redacted` (as {@link layerConfig} does) to keep it out of logs and error messages.
   */
  readonly url: string | Redacted.Redacted<string>
  readonly client?: never
}

/**
 * Options of a store on a connection the application owns and closes. Commands are still bounded by
 * `commandTimeout`; for fail-fast behaviour while disconnected create it with `enableOfflineQueue: false` and
 * `maxRetriesPerRequest: 0`, as this module does for its own connections.
 */
export interface ClientOptions extends CommonOptions {
  readonly client: Redis
  readonly url?: never
}

/** Options of {@link make}. */
export type RedisStoreOptions = UrlOptions | ClientOptions

/** The defaults of {@link CommonOptions}. */
export const defaults = {
  keyPrefix: "mcp-oauth:",
  connectTimeout: "5 seconds",
  commandTimeout: "1 second"
} as const

/** The environment variable {@link layerConfig} reads by default. */
export const urlVariable = "MCP_OAUTH_REDIS_URL"

/** Checks a Redis URL without ever echoing it (it may hold a password). */
const checkUrl = (setting: string, url: string): Effect.Effect<string, ConfigProblem> => {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return Effect.fail(new ConfigProblem({ setting, problem: "is not a URL (expected redis://host:port or rediss://…)" }))
  }
  const problem =
    parsed.protocol !== "redis:" && parsed.protocol !== "rediss:"
      ? `must use the redis: or rediss: scheme, not ${parsed.protocol}`
      : parsed.hostname === ""
        ? "has no host"
        : !/^\/?(\d+)?$/.test(parsed.pathname)
          ? "has a path that is not a database number"
          : undefined
  return problem === undefined ? Effect.succeed(url) : Effect.fail(new ConfigProblem({ setting, problem }))
}

const checkDuration = (setting: string, input: Duration.DurationInput): Effect.Effect<Duration.Duration, ConfigProblem> =>
  Effect.suspend(() => {
    const duration = Option.getOrUndefined(Duration.decodeUnknown(input))
    return duration !== undefined && Duration.isFinite(duration) && Duration.toMillis(duration) >= 1
      ? Effect.succeed(duration)
      : Effect.fail(new ConfigProblem({ setting, problem: "must be a finite duration of at least 1 millisecond" }))
  })

/** Waits until the connection is ready, its first attempt failed, or `timeout` passed; true when ready. */
const firstConnection = (client: Redis, timeout: Duration.Duration): Effect.Effect<boolean> =>
  client.status === "ready"
    ? Effect.succeed(true)
    : Effect.async<boolean>((resume) => {
        const ready = () => done(true)
        const failed = () => done(false)
        const done = (outcome: boolean) => {
          client.off("ready", ready).off("close", failed).off("end", failed)
          resume(Effect.succeed(outcome))
        }
        client.once("ready", ready).once("close", failed).once("end", failed)
        return Effect.sync(() => void client.off("ready", ready).off("close", failed).off("end", failed))
      }).pipe(Effect.timeoutTo({ duration: timeout, onSuccess: (ready) => ready, onTimeout: () => false }))

/**
 * Logs connection loss and recovery once per transition (the client's own error events repeat on every reconnect
 * attempt), never the URL. A first connection that fails is reported by {@link make} instead. Returns a finalizer
 * removing the listeners.
 */
const watchConnection = (client: Redis) =>
  Effect.gen(function* () {
    const runtime = yield* Effect.runtime<never>()
    const log = (effect: Effect.Effect<void>) => void Runtime.runFork(runtime)(effect)
    let state: "starting" | "up" | "down" = client.status === "ready" ? "up" : "starting"
    const onLost = (error?: Error) => {
      const previous = state
      state = "down"
      if (previous !== "up") return
      log(
        Effect.logWarning("Redis store connection lost; store operations fail with UpstreamUnavailable until it is back").pipe(
          Effect.annotateLogs(
            error === undefined
              ? { reason: "unreachable" }
              : { reason: Commands.classify(error), code: String((error as { code?: unknown }).code ?? error.name) }
          )
        )
      )
    }
    const onError = (error: Error) => onLost(error)
    const onClose = () => onLost()
    const onReady = () => {
      const previous = state
      state = "up"
      if (previous === "down") log(Effect.logInfo("Redis store connection restored"))
    }
    // without an error listener the client prints each error to the console itself
    client.on("error", onError).on("close", onClose).on("ready", onReady)
    return Effect.sync(() => void client.off("error", onError).off("close", onClose).off("ready", onReady))
  })

/** Opens a connection for `url`, closing it when the scope closes. */
const connect = (url: string, connectTimeout: Duration.Duration, commandTimeout: Duration.Duration) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const client = new Redis(url, {
        lazyConnect: false,
        connectTimeout: Duration.toMillis(connectTimeout),
        commandTimeout: Duration.toMillis(commandTimeout),
        // a stalled socket with commands waiting is torn down, so the client reconnects rather than wait forever
        socketTimeout: Duration.toMillis(commandTimeout) * 2,
        // fail at once while disconnected, and never replay a command after a reconnect (it may have run)
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        autoResendUnfulfilledCommands: false,
        retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), 2_000),
        connectionName: "mcp-oauth-store"
      })
      // errors are logged by watchConnection while the store is in use; the client would print the rest itself
      client.on("error", () => {})
      return client
    }),
    // nothing of ours is in flight once the scope closes, so there is nothing to wait for
    (client) => Effect.sync(() => client.disconnect(false))
  )

/**
 * Builds the store on a Redis connection. With `url` it opens the connection and closes it with the scope; with
 * `client` it uses the application's connection and leaves it open. Waits up to `connectTimeout` for the first
 * connection, then returns either way: while Redis is unreachable operations fail with `UpstreamUnavailable`, and
 * they succeed again once the client has reconnected.
 */
export const make = (options: RedisStoreOptions): Effect.Effect<Store.Service, ConfigProblem, Scope.Scope> =>
  Effect.gen(function* () {
    const keyPrefix = options.keyPrefix ?? defaults.keyPrefix
    const connectTimeout = yield* checkDuration("connectTimeout", options.connectTimeout ?? defaults.connectTimeout)
    const commandTimeout = yield* checkDuration("commandTimeout", options.commandTimeout ?? defaults.commandTimeout)
    let client: Redis
    if (options.client !== undefined) {
      client = options.client
    } else {
      const url = yield* checkUrl("url", Redacted.isRedacted(options.url) ? Redacted.value(options.url) : options.url)
      client = yield* connect(url, connectTimeout, commandTimeout)
    }
    yield* Effect.acquireRelease(watchConnection(client), (unwatch) => unwatch)
    if (!(yield* firstConnection(client, connectTimeout))) {
      yield* Effect.logWarning("Redis store not reachable yet; store operations fail with UpstreamUnavailable until it is")
    }
    return makeService(client, keyPrefix, commandTimeout)
  })

/** The Store operations on a client; each one command or script, so atomic across every instance. */
const makeService = (client: Redis, keyPrefix: string, commandTimeout: Duration.Duration): Store.Service => {
  const k = (key: string) => keyPrefix + key
  const run = <A>(command: () => Promise<unknown>, decode: (reply: unknown) => A | undefined) =>
    Commands.run(commandTimeout, command, decode)
  const withTtl = (ttl: Duration.DurationInput): Array<string | number> => {
    const ms = Commands.ttlMillis(ttl)
    return ms === undefined ? [] : ["PX", ms]
  }
  const ttlArg = (ttl: Duration.DurationInput) => String(Commands.ttlMillis(ttl) ?? "")
  // a span per operation only when the tracer is on (`Effect.fn` made one, and paid for it, even with tracing off)
  return Store.Store.of({
    get: Effect.fnUntraced(function* (key: string) {
      const reply = yield* run(() => client.get(k(key)), Commands.replies.optionalString)
      return Option.fromNullable(reply.value)
    }, spanned(StoreSpan.get)),
    set: Effect.fnUntraced(function* (key: string, value: string, ttl: Duration.DurationInput) {
      yield* run(() => client.call("SET", k(key), value, ...withTtl(ttl)), Commands.replies.ok)
    }, spanned(StoreSpan.set)),
    setIfAbsent: Effect.fnUntraced(function* (key: string, value: string, ttl: Duration.DurationInput) {
      return yield* run(() => client.call("SET", k(key), value, ...withTtl(ttl), "NX"), Commands.replies.okOrNil)
    }, spanned(StoreSpan.setIfAbsent)),
    take: Effect.fnUntraced(function* (key: string) {
      const reply = yield* run(() => client.getdel(k(key)), Commands.replies.optionalString)
      return Option.fromNullable(reply.value)
    }, spanned(StoreSpan.take)),
    compareAndSet: Effect.fnUntraced(function* (
      key: string,
      expected: string,
      next: string,
      ttl: Duration.DurationInput
    ) {
      return yield* run(
        () => Commands.evalScript(client, Commands.compareAndSet, k(key), [expected, next, ttlArg(ttl)]),
        Commands.replies.flag
      )
    }, spanned(StoreSpan.compareAndSet)),
    delete: Effect.fnUntraced(function* (key: string) {
      yield* run(() => client.del(k(key)), Commands.replies.count)
    }, spanned(StoreSpan.delete)),
    increment: Effect.fnUntraced(function* (key: string, window: Duration.DurationInput) {
      return yield* run(
        () => Commands.evalScript(client, Commands.increment, k(key), [ttlArg(window)]),
        (reply) => {
          const count = Commands.replies.count(reply)
          return count !== undefined && count >= 1 ? count : undefined
        }
      )
    }, spanned(StoreSpan.increment))
  })
}

/** The store on Redis as a layer; the connection lives as long as the layer. */
export const layer = (options: RedisStoreOptions): Layer.Layer<Store.Store, ConfigProblem> =>
  Layer.scoped(Store.Store, make(options))

/** Options read from configuration by {@link layerConfig}. */
export interface ConfigOptions extends CommonOptions {
  readonly url: Redacted.Redacted<string>
}

/** `MCP_OAUTH_REDIS_URL` (required, read as a secret) and `MCP_OAUTH_REDIS_KEY_PREFIX` (optional). */
export const config: Config.Config<ConfigOptions> = Config.all({
  url: Config.redacted(urlVariable),
  keyPrefix: Config.option(Config.string("MCP_OAUTH_REDIS_KEY_PREFIX"))
}).pipe(Config.map(({ url, keyPrefix }) => ({ url, keyPrefix: Option.getOrUndefined(keyPrefix) })))

const fromConfigError = (error: ConfigError.ConfigError): ConfigProblem => {
  switch (error._op) {
    case "And":
    case "Or":
      return fromConfigError(error.left)
    case "MissingData":
      return new ConfigProblem({ setting: error.path.join("_") || urlVariable, problem: "is required" })
    default:
      return new ConfigProblem({ setting: error.path.join("_") || urlVariable, problem: error.message })
  }
}

/**
 * Like {@link layer}, with options from configuration (by default {@link config}: `MCP_OAUTH_REDIS_URL`,
 * `MCP_OAUTH_REDIS_KEY_PREFIX`). A missing or malformed URL fails with a {@link ConfigProblem} naming the variable,
 * never showing its value.
 */
export const layerConfig = (options: Config.Config<ConfigOptions> = config): Layer.Layer<Store.Store, ConfigProblem> =>
  Layer.scoped(
    Store.Store,
    Effect.gen(function* () {
      const resolved = yield* Effect.mapError(options, fromConfigError)
      // checked here so that the problem names the variable rather than the option
      yield* checkUrl(urlVariable, Redacted.value(resolved.url))
      return yield* make(resolved)
    })
  )
