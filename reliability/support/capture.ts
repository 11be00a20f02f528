/**
 * Capturing everything a server lets out, to search it for secrets: Effect log lines at every level (message,
 * annotations, spans and the pretty cause), console output, and every HTTP answer a client saw.
 */
import { Cause, HashMap, Layer, List, Logger, LogLevel } from "effect"

/** Log lines and console lines, as text. */
export interface Captured {
  readonly logs: Array<string>
  readonly console: Array<string>
}

/** A layer sending every Effect log line, from Trace up, into `lines`; merge it over an auth layer. */
export const captureLogs = (lines: Array<string>): Layer.Layer<never> =>
  Layer.mergeAll(
    Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ logLevel, message, annotations, cause, spans }) => {
        const messages = Array.isArray(message) ? message : List.isList(message) ? List.toArray(message) : [message]
        const text = messages.map((m) => (typeof m === "string" ? m : safeJson(m))).join(" ")
        const annotated = safeJson(Object.fromEntries(HashMap.toEntries(annotations)))
        const spanNames = List.toArray(spans).map((span) => span.label).join(",")
        const pretty = Cause.isEmpty(cause) ? "" : ` ${Cause.pretty(cause, { renderErrorCause: true })}`
        lines.push(`${logLevel.label} ${text} ${annotated} ${spanNames}${pretty}`)
      })
    ),
    Logger.minimumLogLevel(LogLevel.All)
  )

/** JSON of anything, falling back to String (cycles, BigInt). */
export const safeJson = (value: unknown): string => {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

const levels = ["log", "info", "warn", "error", "debug", "trace"] as const

/** Redirects console output into `lines` until the returned function is called. */
export const captureConsole = (lines: Array<string>): (() => void) => {
  const originals = levels.map((level) => [level, console[level]] as const)
  for (const level of levels) {
    console[level] = (...args: Array<unknown>) => void lines.push(`${level} ${args.map((a) => (a instanceof Error ? `${a.stack}` : typeof a === "string" ? a : safeJson(a))).join(" ")}`)
  }
  const writes = [process.stdout.write, process.stderr.write] as const
  const tee = (original: typeof process.stdout.write) =>
    function (this: NodeJS.WriteStream, chunk: unknown, ...rest: Array<unknown>) {
      lines.push(`stdio ${typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8")}`)
      return (original as (...args: Array<unknown>) => boolean).call(this, chunk, ...rest)
    } as typeof process.stdout.write
  process.stdout.write = tee(writes[0])
  process.stderr.write = tee(writes[1])
  return () => {
    for (const [level, original] of originals) console[level] = original
    process.stdout.write = writes[0]
    process.stderr.write = writes[1]
  }
}

/** A fetch that records, for every answer, the URL asked, the status, every header and the whole body. */
export const recordingFetch = (seen: Array<string>): typeof fetch => async (input, init) => {
  try {
    const response = await fetch(input, init)
    const body = await response.clone().text()
    const headers = [...response.headers].map(([name, value]) => `${name}: ${value}`).join("\n")
    seen.push(`${init?.method ?? "GET"} ${String(input instanceof Request ? input.url : input)} -> ${response.status}\n${headers}\n${body}`)
    return response
  } catch (error) {
    seen.push(`error ${error instanceof Error ? `${error.message} ${String(error.cause)}` : String(error)}`)
    throw error
  }
}
