/** The rows each section reports, printed as a table and gathered into bench/results.json. */
import { writeFileSync } from "node:fs"
import { round } from "./stats.js"

/** One measured figure, with the baseline it was measured beside and the target it answers to. */
export interface Row {
  readonly section: string
  readonly name: string
  /** Our figure. */
  readonly value: number
  readonly unit: string
  /** The figure measured side by side in the same run, when the row is a comparison. */
  readonly baseline?: { readonly name: string; readonly value: number } | undefined
  /** The figure the target is stated in (a ratio, a count, megabytes). */
  readonly ratio?: number | undefined
  /** The target, e.g. "<= 1.15". */
  readonly target?: string | undefined
  readonly pass?: boolean | undefined
  readonly note?: string | undefined
}

/** What a section hands back to the runner. */
export interface SectionResult {
  readonly section: string
  readonly rows: ReadonlyArray<Row>
  /** Raw per-round figures and settings, for whoever wants to look closer. */
  readonly details?: unknown
}

const cell = (value: number | undefined): string =>
  value === undefined || Number.isNaN(value) ? "" : Math.abs(value) >= 100 ? String(Math.round(value)) : String(round(value, 2))

/** A plain-text table of rows. */
export const table = (rows: ReadonlyArray<Row>): string => {
  const header = ["section", "measure", "ours", "unit", "baseline", "ratio", "target", "ok", "note"]
  const lines = rows.map((r) => [
    r.section,
    r.name,
    cell(r.value),
    r.unit,
    r.baseline === undefined ? "" : `${cell(r.baseline.value)} (${r.baseline.name})`,
    cell(r.ratio),
    r.target ?? "",
    r.pass === undefined ? "" : r.pass ? "yes" : "NO",
    r.note ?? ""
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  const format = (cells: ReadonlyArray<string>) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()
  return [format(header), format(widths.map((w) => "-".repeat(w))), ...lines.map(format)].join("\n")
}

/**
 * Ends a section: prints its table and, when run by the runner (BENCH_SECTION_OUT set), writes its result there.
 */
export const emit = (result: SectionResult): void => {
  process.stdout.write(`\n${table(result.rows)}\n`)
  const out = process.env["BENCH_SECTION_OUT"]
  if (out !== undefined && out !== "") writeFileSync(out, JSON.stringify(result, null, 2))
}

/** Progress for humans, on stderr so that stdout stays the table. */
export const log = (message: string): void => {
  process.stderr.write(`[bench] ${message}\n`)
}
