/**
 * The doctor's output: a table for people, JSON for machines.
 *
 * @since 0.1.0
 */
import { type Check, count, hasFailure, type Report, type Status } from "./Check.js"

/** How text is rendered. */
export interface TextOptions {
  /** Color the status column (only for a terminal that does not ask for NO_COLOR). */
  readonly color: boolean
}

const labels: Record<Status, string> = { pass: "PASS", warn: "WARN", fail: "FAIL" }
const colors: Record<Status, string> = { pass: "\u001b[32m", warn: "\u001b[33m", fail: "\u001b[31m" }
const reset = "\u001b[0m"
const bold = (text: string, color: boolean) => (color ? `\u001b[1m${text}${reset}` : text)

/** Whether to color output: a TTY, and no NO_COLOR (https://no-color.org: any non-empty value). */
export const useColor = (isTTY: boolean | undefined, env: Readonly<Record<string, string | undefined>>): boolean =>
  isTTY === true && (env["NO_COLOR"] ?? "") === "" && env["TERM"] !== "dumb"

const heading = (report: Report): string =>
  report.kind === "server" ? `MCP server ${report.target}` : `Authorization server ${report.target}`

const table = (checks: ReadonlyArray<Check>, options: TextOptions): Array<string> => {
  const width = Math.max(...checks.map((check) => check.title.length), 5)
  return checks.flatMap((check) => {
    const label = options.color ? `${colors[check.status]}${labels[check.status]}${reset}` : labels[check.status]
    const lines = [`  ${label}  ${check.title.padEnd(width)}  ${check.detail}`]
    if (check.fix !== undefined) lines.push(`        ${" ".repeat(width)}  fix: ${check.fix}`)
    return lines
  })
}

const section = (report: Report, options: TextOptions): Array<string> => [
  bold(heading(report), options.color),
  ...table(report.checks, options),
  ...report.authorizationServers.flatMap((nested) => ["", ...section(nested, options)])
]

/** The report as a table: one row per check, a fix line under each that did not pass, then a summary. */
export const text = (report: Report, options: TextOptions): string => {
  const counts = count(report)
  const summary = `${counts.pass} passed, ${counts.warn} warning${counts.warn === 1 ? "" : "s"}, ${counts.fail} failed`
  return [
    ...section(report, options),
    "",
    hasFailure(report) ? `${summary}: fix the FAIL rows above.` : `${summary}.`,
    ""
  ].join("\n")
}

/** The report as JSON: `ok`, the counts, and the report itself. */
export const json = (report: Report): string =>
  `${JSON.stringify({ ok: !hasFailure(report), counts: count(report), report }, null, 2)}\n`
