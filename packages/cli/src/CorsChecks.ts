/**
 * CORS checks of an MCP server, against what the library's Cors module sends: browser-based MCP clients must be able
 * to send the request, and read the challenge, the session id and the metadata.
 *
 * @since 0.1.0
 */
import * as Cors from "@mcp-oauth/auth-core/Cors"
import { type Check, fail, pass, warn } from "./Check.js"
import { type Exchange, headerList } from "./Probe.js"

const allowsOrigin = (exchange: Exchange, origin: string): string | undefined => {
  const allowed = exchange.headers["access-control-allow-origin"]
  if (allowed === undefined) return "no Access-Control-Allow-Origin"
  return allowed === "*" || allowed === origin ? undefined : `Access-Control-Allow-Origin is "${allowed}", not "${origin}"`
}

/**
 * How the server showed an origin allowlist that leaves the doctor's origin out, or undefined when it did not:
 * a 403, or no Access-Control-Allow-Origin on an answer that varies by Origin (what the library's own Cors and
 * common CORS middleware, such as Hono's `cors({ origin: [...] })`, send to an origin they do not allow). A
 * server that forgot CORS sends neither.
 */
const refusal = (exchange: Exchange): string | undefined => {
  if (exchange.headers["access-control-allow-origin"] !== undefined) return undefined
  if (exchange.status === 403) return "is refused with 403"
  return headerList(exchange, "vary").includes("origin")
    ? "gets no Access-Control-Allow-Origin from an answer that varies by Origin"
    : undefined
}

/** Whether the server refused the doctor's origin (an allowlist), rather than forgetting CORS. */
export const refusesOrigin = (exchange: Exchange): boolean => refusal(exchange) !== undefined

const originRefusedCheck = (id: string, title: string, origin: string, how: string): Check =>
  warn(
    id,
    title,
    `origin ${origin} ${how}: the server has an origin allowlist`,
    "run the doctor again with --origin set to a browser origin the server allows, to check CORS for it"
  )

// the library exposes these on every MCP response; without the first two a browser client cannot read the
// challenge (so cannot start authorization) or the session id (so cannot continue after initialize)
const essentialExposed = ["WWW-Authenticate", "Mcp-Session-Id"]

/** Whether a browser client can read the 401 challenge and, later, the session id. */
export const challenge = (exchange: Exchange, origin: string): Check => {
  const id = "server.cors.challenge"
  const title = "CORS on the 401"
  const refused = refusal(exchange)
  if (refused !== undefined) return originRefusedCheck(id, title, origin, refused)
  const exposed = headerList(exchange, "access-control-expose-headers")
  const exposes = (name: string) => exposed.includes("*") || exposed.includes(name.toLowerCase())
  const problems = [
    allowsOrigin(exchange, origin),
    ...essentialExposed.filter((name) => !exposes(name)).map((name) => `Access-Control-Expose-Headers lacks ${name}`)
  ].filter((p): p is string => p !== undefined)
  const fix =
    "send Access-Control-Allow-Origin and Access-Control-Expose-Headers: " +
    `${Cors.exposedHeaders.join(", ")} on every response of the MCP endpoint, errors included`
  if (problems.length > 0) return fail(id, title, problems.join("; "), fix)
  const optional = Cors.exposedHeaders.filter((name) => !essentialExposed.includes(name) && !exposes(name))
  const detail = `Access-Control-Allow-Origin: ${exchange.headers["access-control-allow-origin"]}; exposes ${
    exchange.headers["access-control-expose-headers"]
  }`
  return optional.length > 0
    ? warn(id, title, `${detail}; lacks ${optional.join(", ")}`, fix)
    : pass(id, title, detail)
}

// requested in the preflight; all are headers MCP clients send (the library allows them in Cors.allowedRequestHeaders)
/** The headers a preflight asks for. */
export const preflightHeaders = ["Authorization", "Content-Type", "MCP-Protocol-Version", "Mcp-Session-Id"]

/** Whether a browser may send the MCP request at all; `originRefused` when the POST showed an allowlist. */
export const preflight = (exchange: Exchange, origin: string, originRefused: boolean): Check => {
  const id = "server.cors.preflight"
  const title = "CORS preflight"
  // a preflight for a refused origin rightly lacks Access-Control-Allow-Origin; the POST showed the allowlist
  const refused =
    refusal(exchange) ??
    (originRefused && exchange.headers["access-control-allow-origin"] === undefined ? "was refused by the POST" : undefined)
  if (refused !== undefined) return originRefusedCheck(id, title, origin, refused)
  const methods = headerList(exchange, "access-control-allow-methods")
  const allowed = headerList(exchange, "access-control-allow-headers")
  // Fetch spec: a wildcard never covers Authorization
  const allows = (name: string) =>
    allowed.includes(name.toLowerCase()) || (allowed.includes("*") && name !== "Authorization")
  const problems = [
    exchange.status >= 200 && exchange.status < 300 ? undefined : `OPTIONS answered ${exchange.status}`,
    allowsOrigin(exchange, origin),
    methods.includes("post") || methods.includes("*") ? undefined : "Access-Control-Allow-Methods lacks POST",
    ...preflightHeaders.filter((name) => !allows(name)).map((name) => `Access-Control-Allow-Headers lacks ${name}`)
  ].filter((p): p is string => p !== undefined)
  if (problems.length === 0) {
    return pass(id, title, `${exchange.status}; allows ${exchange.headers["access-control-allow-headers"]}`)
  }
  return fail(
    id,
    title,
    problems.join("; "),
    "answer OPTIONS on the MCP endpoint with 204, Access-Control-Allow-Origin, Access-Control-Allow-Methods " +
      `including POST, and Access-Control-Allow-Headers listing ${preflightHeaders.join(", ")} (a * does not cover Authorization)`
  )
}

/** Whether a browser client can read the protected resource metadata. */
export const metadata = (exchange: Exchange, origin: string): Check => {
  const problem = exchange.status === 200 ? allowsOrigin(exchange, origin) : `answered ${exchange.status}`
  return problem === undefined
    ? pass("server.cors.metadata", "CORS on the metadata", `${exchange.url}: Access-Control-Allow-Origin: ${exchange.headers["access-control-allow-origin"]}`)
    : fail(
        "server.cors.metadata",
        "CORS on the metadata",
        `${exchange.url}: ${problem}`,
        "serve the protected resource metadata with Access-Control-Allow-Origin: * (it is public), so browser clients can read it"
      )
}
