import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import type { Row, SectionResult } from "../support/load-report.js"

// the repository root, where `npm run reliability` lives
const root = resolve(import.meta.dirname, "../..")
const scratch = mkdtempSync(join(tmpdir(), "reliability-smoke-"))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/**
 * That `npm run reliability` runs its load and instance sections end to end at smoke sizes (RELIABILITY_QUICK=1: two
 * seconds of load per adapter, ten proxy flows, one instance killed, Redis restarted) and that every check of
 * theirs passes: those are counts of wrong answers, lost flows and 500s, not timings. Skipped when the runner itself
 * runs this project, since it then runs the full sections next.
 */
describe.skipIf(process.env["RELIABILITY_RUNNER"] === "1")("npm run reliability (quick: load and instances)", () => {
  it("runs, checks every response and flow, and writes the results", { timeout: 180_000 }, async () => {
    const out = join(scratch, "results.json")
    const child = spawn("npm", ["run", "reliability"], {
      cwd: root,
      env: {
        ...process.env,
        RELIABILITY_QUICK: "1",
        RELIABILITY_ONLY: "load,instances",
        RELIABILITY_PARALLEL: "1",
        RELIABILITY_LOAD_SECONDS: "2",
        RELIABILITY_FLOWS: "10",
        RELIABILITY_OUT: out
      },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    child.stdout.on("data", (chunk) => (output += String(chunk)))
    child.stderr.on("data", (chunk) => (output += String(chunk)))
    const code = await new Promise<number | null>((done) => child.once("exit", done))
    expect(code, output.slice(-4000)).toBe(0)

    const results = JSON.parse(readFileSync(out, "utf8")) as { quick: boolean; rows: ReadonlyArray<Row>; sections: Record<string, SectionResult> }
    expect(results.quick).toBe(true)
    for (const row of results.rows) expect(row.pass, `${row.name}: ${row.note ?? ""}`).toBe(true)
    const load = results.rows.filter((r) => r.section === "load")
    expect(load.map((r) => r.name.split(":")[0]).sort()).toEqual(["express", "hono", "node"])
    const details = results.sections["load"]!.details as Record<string, { responses: Record<string, number>; wrong: Record<string, number> }>
    for (const adapter of ["node", "express", "hono"]) {
      // both sides of the mix were really exercised, and none was answered wrongly
      expect(details[adapter]!.responses["valid"]).toBeGreaterThan(0)
      expect(Object.keys(details[adapter]!.responses).length).toBeGreaterThan(5)
      expect(details[adapter]!.wrong).toEqual({})
    }
    const instances = results.rows.filter((r) => r.section === "instances")
    expect(instances).toHaveLength(3)
    expect(instances[0]!.value).toBeGreaterThan(0)
  })
})
