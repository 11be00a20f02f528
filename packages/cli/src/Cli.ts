/**
 * The `mcp-oauth` command line: argument parsing, output and exit codes (0 all pass, 1 a check failed, 2 usage
 * error or a target that cannot be checked).
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import { hasFailure, type Kind } from "./Check.js"
import { isKind } from "./Detect.js"
import * as Doctor from "./Doctor.js"
import * as Render from "./Render.js"

/** The version printed by `--version`. */
export const version = "0.1.0"

/** One line of usage. */
export const usage =
  "usage: mcp-oauth doctor <issuer-url | mcp-server-url> [--kind issuer|server] [--json] [--origin <url>] [--timeout <seconds>]"

const help = `mcp-oauth ${version}

${usage}

Checks an identity provider (issuer) or an MCP server against the MCP authorization spec and prints
a pass/fail table with the fix for each failure.

  --kind issuer|server   check the URL as this kind instead of detecting it
  --json                 print the report as JSON
  --origin <url>         browser origin sent in the CORS checks (default ${Doctor.defaultOrigin})
  --timeout <seconds>    timeout of each request (default 5)

Exit status: 0 when every check passes (warnings allowed), 1 when a check fails,
2 on a usage error or when the URL cannot be reached or checked.
`

/** A parsed command line. */
export type Command =
  | { readonly _tag: "Help" }
  | { readonly _tag: "Version" }
  | {
    readonly _tag: "Doctor"
    readonly target: string
    readonly kind: Kind | undefined
    readonly json: boolean
    readonly origin: string | undefined
    readonly timeoutSeconds: number
  }
  | { readonly _tag: "Usage"; readonly problem: string }

const isHttpUrl = (value: string): boolean => {
  if (!URL.canParse(value)) return false
  const protocol = new URL(value).protocol
  return protocol === "https:" || protocol === "http:"
}

/** Parses the arguments after the program name. */
export const parse = (argv: ReadonlyArray<string>): Command => {
  const [command, ...rest] = argv
  if (command === undefined || command === "help" || command === "--help" || command === "-h") return { _tag: "Help" }
  if (command === "--version" || command === "-v") return { _tag: "Version" }
  if (command !== "doctor") return { _tag: "Usage", problem: `unknown command "${command}"` }
  const positional: Array<string> = []
  let kind: Kind | undefined
  let json = false
  let origin: string | undefined
  let timeoutSeconds = 5
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!
    if (arg === "--help" || arg === "-h") return { _tag: "Help" }
    if (!arg.startsWith("--")) {
      positional.push(arg)
      continue
    }
    const eq = arg.indexOf("=")
    const name = eq === -1 ? arg : arg.slice(0, eq)
    if (name === "--json") {
      if (eq !== -1) return { _tag: "Usage", problem: "--json takes no value" }
      json = true
      continue
    }
    if (name !== "--kind" && name !== "--origin" && name !== "--timeout") return { _tag: "Usage", problem: `unknown option ${name}` }
    const value = eq === -1 ? rest[++i] : arg.slice(eq + 1)
    if (value === undefined || value === "") return { _tag: "Usage", problem: `${name} needs a value` }
    if (name === "--kind") {
      if (!isKind(value)) return { _tag: "Usage", problem: `--kind must be issuer or server, not "${value}"` }
      kind = value
    } else if (name === "--origin") {
      if (!isHttpUrl(value) || new URL(value).origin !== value.replace(/\/$/, "")) {
        return { _tag: "Usage", problem: `--origin must be an origin such as https://app.example, not "${value}"` }
      }
      origin = new URL(value).origin
    } else {
      const seconds = Number(value)
      if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 300) {
        return { _tag: "Usage", problem: `--timeout must be a number of seconds between 0 and 300, not "${value}"` }
      }
      timeoutSeconds = seconds
    }
  }
  if (positional.length !== 1) {
    return { _tag: "Usage", problem: positional.length === 0 ? "doctor needs a URL" : "doctor takes one URL" }
  }
  const target = positional[0]!
  if (!isHttpUrl(target)) return { _tag: "Usage", problem: `"${target}" is not an http or https URL` }
  return { _tag: "Doctor", target, kind, json, origin, timeoutSeconds }
}

/** Where the command line writes, and what it knows of its terminal. */
export interface Io {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  readonly isTTY: boolean | undefined
  readonly env: Readonly<Record<string, string | undefined>>
}

/** Runs a command line and resolves to the exit code; never rejects. */
export const main = async (argv: ReadonlyArray<string>, io: Io): Promise<number> => {
  const command = parse(argv)
  switch (command._tag) {
    case "Help":
      io.stdout(help)
      return 0
    case "Version":
      io.stdout(`${version}\n`)
      return 0
    case "Usage":
      io.stderr(`mcp-oauth: ${command.problem}\n${usage}\n`)
      return 2
    case "Doctor":
      break
  }
  const exit = await Effect.runPromiseExit(
    Doctor.run(command.target, {
      kind: command.kind,
      origin: command.origin,
      timeout: `${command.timeoutSeconds} seconds`
    })
  )
  if (Exit.isSuccess(exit)) {
    io.stdout(command.json ? Render.json(exit.value) : Render.text(exit.value, { color: Render.useColor(io.isTTY, io.env) }))
    return hasFailure(exit.value) ? 1 : 0
  }
  const failure = Cause.failureOption(exit.cause)
  // a defect is a doctor bug; say so in one line rather than dumping a stack at the user
  io.stderr(
    Option.match(failure, {
      onSome: (error) => `mcp-oauth doctor: ${error.message}\n`,
      onNone: () => `mcp-oauth doctor: internal error: ${Cause.pretty(exit.cause).split("\n")[0]}\n`
    })
  )
  return 2
}
