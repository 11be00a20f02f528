/** Bounded Redis commands, the Lua scripts of the atomic operations, and the mapping of client errors. */
import { createHash } from "node:crypto"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { UpstreamUnavailable, type UpstreamFailure } from "@mcp-oauth/auth-core/Errors"
import type { Redis } from "ioredis"

/** The `target` every store error names. */
export const target = "store"

/** Seconds a client is told to wait before retrying, by failure. */
const retryAfter: Record<UpstreamFailure, number> = {
  unreachable: 2,
  timeout: 1,
  status: 2,
  bad_response: 5,
  too_large: 5
}

/** The store's error for a failure. */
export const unavailable = (reason: UpstreamFailure): UpstreamUnavailable =>
  new UpstreamUnavailable({ reason, target, retryAfterSeconds: retryAfter[reason] })

/**
 * What a rejected command means: a reply error (wrong type, script error, out of memory, read-only replica) is a
 * bad response, the client's own timeout is a timeout, anything else (refused, reset, closed, not writable while
 * reconnecting) is unreachable.
 */
export const classify = (error: unknown): UpstreamFailure => {
  if (error instanceof Error) {
    if (error.name === "ReplyError") return "bad_response"
    if (/timed out|timeout/i.test(error.message)) return "timeout"
  }
  return "unreachable"
}

/** A Lua script sent by SHA1 (EVALSHA), and in full when the server does not know it yet (NOSCRIPT). */
export interface Script {
  readonly lua: string
  readonly sha1: string
}

const script = (lua: string): Script => ({ lua, sha1: createHash("sha1").update(lua).digest("hex") })

/**
 * Replaces the value only when it equals ARGV[1]; ARGV[3] is the TTL in milliseconds, or "" for none.
 * Returns 1 when it replaced, 0 otherwise.
 */
export const compareAndSet = script(`if redis.call('GET', KEYS[1]) == ARGV[1] then
  if ARGV[3] == '' then
    redis.call('SET', KEYS[1], ARGV[2])
  else
    redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  end
  return 1
end
return 0`)

/**
 * Increments a counter and, when it has no expiry yet (the first increment), starts its window of ARGV[1]
 * milliseconds ("" for none). Returns the new count.
 */
export const increment = script(`local count = redis.call('INCR', KEYS[1])
if ARGV[1] ~= '' and redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return count`)

/** Runs a script atomically on one key. */
export const evalScript = (client: Redis, s: Script, key: string, args: ReadonlyArray<string>): Promise<unknown> =>
  client.evalsha(s.sha1, 1, key, ...args).catch((error: unknown) => {
    if (error instanceof Error && error.message.startsWith("NOSCRIPT")) return client.eval(s.lua, 1, key, ...args)
    throw error
  })

/**
 * A TTL as whole milliseconds for PX/PEXPIRE (at least 1; Redis refuses 0), or undefined for an infinite one
 * (no expiry).
 */
export const ttlMillis = (ttl: Duration.DurationInput): number | undefined => {
  const duration = Duration.decode(ttl)
  if (!Duration.isFinite(duration)) return undefined
  return Math.max(1, Math.ceil(Duration.toMillis(duration)))
}

/**
 * Runs one command bounded by `timeout` and decodes its reply; every failure becomes {@link UpstreamUnavailable}
 * and a reply `decode` rejects (returns undefined) is a bad response. A timed-out command may still run on the
 * server: the caller cannot know, as with any remote call.
 */
export const run = <A>(
  timeout: Duration.Duration,
  command: () => Promise<unknown>,
  decode: (reply: unknown) => A | undefined
): Effect.Effect<A, UpstreamUnavailable> =>
  Effect.tryPromise({ try: command, catch: (error) => unavailable(classify(error)) }).pipe(
    Effect.timeoutFail({ duration: timeout, onTimeout: () => unavailable("timeout") }),
    Effect.flatMap((reply) => {
      const decoded = decode(reply)
      return decoded === undefined ? Effect.fail(unavailable("bad_response")) : Effect.succeed(decoded)
    })
  )

/** Reply decoders. */
export const replies = {
  /** A bulk string or nil (GET, GETDEL). */
  optionalString: (reply: unknown): { readonly value: string | null } | undefined =>
    reply === null ? { value: null } : typeof reply === "string" ? { value: reply } : undefined,
  /** `OK` (SET). */
  ok: (reply: unknown): true | undefined => (reply === "OK" ? true : undefined),
  /** `OK` or nil (SET NX). */
  okOrNil: (reply: unknown): boolean | undefined => (reply === "OK" ? true : reply === null ? false : undefined),
  /** 0 or 1 (scripts). */
  flag: (reply: unknown): boolean | undefined => (reply === 1 ? true : reply === 0 ? false : undefined),
  /** A non-negative integer (DEL, INCR). */
  count: (reply: unknown): number | undefined =>
    typeof reply === "number" && Number.isSafeInteger(reply) && reply >= 0 ? reply : undefined
}
