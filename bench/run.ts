/**
 * `npm run bench`: runs each section in a fresh Node process (its own heap and JIT), prints one table and writes
 * bench/results.json. BENCH_QUICK=1 shrinks every count (the smoke test); BENCH_ONLY=verify,http picks sections;
 * BENCH_OUT=path writes the results elsewhere; BENCH_PARALLEL=1 runs the sections at once (only to check that they
 * run: their figures then disturb each other).
 */
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { cpus, tmpdir } from "node:os"
import { join } from "node:path"
import { quick } from "./lib/env.js"
import { type SectionResult, table } from "./lib/report.js"
import { since } from "./lib/stats.js"
import { nodeArgs } from "./lib/spawn.js"

const sections: ReadonlyArray<{ readonly name: string; readonly flags: ReadonlyArray<string> }> = [
  { name: "verify", flags: [] },
  { name: "http", flags: [] },
  { name: "stampede", flags: [] },
  { name: "memory", flags: ["--expose-gc"] },
  { name: "coldstart", flags: [] }
]

const only = process.env["BENCH_ONLY"]?.split(",").filter((s) => s !== "")
const out = process.env["BENCH_OUT"] ?? join("bench", "results.json")
const scratch = mkdtempSync(join(tmpdir(), "mcp-oauth-bench-"))

const runSection = (name: string, flags: ReadonlyArray<string>): Promise<{ result?: SectionResult; error?: string; ms: number }> => {
  const start = performance.now()
  const file = join(scratch, `${name}.json`)
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...nodeArgs(...flags), join("bench", `${name}.ts`)], {
      env: { ...process.env, BENCH_SECTION_OUT: file },
      stdio: ["ignore", "inherit", "inherit"]
    })
    child.once("exit", (code) => {
      const ms = since(start)
      if (code !== 0) return resolve({ error: `exited with ${code}`, ms })
      try {
        resolve({ result: JSON.parse(readFileSync(file, "utf8")) as SectionResult, ms })
      } catch (error) {
        resolve({ error: `no result: ${String(error)}`, ms })
      }
    })
  })
}

const main = async () => {
  const started = new Date().toISOString()
  const results: Record<string, SectionResult> = {}
  const errors: Record<string, string> = {}
  const durations: Record<string, number> = {}
  const run = async (section: (typeof sections)[number]) => {
    process.stderr.write(`[bench] section ${section.name}${quick ? " (quick)" : ""}\n`)
    const { result, error, ms } = await runSection(section.name, section.flags)
    durations[section.name] = Math.round(ms)
    if (result !== undefined) results[section.name] = result
    if (error !== undefined) errors[section.name] = error
  }
  const chosen = sections.filter((s) => only === undefined || only.includes(s.name))
  if (process.env["BENCH_PARALLEL"] === "1") await Promise.all(chosen.map(run))
  else for (const section of chosen) await run(section)
  rmSync(scratch, { recursive: true, force: true })
  const rows = chosen.flatMap((s) => results[s.name]?.rows ?? [])
  process.stdout.write(`\n=== mcp-oauth bench (${quick ? "quick" : "full"}) ===\n${table(rows)}\n`)
  if (Object.keys(errors).length > 0) process.stdout.write(`\nfailed sections: ${JSON.stringify(errors)}\n`)
  const machine = { node: process.version, platform: `${process.platform} ${process.arch}`, cpus: cpus().length, cpu: cpus()[0]?.model ?? "" }
  writeFileSync(
    out,
    `${JSON.stringify({ started, quick, machine, durationsMs: durations, errors, rows, sections: results }, null, 2)}\n`
  )
  process.stdout.write(`\nwrote ${out}; sections took ${JSON.stringify(durations)} ms\n`)
  process.exitCode = Object.keys(errors).length > 0 ? 1 : 0
}

await main()
