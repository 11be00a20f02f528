import * as net from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { ConfigProblem } from "@mcp-oauth/auth-core/ConfigProblem"
import { UpstreamUnavailable } from "@mcp-oauth/auth-core/Errors"
import * as Store from "@mcp-oauth/auth-core/Store"
import { StoreSpan } from "@mcp-oauth/auth-core/Telemetry"
import { runStoreContract } from "@mcp-oauth/testing/store"
import { ConfigProvider, Duration, Effect, Exit, Layer, Logger, LogLevel, Option, Redacted, Schedule, Tracer } from "effect"
import { Redis } from "ioredis"
import { RedisStore } from "../src/index.js"
import { startTcpProxy, type TcpProxy } from "./support/tcpProxy.js"

const redisUrl = process.env["MCP_OAUTH_TEST_REDIS_URL"] ?? "redis://127.0.0.1:6379"
const redisTarget = new URL(redisUrl)
/** Every key of this run starts with it, so parallel runs never collide and afterAll removes exactly ours. */
const runPrefix = `mcp-oauth-test:${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}:`

let admin: Redis

beforeAll(async () => {
  admin = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null })
  await admin.connect().catch((error: unknown) => {
    throw new Error(`Redis is not reachable at ${redisUrl} (start redis-server, or set MCP_OAUTH_TEST_REDIS_URL): ${String(error)}`)
  })
})

afterAll(async () => {
  let cursor = "0"
  do {
    const [next, keys] = await admin.scan(cursor, "MATCH", `${runPrefix}*`, "COUNT", 1000)
    cursor = next
    if (keys.length > 0) await admin.del(...keys)
  } while (cursor !== "0")
  await admin.quit()
})

// each namespace is its own prefix; two stores of one namespace are two connections to the same keys
runStoreContract(
  "Redis",
  // a generous command timeout: timeouts are tested below, and a loaded machine must not fail the contract
  (namespace) =>
    RedisStore.make({ url: redisUrl, keyPrefix: `${runPrefix}${namespace}:`, commandTimeout: "5 seconds" }).pipe(Effect.orDie),
  { clock: "live", ttl: "300 millis", sharedInstances: true }
)

let prefixes = 0
const freshPrefix = () => `${runPrefix}specific-${prefixes++}:`

/** A port nothing listens on. */
const deadPort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 1))
    })
  })

const withProxy = Effect.acquireRelease(
  Effect.promise(() => startTcpProxy({ host: redisTarget.hostname, port: Number(redisTarget.port || 6379) })),
  (proxy) => Effect.promise(() => proxy.stop())
)
/** The test Redis URL (credentials and database kept) through the proxy. */
const proxyUrl = (proxy: TcpProxy) => {
  const url = new URL(redisUrl)
  url.hostname = "127.0.0.1"
  url.port = String(proxy.port)
  return url.href
}

/** The failure of an effect expected to fail with UpstreamUnavailable. */
const upstreamFailure = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const exit = yield* Effect.exit(effect)
    if (Exit.isSuccess(exit)) return yield* Effect.dieMessage("expected the operation to fail")
    const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
    if (!(failure instanceof UpstreamUnavailable)) return yield* Effect.dieMessage(`expected UpstreamUnavailable, got ${String(exit.cause)}`)
    return failure
  })

/** Retries until the effect succeeds, for at most `within`. */
const eventually = <A, E>(effect: Effect.Effect<A, E>, within: Duration.DurationInput = "5 seconds") =>
  effect.pipe(
    Effect.retry(Schedule.spaced("50 millis").pipe(Schedule.upTo(within))),
    Effect.catchAll((error) => Effect.dieMessage(`did not succeed in time: ${String(error)}`))
  )

const pollUntil = (condition: () => boolean, within = 5_000) =>
  Effect.gen(function* () {
    const deadline = Date.now() + within
    while (!condition()) {
      if (Date.now() > deadline) return yield* Effect.dieMessage("condition not reached in time")
      yield* Effect.sleep("20 millis")
    }
  })

const allOperations = (store: Store.Service): ReadonlyArray<Effect.Effect<unknown, UpstreamUnavailable>> => [
  store.get("k"),
  store.set("k", "v", "1 minute"),
  store.setIfAbsent("k", "v", "1 minute"),
  store.take("k"),
  store.compareAndSet("k", "v", "w", "1 minute"),
  store.delete("k"),
  store.increment("n", "1 minute")
]

describe("RedisStore keys and TTLs", () => {
  it.scopedLive("keys live under the prefix with millisecond TTLs; counters keep the TTL of their first increment", () =>
    Effect.gen(function* () {
      const prefix = freshPrefix()
      const store = yield* RedisStore.make({ url: redisUrl, keyPrefix: prefix })
      yield* store.set("a", "v", "1500 millis")
      const ttlA = yield* Effect.promise(() => admin.pttl(`${prefix}a`))
      expect(ttlA).toBeGreaterThan(1000)
      expect(ttlA).toBeLessThanOrEqual(1500)
      expect(yield* Effect.promise(() => admin.get(`${prefix}a`))).toBe("v")

      expect(yield* store.setIfAbsent("b", "v", "2 seconds")).toBe(true)
      expect(yield* Effect.promise(() => admin.pttl(`${prefix}b`))).toBeGreaterThan(1500)

      yield* store.set("c", "old", "200 millis")
      expect(yield* store.compareAndSet("c", "old", "new", "3 seconds")).toBe(true)
      expect(yield* Effect.promise(() => admin.pttl(`${prefix}c`))).toBeGreaterThan(2500)

      expect(yield* store.increment("n", "2 seconds")).toBe(1)
      const first = yield* Effect.promise(() => admin.pttl(`${prefix}n`))
      expect(first).toBeGreaterThan(1500)
      yield* Effect.sleep("150 millis")
      expect(yield* store.increment("n", "2 seconds")).toBe(2)
      const second = yield* Effect.promise(() => admin.pttl(`${prefix}n`))
      expect(second).toBeLessThanOrEqual(first - 100)

      yield* store.set("forever", "v", Duration.infinity)
      expect(yield* Effect.promise(() => admin.pttl(`${prefix}forever`))).toBe(-1)
      yield* store.delete("forever")

      expect(yield* store.take("a")).toEqual(Option.some("v"))
      expect(yield* Effect.promise(() => admin.exists(`${prefix}a`))).toBe(0)
    })
  )

  it.scopedLive("each operation is its own span when the tracer is on", () =>
    Effect.gen(function* () {
      const store = yield* RedisStore.make({ url: redisUrl, keyPrefix: freshPrefix() })
      // the names of the spans an operation opens, through a tracer that records what Effect's own one makes
      const spanOf = (effect: Effect.Effect<unknown, unknown>) =>
        Effect.gen(function* () {
          const native = yield* Effect.tracer
          const spans: Array<string> = []
          const recording = Tracer.make({
            span: (...args) => {
              spans.push(args[0])
              return native.span(...args)
            },
            context: native.context
          })
          yield* Effect.withTracer(effect, recording)
          return { name: spans[0], count: spans.length }
        })
      expect(yield* spanOf(store.set("k", "v", "1 minute"))).toEqual({ name: StoreSpan.set, count: 1 })
      expect(yield* spanOf(store.get("k"))).toEqual({ name: StoreSpan.get, count: 1 })
      expect(yield* spanOf(store.increment("n", "1 minute"))).toEqual({ name: StoreSpan.increment, count: 1 })
    })
  )

  it.scopedLive("the default prefix is mcp-oauth:", () =>
    Effect.gen(function* () {
      const store = yield* RedisStore.make({ url: redisUrl })
      const key = `${runPrefix}default-prefix`
      yield* store.set(key, "v", "10 seconds")
      expect(yield* Effect.promise(() => admin.get(`mcp-oauth:${key}`))).toBe("v")
      yield* store.delete(key)
      expect(yield* Effect.promise(() => admin.exists(`mcp-oauth:${key}`))).toBe(0)
    })
  )

  it.scopedLive("a reply error (wrong type, non-integer counter) is UpstreamUnavailable, not a defect", () =>
    Effect.gen(function* () {
      const prefix = freshPrefix()
      const store = yield* RedisStore.make({ url: redisUrl, keyPrefix: prefix })
      yield* Effect.promise(() => admin.hset(`${prefix}hash`, "field", "value"))
      yield* Effect.promise(() => admin.set(`${prefix}text`, "not a number", "PX", 10_000))
      const failing: ReadonlyArray<Effect.Effect<unknown, UpstreamUnavailable>> = [
        store.get("hash"),
        store.take("hash"),
        store.compareAndSet("hash", "a", "b", "1 minute"),
        store.increment("text", "1 minute")
      ]
      for (const operation of failing) {
        const error = yield* upstreamFailure(operation)
        expect(error.reason).toBe("bad_response")
        expect(error.target).toBe("store")
      }
    })
  )

  it.scopedLive("compareAndSet and increment work after the server forgot the scripts (NOSCRIPT)", () =>
    Effect.gen(function* () {
      const prefix = freshPrefix()
      const store = yield* RedisStore.make({ url: redisUrl, keyPrefix: prefix })
      yield* store.set("k", "v1", "10 seconds")
      expect(yield* store.compareAndSet("k", "v1", "v2", "10 seconds")).toBe(true)
      expect(yield* store.increment("n", "10 seconds")).toBe(1)
      // as after a Redis restart or failover: EVALSHA answers NOSCRIPT and the store sends the script itself
      yield* Effect.promise(() => admin.script("FLUSH"))
      expect(yield* store.compareAndSet("k", "v2", "v3", "10 seconds")).toBe(true)
      expect(yield* store.increment("n", "10 seconds")).toBe(2)
    })
  )
})

describe("RedisStore failures", () => {
  // the time bounds below are loose on purpose (a loaded CI machine stalls event loops); what they show is that no
  // call waits for a connection or runs past its timeout

  it.scopedLive("an unreachable Redis: the store starts, and every operation fails at once with unreachable", () =>
    Effect.gen(function* () {
      const port = yield* Effect.promise(deadPort)
      const started = Date.now()
      const store = yield* RedisStore.make({
        url: `redis://127.0.0.1:${port}`,
        connectTimeout: "10 seconds",
        commandTimeout: "10 seconds"
      })
      // refused: make does not wait out the connect timeout
      expect(Date.now() - started).toBeLessThan(3_000)
      for (const operation of allOperations(store)) {
        const before = Date.now()
        const error = yield* upstreamFailure(operation)
        // nor does an operation wait for a connection or its command timeout
        expect(Date.now() - before).toBeLessThan(3_000)
        expect(error).toMatchObject({ reason: "unreachable", target: "store" })
        expect(error.retryAfterSeconds).toBeGreaterThan(0)
      }
    })
  )

  it.scopedLive("a stalled Redis fails commands with a timeout bounded by commandTimeout, then recovers", () =>
    Effect.gen(function* () {
      const proxy = yield* withProxy
      const store = yield* RedisStore.make({ url: proxyUrl(proxy), keyPrefix: freshPrefix(), commandTimeout: "300 millis" })
      yield* eventually(store.set("k", "v", "1 minute"))
      proxy.pause()
      const before = Date.now()
      const error = yield* upstreamFailure(store.get("k"))
      expect(error).toMatchObject({ reason: "timeout", target: "store" })
      expect(Date.now() - before).toBeGreaterThanOrEqual(250)
      expect(Date.now() - before).toBeLessThan(3_000)
      // whatever the state of the connection (a stall past the socket timeout tears it down), no call waits longer
      for (const operation of allOperations(store)) {
        const started = Date.now()
        const failure = yield* upstreamFailure(operation)
        expect(Date.now() - started).toBeLessThan(3_000)
        expect(["timeout", "unreachable"]).toContain(failure.reason)
      }
      proxy.resume()
      expect(yield* eventually(store.get("k"))).toEqual(Option.some("v"))
    })
  )

  it.scopedLive("recovers on its own when Redis comes back", () =>
    Effect.gen(function* () {
      const proxy = yield* withProxy
      const store = yield* RedisStore.make({ url: proxyUrl(proxy), keyPrefix: freshPrefix(), commandTimeout: "300 millis" })
      yield* eventually(store.set("k", "kept", "1 minute"))
      yield* Effect.promise(() => proxy.stop())
      // the client notices the reset at once; while it reconnects, every operation fails with unreachable
      yield* pollUntil(() => proxy.connections() === 0)
      const error = yield* eventually(Effect.flip(store.get("k")), "2 seconds")
      expect(error).toMatchObject({ reason: "unreachable", target: "store" })
      const down = yield* upstreamFailure(store.increment("n", "1 minute"))
      expect(down.reason).toBe("unreachable")
      yield* Effect.promise(() => proxy.start())
      expect(yield* eventually(store.get("k"))).toEqual(Option.some("kept"))
      // the failed increment did not run later on reconnect
      expect(yield* store.increment("n", "1 minute")).toBe(1)
    })
  )

  it.live("closing the scope closes the connection the store opened", () =>
    Effect.gen(function* () {
      const proxy = yield* withProxy
      yield* Effect.scoped(
        Effect.gen(function* () {
          const store = yield* RedisStore.make({ url: proxyUrl(proxy), keyPrefix: freshPrefix() })
          yield* eventually(store.set("k", "v", "1 minute"))
          expect(proxy.connections()).toBe(1)
        })
      )
      yield* pollUntil(() => proxy.connections() === 0)
    }).pipe(Effect.scoped)
  )

  it.live("a client the application passes stays open after the scope closes", () =>
    Effect.gen(function* () {
      const client = yield* Effect.acquireRelease(
        Effect.sync(() => new Redis(redisUrl)),
        (c) => Effect.promise(() => c.quit())
      )
      const prefix = freshPrefix()
      yield* Effect.scoped(
        Effect.gen(function* () {
          const store = yield* RedisStore.make({ client, keyPrefix: prefix })
          yield* store.set("k", "v", "1 minute")
        })
      )
      expect(client.status).toBe("ready")
      expect(yield* Effect.promise(() => client.get(`${prefix}k`))).toBe("v")
      expect(client.listenerCount("error")).toBe(0)
    }).pipe(Effect.scoped)
  )
})

describe("RedisStore configuration", () => {
  const withEnv = (env: Record<string, string>) => Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

  const configFailure = (env: Record<string, string>) =>
    Effect.gen(function* () {
      const exit = yield* Layer.build(RedisStore.layerConfig()).pipe(Effect.scoped, withEnv(env), Effect.exit)
      if (Exit.isSuccess(exit) || exit.cause._tag !== "Fail") return yield* Effect.dieMessage("expected a ConfigProblem")
      expect(exit.cause.error).toBeInstanceOf(ConfigProblem)
      return exit.cause.error
    })

  it.live("a missing MCP_OAUTH_REDIS_URL is a ConfigProblem naming it", () =>
    Effect.gen(function* () {
      const problem = yield* configFailure({})
      expect(problem.setting).toBe("MCP_OAUTH_REDIS_URL")
      expect(problem.problem).toBe("is required")
    })
  )

  it.live("a bad MCP_OAUTH_REDIS_URL is a ConfigProblem naming it, without showing the password", () =>
    Effect.gen(function* () {
      for (const url of ["https://:hunter2@cache.example.com", "redis//:hunter2@cache", "redis://:hunter2@cache/not-a-db", ""]) {
        const problem = yield* configFailure({ MCP_OAUTH_REDIS_URL: url })
        expect(problem.setting).toBe("MCP_OAUTH_REDIS_URL")
        expect(problem.message).not.toContain("hunter2")
        expect(problem.message.startsWith("MCP_OAUTH_REDIS_URL: ")).toBe(true)
      }
    })
  )

  it.live("bad options are ConfigProblems naming the option", () =>
    Effect.gen(function* () {
      for (const [options, setting] of [
        [{ url: "http://127.0.0.1:6379" }, "url"],
        [{ url: Redacted.make("not a url :secret@") }, "url"],
        [{ url: redisUrl, commandTimeout: 0 }, "commandTimeout"],
        [{ url: redisUrl, connectTimeout: Duration.infinity }, "connectTimeout"]
      ] as const) {
        const exit = yield* Effect.exit(Effect.scoped(RedisStore.make(options)))
        if (Exit.isSuccess(exit) || exit.cause._tag !== "Fail") return yield* Effect.dieMessage("expected a ConfigProblem")
        expect(exit.cause.error).toMatchObject({ setting })
        expect(exit.cause.error.message).not.toContain("secret")
      }
    })
  )

  it.live("layerConfig reads the URL and key prefix, and the layer provides the Store", () =>
    Effect.gen(function* () {
      const prefix = freshPrefix()
      yield* Effect.gen(function* () {
        const store = yield* Store.Store
        yield* store.set("k", "v", "10 seconds")
      }).pipe(
        Effect.provide(RedisStore.layerConfig()),
        withEnv({ MCP_OAUTH_REDIS_URL: redisUrl, MCP_OAUTH_REDIS_KEY_PREFIX: prefix })
      )
      expect(yield* Effect.promise(() => admin.get(`${prefix}k`))).toBe("v")
      yield* Effect.gen(function* () {
        const store = yield* Store.Store
        expect(yield* store.take("k")).toEqual(Option.some("v"))
      }).pipe(Effect.provide(RedisStore.layer({ url: redisUrl, keyPrefix: prefix })))
    })
  )

  it.live("the password in the URL appears in no log line and no error", () =>
    Effect.gen(function* () {
      const port = yield* Effect.promise(deadPort)
      const lines: Array<string> = []
      const capture = Logger.make(({ message, annotations }) => {
        lines.push(JSON.stringify({ message, annotations: [...annotations] }))
      })
      const errors = yield* Effect.gen(function* () {
        const store = yield* Store.Store
        return yield* Effect.forEach(allOperations(store), Effect.flip)
      }).pipe(
        Effect.provide(RedisStore.layerConfig()),
        withEnv({ MCP_OAUTH_REDIS_URL: `redis://admin:sup3rsecret@127.0.0.1:${port}` }),
        Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
        Logger.withMinimumLogLevel(LogLevel.All)
      )
      expect(lines.length).toBeGreaterThan(0)
      for (const line of lines) expect(line).not.toContain("sup3rsecret")
      for (const error of errors) {
        expect(error).toBeInstanceOf(UpstreamUnavailable)
        expect(JSON.stringify(error)).not.toContain("sup3rsecret")
        expect(error.message).not.toContain("sup3rsecret")
      }
    })
  )
})
