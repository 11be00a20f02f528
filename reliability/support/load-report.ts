/** How the load and instance runs are sized and how they report: rows with a verdict, printed and handed to the runner. */
import { writeFileSync } from "node:fs"

/** True under RELIABILITY_QUICK=1: the smoke sizes (a few seconds of load, 20 flows), only to prove the scripts run. */
export const quick = process.env["RELIABILITY_QUICK"] === "1"

/** A positive number from the environment, else `fallback`. */
export const envNumber = (name: string, fallback: number): number => {
  const value = Number(process.env[name])
  return Number.isFinite(value) && value > 0 ? value : fallback
}

/** One checked figure. */
export interface Row {
  readonly section: string
  readonly name: string
  readonly value: number
  readonly unit: string
  /** What must hold for the row to pass, in words (e.g. "0 wrong"). */
  readonly target?: string | undefined
  readonly pass: boolean
  readonly note?: string | undefined
}

/** What a section hands to the runner. */
export interface SectionResult {
  readonly section: string
  readonly rows: ReadonlyArray<Row>
  readonly details?: unknown
}

const cell = (value: number): string =>
  Number.isNaN(value) ? "" : Number.isInteger(value) || Math.abs(value) >= 100 ? String(Math.round(value)) : value.toFixed(2)

/** A plain-text table of rows. */
export const table = (rows: ReadonlyArray<Row>): string => {
  const header = ["section", "check", "value", "unit", "target", "ok", "note"]
  const lines = rows.map((r) => [r.section, r.name, cell(r.value), r.unit, r.target ?? "", r.pass ? "yes" : "NO", r.note ?? ""])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  const format = (cells: ReadonlyArray<string>) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()
  return [format(header), format(widths.map((w) => "-".repeat(w))), ...lines.map(format)].join("\n")
}

/** Ends a section: prints its table, writes it where the runner asked (RELIABILITY_SECTION_OUT), and sets the exit code. */
export const emit = (result: SectionResult): void => {
  process.stdout.write(`\n${table(result.rows)}\n`)
  const out = process.env["RELIABILITY_SECTION_OUT"]
  if (out !== undefined && out !== "") writeFileSync(out, JSON.stringify(result, null, 2))
  process.exitCode = result.rows.every((r) => r.pass) ? 0 : 1
}

/** Progress for humans, on stderr so that stdout stays the table. */
export const log = (message: string): void => {
  process.stderr.write(`[reliability] ${message}\n`)
}

/** The q-quantile (0..1) of the values (nearest rank). */
export const quantile = (values: ReadonlyArray<number>, q: number): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}
