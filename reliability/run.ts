/**
 * `npm run reliability`: the reliability tests (faults, fuzzing, secrets: the vitest project `reliability`, run harder
 * with RELIABILITY_RUNS, default 4), then sustained load on each adapter (load.ts), then several instances (instances.ts),
 * each in a process of its own. Prints one table of checks, writes reliability/results.json (RELIABILITY_OUT elsewhere)
 * and exits 1 if any check failed.
 *
 * RELIABILITY_ONLY=tests,load,instances picks sections; RELIABILITY_QUICK=1 shrinks the load and the flows (the smoke
 * test's sizes) and RELIABILITY_PARALLEL=1 runs the sections at once (to prove they run, not to measure);
 * RELIABILITY_LOAD_SECONDS, RELIABILITY_FLOWS and RELIABILITY_ADAPTERS size them by hand.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { cpus, tmpdir } from "node:os"
import { join } from "node:path"
import { nodeArgs } from "./support/load-child.js"
import { log, quick, type Row, type SectionResult, table } from "./support/load-report.js"

const only = process.env["RELIABILITY_ONLY"]?.split(",").filter((s) => s !== "")
const out = process.env["RELIABILITY_OUT"] ?? join("reliability", "results.json")
const runsFactor = process.env["RELIABILITY_RUNS"] ?? "4"
const scratch = mkdtempSync(join(tmpdir(), "mcp-oauth-reliability-"))

/** Runs a command with the terminal as its output; resolves to its exit code. */
const run = (command: string, args: ReadonlyArray<string>, env: Record<string, string>): Promise<number> =>
  new Promise((resolve) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "inherit", "inherit"] })
    child.once("error", () => resolve(127))
    child.once("exit", (code, signal) => resolve(code ?? (signal === null ? 1 : 128)))
  })

interface VitestJson {
  readonly numTotalTests: number
  readonly numFailedTests: number
  readonly testResults: ReadonlyArray<{
    readonly name: string
    readonly assertionResults: ReadonlyArray<{ readonly status: string; readonly fullName: string; readonly duration?: number | null }>
  }>
}

/** The vitest project, one row per test file. */
const tests = async (): Promise<SectionResult> => {
  const file = join(scratch, "vitest.json")
  // more runs take longer: the project's per-test timeout grows with them
  const timeout = String(Math.round(60_000 + 60_000 * Number(runsFactor)))
  const code = await run("npx", ["vitest", "run", "--project", "reliability", `--testTimeout=${timeout}`, "--reporter=default", "--reporter=json", `--outputFile.json=${file}`], {
    RELIABILITY_RUNS: runsFactor,
    // the smoke test of this runner would only repeat, small, what the next sections do in full
    RELIABILITY_RUNNER: "1"
  })
  let report: VitestJson
  try {
    report = JSON.parse(readFileSync(file, "utf8")) as VitestJson
  } catch {
    return { section: "tests", rows: [{ section: "tests", name: "vitest project reliability", value: Number.NaN, unit: "", pass: false, note: `no report (exit ${code})` }] }
  }
  const rows: Array<Row> = report.testResults.map((suite) => {
    const counted = suite.assertionResults.filter((a) => a.status !== "skipped" && a.status !== "pending" && a.status !== "todo")
    const failed = counted.filter((a) => a.status === "failed")
    const seconds = suite.assertionResults.reduce((s, a) => s + (a.duration ?? 0), 0) / 1000
    return {
      section: "tests",
      name: suite.name.slice(suite.name.lastIndexOf("reliability/") + "reliability/".length),
      value: counted.length - failed.length,
      unit: "tests passed",
      target: `${counted.length} of ${counted.length}`,
      pass: failed.length === 0,
      note: `${Math.round(seconds)} s at RELIABILITY_RUNS=${runsFactor}` + (failed.length > 0 ? `; failed: ${failed.slice(0, 3).map((a) => a.fullName).join(" | ")}` : "")
    }
  })
  if (code !== 0 && rows.every((r) => r.pass)) rows.push({ section: "tests", name: "vitest exit code", value: code, unit: "", pass: false })
  return { section: "tests", rows, details: { exitCode: code, tests: report.numTotalTests, failed: report.numFailedTests } }
}

/** A script section (load.ts, instances.ts) in a fresh Node process. */
const script = (name: string) => async (): Promise<SectionResult> => {
  const file = join(scratch, `${name}.json`)
  const code = await run(process.execPath, [...nodeArgs(), join("reliability", `${name}.ts`)], { RELIABILITY_SECTION_OUT: file })
  try {
    return JSON.parse(readFileSync(file, "utf8")) as SectionResult
  } catch {
    return { section: name, rows: [{ section: name, name: `${name}.ts`, value: Number.NaN, unit: "", pass: false, note: `no result (exit ${code})` }] }
  }
}

const sections: ReadonlyArray<{ readonly name: string; readonly run: () => Promise<SectionResult> }> = [
  { name: "tests", run: tests },
  { name: "load", run: script("load") },
  { name: "instances", run: script("instances") }
]

const main = async () => {
  const started = new Date().toISOString()
  const results: Record<string, SectionResult> = {}
  const durations: Record<string, number> = {}
  const runSection = async (section: (typeof sections)[number]) => {
    log(`section ${section.name}${quick ? " (quick)" : ""}`)
    const start = performance.now()
    results[section.name] = await section.run()
    durations[section.name] = Math.round((performance.now() - start) / 1000)
  }
  const chosen = sections.filter((s) => only === undefined || only.includes(s.name))
  // at once only to prove the scripts run (the smoke test): the sections' load then disturbs the others' figures
  if (process.env["RELIABILITY_PARALLEL"] === "1") await Promise.all(chosen.map(runSection))
  else for (const section of chosen) await runSection(section)
  rmSync(scratch, { recursive: true, force: true })
  const rows = Object.values(results).flatMap((r) => r.rows)
  const failed = rows.filter((r) => !r.pass).length
  process.stdout.write(`\n=== mcp-oauth reliability (${quick ? "quick" : "full"}) ===\n${table(rows)}\n\n${failed === 0 ? "all checks passed" : `${failed} check(s) FAILED`}\n`)
  const machine = { node: process.version, platform: `${process.platform} ${process.arch}`, cpus: cpus().length, cpu: cpus()[0]?.model ?? "" }
  writeFileSync(out, `${JSON.stringify({ started, quick, runsFactor: Number(runsFactor), machine, durationsSeconds: durations, rows, sections: results }, null, 2)}\n`)
  process.stdout.write(`wrote ${out}; sections took ${JSON.stringify(durations)} s\n`)
  process.exitCode = failed === 0 && rows.length > 0 ? 0 : 1
}

await main()
