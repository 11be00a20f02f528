/**
 * Issue 7, item 1 (in-process part): the proxy's Redis connection killed mid-flow (`CLIENT KILL` on the real Redis at
 * 127.0.0.1:6379), between the sign-in and the code redemption. Expected: while the store is unreachable the proxy
 * answers 503 with Retry-After (never 500), the pending code is not lost, the connection comes back on its own and
 * the flow completes; single use and refresh rotation still hold afterwards. Processes sharing Redis and a Redis
 * restart are covered by `reliability/instances.ts`.
 */
import { RedisStore } from "@mcp-oauth/redis"
import { Redis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Answer, authorize, callWhoami, jsonOf, redeem, refresh, registerClient } from "../support/clients.js"
import { type ProxyStack, startProxyStack } from "../support/stacks.js"

const connectionName = `reliability-${crypto.randomUUID()}`

/** Kills every connection of the store by its client name; returns how many were killed. */
const killStoreConnections = async (admin: Redis): Promise<number> => {
  const list = String(await admin.call("CLIENT", "LIST"))
  const ids = list
    .split("\n")
    .filter((line) => line.includes(` name=${connectionName} `))
    .map((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1])
    .filter((id): id is string => id !== undefined)
  for (const id of ids) await admin.call("CLIENT", "KILL", "ID", id)
  return ids.length
}

/** Repeats `attempt` until it is not a 503; every 503 on the way must say when to retry. */
const untilAvailable = async (attempt: () => Promise<Answer>): Promise<{ readonly answer: Answer; readonly unavailable: number }> => {
  for (let unavailable = 0; unavailable < 100; unavailable++) {
    const answer = await attempt()
    expect(answer.status).not.toBe(500)
    if (answer.status !== 503) return { answer, unavailable }
    expect(Number(answer.headers.get("retry-after"))).toBeGreaterThanOrEqual(1)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error("the store never came back")
}

describe("the proxy's Redis connection killed mid-flow", () => {
  let admin: Redis
  let client: Redis
  let stack: ProxyStack
  beforeAll(async () => {
    admin = new Redis({ host: "127.0.0.1", port: 6379, lazyConnect: true })
    await admin.connect()
    // fail fast while disconnected, as RedisStore's own connections do; reconnect after half a second, so that the
    // requests right after a kill meet the outage
    client = new Redis({
      host: "127.0.0.1",
      port: 6379,
      connectionName,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 500
    })
    stack = await startProxyStack({
      adapter: "node",
      upstreamSecret: `secret-${crypto.randomUUID()}`,
      store: RedisStore.layer({ client, keyPrefix: `${connectionName}:` })
    })
  })
  afterAll(async () => {
    await stack?.close()
    client?.disconnect()
    admin?.disconnect()
  })

  it("answers 503 with Retry-After while the store is gone, loses nothing, and completes the flow once it is back", async () => {
    const mcpClient = await registerClient(stack.origin, false)
    const signedIn = await authorize(stack, mcpClient)
    expect(signedIn.callback.searchParams.get("code")).not.toBeNull()

    expect(await killStoreConnections(admin)).toBeGreaterThan(0)
    const redeemed = await untilAvailable(() => redeem(stack, mcpClient, signedIn))
    expect(redeemed.unavailable).toBeGreaterThanOrEqual(1)
    expect(redeemed.answer.status, `after ${redeemed.unavailable} unavailable: ${redeemed.answer.text}`).toBe(200)
    const tokens = jsonOf(redeemed.answer)
    expect((await callWhoami(stack.resource, `Bearer ${String(tokens["access_token"])}`)).status).toBe(200)
    // the code stayed single-use across the outage (and its replay ends the grant, as RFC 6749 §4.1.2 asks)
    expect(jsonOf(await redeem(stack, mcpClient, signedIn))["error"]).toBe("invalid_grant")

    // another grant, its store connection killed just before a refresh: the refresh token is kept for the retry,
    // then rotated exactly once
    const second = jsonOf(await redeem(stack, mcpClient, await authorize(stack, mcpClient)))
    expect(await killStoreConnections(admin)).toBeGreaterThan(0)
    const refreshed = await untilAvailable(() => refresh(stack.origin, mcpClient, String(second["refresh_token"])))
    expect(refreshed.unavailable).toBeGreaterThanOrEqual(1)
    expect(refreshed.answer.status, `after ${refreshed.unavailable} unavailable: ${refreshed.answer.text}`).toBe(200)
    expect((await callWhoami(stack.resource, `Bearer ${String(jsonOf(refreshed.answer)["access_token"])}`)).status).toBe(200)
    expect(jsonOf(await refresh(stack.origin, mcpClient, String(second["refresh_token"])))["error"]).toBe("invalid_grant")
    expect(stack.logs.join("\n")).not.toMatch(/defect/i)
  })
})
