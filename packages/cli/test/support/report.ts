/** Reading reports in tests. */
import * as Effect from "effect/Effect"
import type { Check, Report } from "../../src/Check.js"
import * as Doctor from "../../src/Doctor.js"

/** Runs the doctor; rejects when the target cannot be checked. */
export const doctor = (target: string, options: Doctor.DoctorOptions = {}): Promise<Report> =>
  Effect.runPromise(Doctor.run(target, { timeout: "5 seconds", ...options }))

/** The one check with `id` in the report's own checks. */
export const check = (report: Report, id: string): Check => {
  const found = report.checks.filter((c) => c.id === id)
  if (found.length !== 1) {
    throw new Error(`expected one ${id} check, found ${found.length}: ${report.checks.map((c) => c.id).join(", ")}`)
  }
  return found[0]!
}

/** `id: status` for every check, nested reports included, for readable assertion failures. */
export const statuses = (report: Report): Array<string> => [
  ...report.checks.map((c) => `${c.id}: ${c.status}`),
  ...report.authorizationServers.flatMap(statuses)
]

/** The checks of a server report, in the order the doctor runs them. */
export const serverCheckIds = [
  "server.url",
  "server.challenge",
  "server.prm.path",
  "server.prm.root",
  "server.resource",
  "server.authorization_servers",
  "server.authorization_server",
  "server.cors.challenge",
  "server.cors.preflight",
  "server.cors.metadata",
  "server.invalid_token"
] as const

/** The checks of an issuer report, in the order the doctor runs them. */
export const issuerCheckIds = [
  "issuer.url",
  "issuer.metadata",
  "issuer.exact",
  "issuer.pkce",
  "issuer.registration",
  "issuer.endpoints",
  "issuer.token_auth",
  "issuer.jwks",
  "issuer.keys"
] as const
