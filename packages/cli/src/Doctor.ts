/**
 * `mcp-oauth doctor`: detects what a URL is and runs the matching checks.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import type { Kind, Report } from "./Check.js"
import { detect, type UnknownKind } from "./Detect.js"
import * as IssuerChecks from "./IssuerChecks.js"
import * as Probe from "./Probe.js"
import * as ServerChecks from "./ServerChecks.js"

/** Options of a doctor run. */
export interface DoctorOptions {
  /** Skip detection and check the target as this kind. */
  readonly kind?: Kind | undefined
  /** The browser origin sent in the CORS checks (default `https://mcp-oauth-doctor.example`). */
  readonly origin?: string | undefined
  /** Timeout of each request (default 5 seconds). */
  readonly timeout?: Duration.DurationInput | undefined
}

/** The origin sent in CORS checks unless told otherwise; any origin will do for a server that allows all. */
export const defaultOrigin = "https://mcp-oauth-doctor.example"

/** Why no report could be made: the target is unreachable, or is neither kind. */
export type DoctorError = Probe.ProbeError | UnknownKind

/**
 * Checks a target with the prober and `HttpClient` in context. The library's own log lines (a refused issuer,
 * an unusable key) are silenced: the report says the same, with the fix.
 */
export const check = (
  target: string,
  options: DoctorOptions = {}
): Effect.Effect<Report, DoctorError, Probe.Probe | HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const kind = options.kind ?? (yield* detect(target))
    return kind === "issuer"
      ? yield* IssuerChecks.run(target)
      : yield* ServerChecks.run(target, { origin: options.origin ?? defaultOrigin })
  }).pipe(Logger.withMinimumLogLevel(LogLevel.None), Effect.withSpan("Doctor.check"))

/** Checks a target over fetch, with the given timeout per request. */
export const run = (target: string, options: DoctorOptions = {}): Effect.Effect<Report, DoctorError> =>
  Effect.provide(check(target, options), Probe.layer({ timeout: options.timeout }))
