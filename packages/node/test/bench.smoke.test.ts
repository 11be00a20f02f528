import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { afterAll, describe, expect, it } from "vitest"

// the repository root, where `npm run bench` lives
const root = resolve(import.meta.dirname, "../../..")
const scratch = mkdtempSync(join(tmpdir(), "bench-smoke-"))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

interface Row {
  readonly section: string
  readonly name: string
  readonly value: number
  readonly pass?: boolean
}

/**
 * Only that the benchmark scripts run end to end with tiny counts (BENCH_QUICK=1) and report every section; no figure
 * is judged here, since timings on a shared machine say nothing in a test. The stampede counts are checked: they are
 * counts of fetches, not timings.
 */
describe("npm run bench (quick)", () => {
  it("runs every section and writes the results", { timeout: 240_000 }, async () => {
    const out = join(scratch, "results.json")
    const child = spawn("npm", ["run", "bench"], {
      cwd: root,
      env: { ...process.env, BENCH_QUICK: "1", BENCH_OUT: out },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    child.stdout.on("data", (chunk) => (output += String(chunk)))
    child.stderr.on("data", (chunk) => (output += String(chunk)))
    const code = await new Promise<number | null>((done) => child.once("exit", done))
    expect(code, output.slice(-4000)).toBe(0)

    const results = JSON.parse(readFileSync(out, "utf8")) as { quick: boolean; errors: object; rows: ReadonlyArray<Row> }
    expect(results.quick).toBe(true)
    expect(results.errors).toEqual({})
    const sections = new Set(results.rows.map((row) => row.section))
    expect([...sections].sort()).toEqual(["coldstart", "http", "memory", "stampede", "verify"])
    for (const row of results.rows.filter((r) => r.section === "verify" || r.section === "memory")) {
      expect(Number.isFinite(row.value), row.name).toBe(true)
    }
    for (const row of results.rows.filter((r) => r.section === "stampede")) expect(row.pass, row.name).toBe(true)
  })
})
