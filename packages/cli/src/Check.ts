/**
 * The result of one doctor check, and the report that collects them.
 *
 * @since 0.1.0
 */

/** `pass`, `warn` (works, but worth fixing) or `fail` (a client or the library will refuse it). */
export type Status = "pass" | "warn" | "fail"

/** One check: a stable id, a short title, what was seen and, unless it passed, how to fix it. */
export interface Check {
  readonly id: string
  readonly title: string
  readonly status: Status
  readonly detail: string
  readonly fix?: string | undefined
}

/** What kind of target a report is about. */
export type Kind = "issuer" | "server"

/** The checks of one target; a server's report also holds the reports of its authorization servers. */
export interface Report {
  readonly kind: Kind
  readonly target: string
  readonly checks: ReadonlyArray<Check>
  readonly authorizationServers: ReadonlyArray<Report>
}

/** A passing check. */
export const pass = (id: string, title: string, detail: string): Check => ({ id, title, status: "pass", detail })

/** A warning, with its fix. */
export const warn = (id: string, title: string, detail: string, fix: string): Check => ({
  id,
  title,
  status: "warn",
  detail,
  fix
})

/** A failure, with its fix. */
export const fail = (id: string, title: string, detail: string, fix: string): Check => ({
  id,
  title,
  status: "fail",
  detail,
  fix
})

/** Every check of a report, nested authorization servers included. */
export const allChecks = (report: Report): ReadonlyArray<Check> => [
  ...report.checks,
  ...report.authorizationServers.flatMap(allChecks)
]

/** How many checks of each status a report holds, nested reports included. */
export const count = (report: Report): Readonly<Record<Status, number>> => {
  const counts: Record<Status, number> = { pass: 0, warn: 0, fail: 0 }
  for (const check of allChecks(report)) counts[check.status]++
  return counts
}

/** Whether any check, nested ones included, failed. */
export const hasFailure = (report: Report): boolean => allChecks(report).some((check) => check.status === "fail")
