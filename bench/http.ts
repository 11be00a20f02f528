/**
 * 2. HTTP throughput: requests per second of a trivial MCP `tools/call` through each adapter with auth, against the
 * same server without auth, and Express with our guard against Express with the official SDK's `requireBearerAuth`.
 * The servers run in a child process (bench/http-server.ts); autocannon drives them from this one over loopback.
 * Each adapter's variants take turns (a fixed number of requests each, rotating order) over many rounds, so the
 * variants compared run close together in time; each ratio is the median of per-round ratios.
 *
 * Two figures per comparison: requests per second as autocannon saw them, and the server process's CPU time per
 * request (from /proc, all its threads) turned into the same kind of ratio (baseline CPU / ours). On a shared machine
 * the first swings with whatever else runs; the second is what the server itself spent, and is the steadier of the two.
 */
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { createInterface } from "node:readline"
import autocannon from "autocannon"
import { pick, quick } from "./lib/env.js"
import { claims, mint, signingKey, startJwksServer } from "./lib/idp.js"
import { toolCallBody, toolCallHeaders } from "./lib/mcp.js"
import { emit, log, type Row } from "./lib/report.js"
import { median, quantile, rotate, round } from "./lib/stats.js"
import { nodeArgs } from "./lib/spawn.js"

const rounds = pick(15, 1)
// a turn is a fixed number of requests (a few hundred ms), so variants compared take turns closely in time
const perTurn = pick(300, 10)
const connections = 10
const resource = "http://127.0.0.1/mcp"

interface Load {
  readonly rps: number
  /** Server CPU time per request, in microseconds (NaN without /proc). */
  readonly cpuUs: number
  readonly p50: number
  readonly p99: number
  readonly bad: number
}

/** CPU time of a process so far (user + system, all threads), in milliseconds; NaN where /proc is not available. */
const cpuMs = (pid: number): number => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    // utime and stime, in clock ticks of 10 ms (USER_HZ is 100 on Linux)
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return Number.NaN
  }
}

const load = async (port: number, token: string | undefined, amount: number, pid: number): Promise<Load> => {
  const cpuBefore = cpuMs(pid)
  const started = performance.now()
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/mcp`,
    method: "POST",
    headers: toolCallHeaders(token),
    body: toolCallBody,
    connections,
    amount,
    // autocannon ends a run at its next sample tick (1 s by default): a short tick makes the wall time the run's own
    sampleInt: 10
  })
  const cpu = cpuMs(pid) - cpuBefore
  return {
    rps: result.requests.total / Math.max((performance.now() - started) / 1000, 0.001),
    cpuUs: (cpu * 1000) / Math.max(1, result.requests.total),
    p50: result.latency.p50,
    p99: result.latency.p99,
    bad: result.non2xx + result.errors + result.timeouts
  }
}

const startServers = async (env: Record<string, string>) => {
  // BENCH_SERVER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the servers
  const extra = (process.env["BENCH_SERVER_NODE_ARGS"] ?? "").split(" ").filter((a) => a !== "")
  const child = spawn(process.execPath, [...nodeArgs(...extra), "bench/http-server.ts"], {
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "inherit"]
  })
  const lines = createInterface({ input: child.stdout! })
  const ready = await new Promise<{ ports: Record<string, number>; skipped: Record<string, string> }>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`http-server exited early (${code})`)))
    lines.on("line", (line) => {
      if (line.startsWith("READY ")) resolve(JSON.parse(line.slice("READY ".length)))
    })
  })
  const stop = () =>
    new Promise<void>((resolve) => {
      child.once("exit", () => resolve())
      child.stdin!.end()
      setTimeout(() => child.kill("SIGKILL"), 5000).unref()
    })
  return { ...ready, stop, pid: child.pid! }
}

const main = async () => {
  const key = await signingKey("RS256")
  const idp = await startJwksServer([key])
  const token = await mint(key, claims(idp.issuer, resource, 1))
  const servers = await startServers({ BENCH_ISSUER: idp.issuer, BENCH_JWKS_URI: idp.jwksUri, BENCH_RESOURCE: resource })
  // BENCH_HTTP_ONLY=node,node+auth restricts the variants (profiling)
  const only = process.env["BENCH_HTTP_ONLY"]?.split(",")
  const names = Object.keys(servers.ports).filter((n) => only === undefined || only.includes(n))
  const tokenFor = (name: string) => (name.includes("+") ? token : undefined)
  log(`http: ${names.length} variants, ${rounds} round(s) of ${perTurn} requests per variant${Object.keys(servers.skipped).length > 0 ? `; skipped ${JSON.stringify(servers.skipped)}` : ""}`)

  // warm-up: JIT, the key set fetch, connection pools
  if (!quick) for (const name of names) await load(servers.ports[name]!, tokenFor(name), perTurn * 2, servers.pid)

  // each adapter's variants take turns among themselves only, so what is compared ran seconds apart at most
  const groups = ["node", "express", "hono"].map((adapter) => names.filter((n) => n === adapter || n.startsWith(`${adapter}+`)))
  const perRound: Record<string, Array<Load>> = Object.fromEntries(names.map((n) => [n, []]))
  for (const group of groups) {
    for (let r = 0; r < rounds; r++) {
      for (const name of rotate(group, r)) perRound[name]!.push(await load(servers.ports[name]!, tokenFor(name), perTurn, servers.pid))
    }
  }
  await servers.stop()
  await idp.close()

  const rps = (name: string) => median(perRound[name]!.map((l) => l.rps))
  const bad = (name: string) => perRound[name]!.reduce((n, l) => n + l.bad, 0)
  const ratio = (each: ReadonlyArray<number>) => ({ median: median(each), p25: quantile(each, 0.25), p75: quantile(each, 0.75) })
  const rows: Array<Row> = []
  const compare = (name: string, baseline: string, target: number, label: string) => {
    if (perRound[name] === undefined || perRound[baseline] === undefined) return
    const ours = perRound[name]!
    const theirs = perRound[baseline]!
    const byRps = ratio(ours.map((l, i) => l.rps / theirs[i]!.rps))
    const byCpu = ratio(ours.map((l, i) => theirs[i]!.cpuUs / l.cpuUs))
    const failures = bad(name) + bad(baseline)
    rows.push({
      section: "http",
      name: label,
      value: rps(name),
      unit: "req/s",
      baseline: { name: baseline, value: rps(baseline) },
      ratio: byRps.median,
      target: `>= ${target}`,
      pass: byRps.median >= target && failures === 0,
      note: `rps ratio IQR ${round(byRps.p25)}–${round(byRps.p75)}; server CPU ratio ${round(byCpu.median)} (${Math.round(median(ours.map((l) => l.cpuUs)))} vs ${Math.round(median(theirs.map((l) => l.cpuUs)))} µs/req)${failures > 0 ? `; ${failures} non-2xx or errors` : ""}`
    })
  }
  for (const adapter of ["node", "express", "hono"]) {
    compare(`${adapter}+auth`, adapter, 0.9, `${adapter}: auth (cache on, one token) / no auth`)
    compare(`${adapter}+auth(no cache)`, adapter, 0.9, `${adapter}: auth (cache off) / no auth`)
    compare(`${adapter}+auth(guard first)`, adapter, 0.9, `${adapter}: auth (guard first, no parser before it) / no auth`)
  }
  compare("express+auth", "express+sdk requireBearerAuth", 1.0, "express: ours (cache on) / SDK requireBearerAuth+jose")
  compare("express+auth(no cache)", "express+sdk requireBearerAuth", 1.0, "express: ours (cache off) / SDK requireBearerAuth+jose")
  for (const [adapter, reason] of Object.entries(servers.skipped)) {
    rows.push({ section: "http", name: `${adapter}: skipped`, value: Number.NaN, unit: "", note: reason })
  }
  emit({ section: "http", rows, details: { rounds, perTurn, connections, perRound, skipped: servers.skipped } })
}

await main()
