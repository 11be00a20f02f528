/**
 * 5. Cold start: from spawning a process to the answer of its first verified request (key set not yet fetched), per
 * adapter, against the same process without auth, in alternating runs. Every child runs through tsx with the source
 * condition (as the bench does), so absolute figures include compiling TypeScript; the ratio is what to read.
 */
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { pick, quick } from "./lib/env.js"
import { claims, mint, signingKey, startJwksServer } from "./lib/idp.js"
import { toolCallBody, toolCallHeaders } from "./lib/mcp.js"
import { emit, log, type Row } from "./lib/report.js"
import { median, since } from "./lib/stats.js"
import { nodeArgs } from "./lib/spawn.js"

const runs = pick(2, 1)
const adapters = quick ? (["node"] as const) : (["node", "express", "hono"] as const)
const resource = "http://127.0.0.1/mcp"

interface Start {
  /** Spawn to `READY`. */
  readonly listening: number
  /** Spawn to the first answer. */
  readonly firstAnswer: number
  readonly status: number
}

const coldStart = async (adapter: string, mode: "auth" | "none", env: Record<string, string>, token: string): Promise<Start> => {
  const start = performance.now()
  const child = spawn(process.execPath, [...nodeArgs(), "bench/coldstart-child.ts", adapter, mode], {
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "inherit"]
  })
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`${adapter}/${mode} exited early (${code})`)))
      createInterface({ input: child.stdout! }).on("line", (line) => {
        if (line.startsWith("READY ")) resolve(Number(line.slice("READY ".length)))
      })
    })
    const listening = since(start)
    const response = await fetch(`http://127.0.0.1:${port}/mcp`, {
      method: "POST",
      headers: toolCallHeaders(mode === "auth" ? token : undefined),
      body: toolCallBody
    })
    await response.text()
    return { listening, firstAnswer: since(start), status: response.status }
  } finally {
    await new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve()
      child.once("exit", () => resolve())
      child.stdin!.end()
      setTimeout(() => child.kill("SIGKILL"), 5000).unref()
    })
  }
}

const main = async () => {
  const key = await signingKey("RS256")
  const idp = await startJwksServer([key])
  const token = await mint(key, claims(idp.issuer, resource, 1))
  const env = { BENCH_ISSUER: idp.issuer, BENCH_JWKS_URI: idp.jwksUri, BENCH_RESOURCE: resource }
  // one discarded start: fills tsx's transform cache so that no run pays for the first compilation
  if (!quick) await coldStart("node", "auth", env, token)
  const results: Record<string, Array<Start>> = {}
  for (let r = 0; r < runs; r++) {
    for (const adapter of adapters) {
      for (const mode of r % 2 === 0 ? (["auth", "none"] as const) : (["none", "auth"] as const)) {
        const name = `${adapter}/${mode}`
        const result = await coldStart(adapter, mode, env, token).catch((error: unknown) => {
          log(`coldstart ${name}: ${error instanceof Error ? error.message : String(error)}`)
          return undefined
        })
        if (result !== undefined) (results[name] ??= []).push(result)
      }
    }
  }
  await idp.close()
  const rows: Array<Row> = []
  for (const adapter of adapters) {
    const auth = results[`${adapter}/auth`]
    const none = results[`${adapter}/none`]
    if (auth === undefined || none === undefined) {
      rows.push({ section: "coldstart", name: `${adapter}: skipped`, value: Number.NaN, unit: "", note: "did not start" })
      continue
    }
    const ok = auth.every((s) => s.status === 200) && none.every((s) => s.status === 200)
    const authMs = median(auth.map((s) => s.firstAnswer))
    const noneMs = median(none.map((s) => s.firstAnswer))
    rows.push({
      section: "coldstart",
      name: `${adapter}: spawn → first verified answer`,
      value: authMs,
      unit: "ms",
      baseline: { name: "no auth", value: noneMs },
      ratio: authMs / noneMs,
      pass: ok,
      note: `listening after ${Math.round(median(auth.map((s) => s.listening)))} ms (no auth ${Math.round(median(none.map((s) => s.listening)))} ms); ${runs} runs each${ok ? "" : "; a first request failed"}`
    })
  }
  emit({ section: "coldstart", rows, details: { runs, results } })
}

await main()
