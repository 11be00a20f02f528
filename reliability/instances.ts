/**
 * Issue 7, item 4: two server processes in OAuth proxy mode sharing Redis, in front of the test IdP as a non-DCR
 * upstream (reliability/support/instances-server.ts; flows in reliability/support/instances-flow.ts).
 *
 * The IdP runs in a process of its own (reliability/support/instances-idp.ts), like each instance.
 *
 * 1. Crash: RELIABILITY_FLOWS (default 500, 20 under RELIABILITY_QUICK=1) concurrent flows spread over both instances,
 *    sharing the Redis at 127.0.0.1:6379 (MCP_OAUTH_TEST_REDIS_URL), arriving at random over the first 15 seconds
 *    (RELIABILITY_FLOW_SPREAD_MS, 3 s quick), pausing before each step as people and clients do (RELIABILITY_THINK_MS,
 *    a mean of 2 s, 0.3 s quick); once 30% have finished, the second instance is
 *    SIGKILLed (requests then go to the first, as a load balancer's health check would send them) and restarted a second
 *    later. Every flow that had no request in flight on the killed process must complete, with every replay refused.
 * 2. Redis restart: a private redis-server (saving on shutdown, loading on start) under a fresh pair of instances.
 *    Flows obtain tokens, Redis stops, and while it is down both instances must answer what needs the store with 503
 *    and Retry-After (never 500) and what does not (metadata, a request without a token) as usual. Redis starts again;
 *    the flows must then refresh and replay-check as before, and new flows must complete.
 */
import { randomBytes } from "node:crypto"
import { Redis } from "ioredis"
import { startCluster } from "./support/instances-cluster.js"
import { callTool, newFlow, obtainTokens, refreshAndReplay, settle, stepTimes, type FlowResult, type FlowTokens } from "./support/instances-flow.js"
import { startPrivateRedis } from "./support/instances-redis.js"
import { freePort, startChild } from "./support/load-child.js"
import { emit, envNumber, log, quick, quantile, type Row } from "./support/load-report.js"
import { whoamiCall, whoamiHeaders } from "./support/load-tools.js"

const flowCount = envNumber("RELIABILITY_FLOWS", quick ? 20 : 500)
const outageFlowCount = quick ? 4 : 40
const spreadMs = envNumber("RELIABILITY_FLOW_SPREAD_MS", quick ? 3_000 : 15_000)
const thinkMs = envNumber("RELIABILITY_THINK_MS", quick ? 300 : 2_000)
const sharedRedis = process.env["MCP_OAUTH_TEST_REDIS_URL"] ?? "redis://127.0.0.1:6379"
const upstreamClientId = "reliability-proxy"
const upstreamSecret = randomBytes(24).toString("base64url")

/** The upstream IdP in its own process (reliability/support/instances-idp.ts). */
const startUpstream = (origin: string) =>
  startChild("reliability/support/instances-idp.ts", {
    RELIABILITY_ORIGIN: origin,
    RELIABILITY_UPSTREAM_CLIENT_ID: upstreamClientId,
    RELIABILITY_UPSTREAM_SECRET: upstreamSecret
  })

const clusterOn = async (redisUrl: string, keyPrefix: string) => {
  const ports = [await freePort(), await freePort()] as const
  const origin = `http://127.0.0.1:${ports[0]}`
  const idp = await startUpstream(origin)
  const cluster = await startCluster({ origin, ports, upstreamIssuer: idp.ready, upstreamClientId, upstreamSecret, redisUrl, keyPrefix })
  return { idp, cluster }
}

/** Deletes a run's keys from the shared Redis. */
const cleanUp = async (url: string, prefix: string) => {
  const admin = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => null })
  admin.on("error", () => {})
  try {
    let cursor = "0"
    do {
      const [next, keys] = await admin.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000)
      if (keys.length > 0) await admin.del(...keys)
      cursor = next
    } while (cursor !== "0")
  } catch {
    // nothing to clean if Redis is gone
  } finally {
    admin.disconnect()
  }
}

const firstFailures = (results: ReadonlyArray<FlowResult>, n = 3) =>
  results.filter((r) => !r.ok).slice(0, n).map((r) => r.failure!.split("\n")[0]!.slice(0, 300))

/** Phase 1: concurrent flows, one instance killed and restarted mid-run. */
const crash = async (rows: Array<Row>, details: Record<string, unknown>) => {
  const prefix = `mcp-oauth-reliability:${process.pid}-${Date.now().toString(36)}:`
  const { idp, cluster } = await clusterOn(sharedRedis, prefix)
  const killAfter = Math.ceil(flowCount * 0.3)
  const flows = Array.from({ length: flowCount }, (_, i) => newFlow(i))
  const excused = new Set<number>()
  let finished = 0
  let killed: Promise<void> | undefined
  let killedAtMs = Number.NaN
  let startedAfterKill = 0
  let active = 0
  let peak = 0
  const doneBeforeKill = new Set<number>()
  const started = performance.now()
  const durations: Array<number> = []
  const options = { retryUnavailable: true, thinkMs }
  try {
    log(`instances: ${flowCount} concurrent flows over two instances sharing ${sharedRedis}; instance 1 killed after ${killAfter} finish`)
    const results = await Promise.all(
      flows.map(async (flow) => {
        // arrivals spread over the first seconds, so that the crash finds flows at every step and some not yet begun
        await new Promise((resolve) => setTimeout(resolve, Math.random() * spreadMs))
        if (killed !== undefined) startedAfterKill++
        peak = Math.max(peak, ++active)
        const start = performance.now()
        const result = await settle(async () => refreshAndReplay(cluster, flow, options, await obtainTokens(cluster, flow, options)))
        durations.push(performance.now() - start)
        active--
        finished++
        if (killed === undefined) doneBeforeKill.add(flow.id)
        if (finished === killAfter && killed === undefined) {
          // out of the rotation first, so the flows with a request on it right now are exactly the ones excused
          const killing = cluster.kill(1)
          for (const f of flows) if (f.pending[1] > 0) excused.add(f.id)
          killedAtMs = performance.now() - started
          log(`instances: SIGKILL instance 1 with ${excused.size} flows in flight on it`)
          killed = killing.then(async () => {
            await new Promise((resolve) => setTimeout(resolve, 1000))
            await cluster.restart(1)
            log("instances: instance 1 restarted")
          })
        }
        return result
      })
    )
    await killed
    const lost = results.filter((r, i) => !r.ok && !excused.has(i))
    const excusedDone = [...excused].filter((i) => results[i]!.ok).length
    // the flows the crash could have hurt and must not have: running or not yet begun when it happened
    const carried = results.filter((r, i) => r.ok && !excused.has(i) && !doneBeforeKill.has(i)).length
    const answered = cluster.answered()
    const crossReplays = flows.reduce((n, f) => n + f.crossReplays, 0)
    const retried = flows.reduce((n, f) => n + f.retried, 0)
    const elapsed = (performance.now() - started) / 1000
    rows.push({
      section: "instances",
      name: `${flowCount} concurrent proxy flows, instance 1 SIGKILLed at ${killAfter} done and restarted`,
      value: results.filter((r) => r.ok).length,
      unit: "flows done",
      target: "every flow not in flight on the killed process",
      pass: lost.length === 0 && killed !== undefined && carried > 0,
      note:
        `${lost.length} lost outside the crash; ${excused.size} in flight on the killed process (${excusedDone} of them completed anyway), ` +
        `${carried} completed across the crash (${startedAfterKill} begun after it); ` +
        `at most ${peak} flows at once; ${crossReplays} replays on the other instance, all refused; ${retried} 503 retries; answers per instance ${answered.join("/")}; ` +
        `${Math.round(elapsed)} s, flow p50 ${Math.round(quantile(durations, 0.5))} ms, p99 ${Math.round(quantile(durations, 0.99))} ms` +
        (lost.length > 0 ? `; e.g. ${firstFailures(lost).join(" | ")}` : "")
    })
    details["crash"] = {
      flows: flowCount,
      killAfter,
      killedAtSeconds: killedAtMs / 1000,
      excused: excused.size,
      excusedCompleted: excusedDone,
      startedAfterKill,
      completedAcrossCrash: carried,
      peakConcurrentFlows: peak,
      spreadMs,
      thinkMs,
      lost: lost.length,
      failures: firstFailures(lost, 10),
      crossReplays,
      retried,
      answeredPerInstance: answered,
      seconds: elapsed,
      flowMs: { p50: quantile(durations, 0.5), p99: quantile(durations, 0.99) },
      stepMs: Object.fromEntries(Object.entries(stepTimes).map(([step, ms]) => [step, { n: ms.length, p50: Math.round(quantile(ms, 0.5)), p99: Math.round(quantile(ms, 0.99)) }])),
      serverLogTails: lost.length > 0 ? cluster.logs().map((l) => l.slice(-1500)) : undefined
    }
  } finally {
    await cluster.stop()
    await idp.stop()
    await cleanUp(sharedRedis, prefix)
  }
}

/** What one probe sent while Redis was down must get. */
interface Probe {
  readonly name: string
  readonly send: (instance: number) => Promise<Response>
  /** 503 with Retry-After where the store is needed, else the usual status. */
  readonly expect: number
}

/** Phase 2: Redis stopped and started again under running flows. */
const redisRestart = async (rows: Array<Row>, details: Record<string, unknown>) => {
  const redis = await startPrivateRedis(await freePort())
  const { idp, cluster } = await clusterOn(redis.url, "mcp-oauth-reliability:outage:")
  const { origin, ports } = cluster.settings
  const options = { retryUnavailable: false, thinkMs: 0 }
  const at = (instance: number, path: string) => `http://127.0.0.1:${ports[instance]}${path}`
  const tokens: Record<number, FlowTokens> = {}
  try {
    const flows = Array.from({ length: outageFlowCount }, (_, i) => newFlow(10_000 + i))
    const before = await Promise.all(flows.map((flow) => settle(async () => void (tokens[flow.id] = await obtainTokens(cluster, flow, options)))))
    const ready = flows.filter((f) => tokens[f.id] !== undefined)
    const anyToken = tokens[ready[0]?.id ?? -1]?.access ?? "none"
    log(`instances: ${ready.length}/${flows.length} flows hold tokens; stopping Redis`)

    await redis.stop()
    const probes: ReadonlyArray<Probe> = [
      { name: "tool call with a valid token", expect: 503, send: (i) => fetch(at(i, "/mcp"), { method: "POST", headers: whoamiHeaders(anyToken), body: whoamiCall }) },
      {
        name: "register",
        expect: 503,
        send: (i) => fetch(at(i, "/register"), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ redirect_uris: ["http://127.0.0.1:65535/callback"], token_endpoint_auth_method: "none" }) })
      },
      {
        name: "refresh",
        expect: 503,
        send: (i) => fetch(at(i, "/token"), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: tokens[ready[0]?.id ?? -1]?.refresh ?? "none", client_id: tokens[ready[0]?.id ?? -1]?.clientId ?? "none" }) })
      },
      {
        name: "authorize (a page)",
        expect: 503,
        send: (i) => {
          const url = new URL(at(i, "/authorize"))
          const params = { response_type: "code", client_id: tokens[ready[0]?.id ?? -1]?.clientId ?? "none", redirect_uri: "http://127.0.0.1:65535/callback", code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method: "S256", state: "outage", resource: `${origin}/mcp` }
          for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value)
          return fetch(url, { redirect: "manual" })
        }
      },
      { name: "authorization server metadata", expect: 200, send: (i) => fetch(at(i, "/.well-known/oauth-authorization-server")) },
      { name: "tool call without a token", expect: 401, send: (i) => fetch(at(i, "/mcp"), { method: "POST", headers: whoamiHeaders(), body: whoamiCall }) }
    ]
    const outage: Array<string> = []
    let probesOk = true
    for (const probe of probes) {
      for (const instance of [0, 1]) {
        const response = await probe.send(instance).catch((error: unknown) => error as Error)
        if (response instanceof Error) {
          probesOk = false
          outage.push(`${probe.name}@${instance}: no answer (${response.message})`)
          continue
        }
        await response.body?.cancel()
        const retryAfter = response.headers.get("retry-after")
        const right = response.status === probe.expect && (probe.expect !== 503 || retryAfter !== null)
        if (!right) probesOk = false
        outage.push(`${probe.name}@${instance}: ${response.status}${retryAfter === null ? "" : ` Retry-After ${retryAfter}`}${right ? "" : ` (expected ${probe.expect})`}`)
      }
    }

    await redis.start()
    const restartedAt = performance.now()
    // recovery is automatic: the first tool call that succeeds again tells how long the instances took to reconnect
    let recovered = false
    const probeFlow = newFlow(-1)
    while (!recovered && performance.now() - restartedAt < 30_000) {
      const reply = await callTool(cluster, probeFlow, options, "recovery", 0, anyToken).catch(() => undefined)
      recovered = reply?.status === 200 && (await callTool(cluster, probeFlow, options, "recovery", 1, anyToken).catch(() => undefined))?.status === 200
      if (!recovered) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const recoveryMs = performance.now() - restartedAt
    log(`instances: Redis back; recovered=${recovered} after ${Math.round(recoveryMs)} ms`)

    const after = await Promise.all(ready.map((flow) => settle(() => refreshAndReplay(cluster, flow, options, tokens[flow.id]!))))
    const fresh = await Promise.all(
      Array.from({ length: Math.ceil(outageFlowCount / 2) }, (_, i) => newFlow(20_000 + i)).map((flow) =>
        settle(async () => refreshAndReplay(cluster, flow, options, await obtainTokens(cluster, flow, options)))
      )
    )
    const continued = after.filter((r) => r.ok).length
    const freshDone = fresh.filter((r) => r.ok).length
    rows.push({
      section: "instances",
      name: "Redis down: store-bound requests answer 503 + Retry-After, the rest as usual",
      value: outage.length,
      unit: "probes",
      target: "all as expected, no 500",
      pass: probesOk && before.every((r) => r.ok),
      note: outage.join("; ") + (before.every((r) => r.ok) ? "" : `; before the outage: ${firstFailures(before).join(" | ")}`)
    })
    rows.push({
      section: "instances",
      name: "Redis back (restarted with its data): flows resume and new flows complete",
      value: continued + freshDone,
      unit: "flows done",
      target: `${ready.length} resumed + ${fresh.length} new`,
      pass: recovered && continued === ready.length && ready.length === flows.length && freshDone === fresh.length,
      note:
        `recovered ${recovered ? `in ${Math.round(recoveryMs)} ms` : "NOT within 30 s"}; ${continued}/${ready.length} resumed (refresh, replays refused), ` +
        `${freshDone}/${fresh.length} new` +
        ([...after, ...fresh].some((r) => !r.ok) ? `; e.g. ${firstFailures([...after, ...fresh]).join(" | ")}` : "")
    })
    details["redisRestart"] = { outage, recovered, recoveryMs, resumed: continued, of: ready.length, fresh: freshDone, freshOf: fresh.length }
  } finally {
    await cluster.stop()
    await idp.stop()
    await redis.dispose()
  }
}

const main = async () => {
  const rows: Array<Row> = []
  const details: Record<string, unknown> = { flows: flowCount, outageFlows: outageFlowCount }
  await crash(rows, details)
  await redisRestart(rows, details)
  emit({ section: "instances", rows, details })
}

await main()
