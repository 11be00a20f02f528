/**
 * Checks of an MCP server as a protected resource: the 401 challenge, protected resource metadata at both
 * well-known URLs, `resource` exactness, its authorization servers, CORS for browser clients (CorsChecks), and the
 * answer to a bad token. URLs are built and challenges parsed with auth-core's own `ResourceUrl` and `Challenge`.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Challenge from "@mcp-oauth/auth-core/Challenge"
import * as Metadata from "@mcp-oauth/auth-core/Metadata"
import * as ResourceUrl from "@mcp-oauth/auth-core/ResourceUrl"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { type Check, fail, hasFailure, pass, type Report, warn } from "./Check.js"
import * as CorsChecks from "./CorsChecks.js"
import * as IssuerChecks from "./IssuerChecks.js"
import { type Exchange, isHtml, json, Probe, type ProbeError, type ProbeRequest } from "./Probe.js"

/** Options of the server checks. */
export interface ServerCheckOptions {
  /** The browser origin sent in the CORS checks. */
  readonly origin: string
  /** At most this many authorization servers are checked (default 5). */
  readonly maxAuthorizationServers?: number | undefined
}

type ProtectedResourceMetadata = Metadata.ProtectedResourceMetadata

/** What one metadata URL answered. */
interface PrmResult {
  readonly url: string
  readonly document?: ProtectedResourceMetadata | undefined
  readonly problem?: string | undefined
}

const decodePrm = Schema.decodeUnknownOption(Metadata.ProtectedResourceMetadata)

const initializeBody = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "mcp-oauth-doctor", version: "0.1.0" } }
})

const mcpHeaders = { "content-type": "application/json", accept: "application/json, text/event-stream" }

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url")

/** A JWT-shaped token no issuer signed: a server must refuse it with 401 invalid_token. */
const bogusToken = (resource: string): string =>
  [
    b64({ alg: "RS256", typ: "at+jwt", kid: "mcp-oauth-doctor" }),
    b64({ iss: "https://mcp-oauth-doctor.invalid", sub: "mcp-oauth-doctor", aud: resource, exp: 4102444800 }),
    Buffer.alloc(256, 7).toString("base64url")
  ].join(".")

const challengeCheck = (exchange: Exchange, metadataUrl: string): { readonly check: Check; readonly resourceMetadata?: string } => {
  const id = "server.challenge"
  const title = "401 challenge"
  const expected = `send 401 with WWW-Authenticate: Bearer resource_metadata="${metadataUrl}" (RFC 9728 §5.1)`
  if (exchange.status >= 200 && exchange.status < 300) {
    return {
      check: fail(
        id,
        title,
        `answered ${exchange.status} to a request without a token: the endpoint is not protected`,
        `put the MCP endpoint behind the mcp-oauth guard so requests without a token get 401; ${expected}`
      )
    }
  }
  if (exchange.status !== 401) {
    const fix =
      exchange.status === 404 || exchange.status === 405
        ? "point the doctor at the MCP endpoint itself (e.g. https://host/mcp), or run it with --kind issuer for an identity provider"
        : exchange.status === 403
        ? `a request without a token must get 401, not 403 (RFC 6750 §3.1); ${expected}`
        : `a missing token is the client's fault, never a ${exchange.status}; ${expected}`
    return { check: fail(id, title, `answered ${exchange.status} to a request without a token, not 401`, fix) }
  }
  const header = exchange.headers["www-authenticate"]
  if (header === undefined) {
    return { check: fail(id, title, "401 without WWW-Authenticate: clients cannot find the authorization server", expected) }
  }
  const parsed = Challenge.parse(header)
  if (parsed === undefined || parsed.scheme.toLowerCase() !== "bearer") {
    return {
      check: fail(
        id,
        title,
        `WWW-Authenticate is not one parseable Bearer challenge: ${header.slice(0, 200)}`,
        `send a single challenge, Bearer name="value", ... with quoted values (RFC 6750 §3); ${expected}`
      )
    }
  }
  const resourceMetadata = parsed.params.get("resource_metadata")
  if (resourceMetadata === undefined || !URL.canParse(resourceMetadata)) {
    return {
      check: fail(
        id,
        title,
        resourceMetadata === undefined
          ? "the Bearer challenge has no resource_metadata: clients must guess where the metadata is"
          : `resource_metadata "${resourceMetadata}" is not an absolute URL`,
        expected
      )
    }
  }
  const error = parsed.params.get("error")
  const scope = parsed.params.get("scope")
  const detail = `401 Bearer resource_metadata="${resourceMetadata}"${scope === undefined ? "" : `, scope="${scope}"`}`
  if (error !== undefined) {
    return {
      check: warn(
        id,
        title,
        `${detail}, error="${error}" although no token was sent`,
        "omit the error attribute when the request had no credentials (RFC 6750 §3.1)"
      ),
      resourceMetadata
    }
  }
  return { check: pass(id, title, detail), resourceMetadata }
}

const fetchPrm = (url: string) =>
  Effect.gen(function* () {
    const probe = yield* Probe
    const answer = yield* Effect.either(
      probe.send({ method: "GET", url, headers: { accept: "application/json", "mcp-protocol-version": "2025-11-25" } })
    )
    if (Either.isLeft(answer)) return { url, problem: answer.left.why }
    const exchange = answer.right
    if (exchange.status >= 300 && exchange.status < 400) {
      return { url, problem: `redirect ${exchange.status} (clients do not follow it)` }
    }
    if (exchange.status !== 200) return { url, problem: `HTTP ${exchange.status}` }
    if (isHtml(exchange)) return { url, problem: "an HTML page, not JSON" }
    const document = decodePrm(json(exchange))
    if (Option.isNone(document)) {
      return { url, problem: "not protected resource metadata (resource and authorization_servers are required)" }
    }
    return { url, document: document.value } satisfies PrmResult
  })

const prmCheck = (id: string, title: string, result: PrmResult, fix: string): Check =>
  result.document !== undefined
    ? pass(id, title, `${result.url} (resource "${result.document.resource}")`)
    : fail(id, title, `${result.url}: ${result.problem}`, fix)

const resourceCheck = (resource: string, input: string, results: ReadonlyArray<PrmResult>): Check | undefined => {
  const documents = results.flatMap((r) => (r.document === undefined ? [] : [{ url: r.url, document: r.document }]))
  if (documents.length === 0) return undefined
  const title = "Resource exactness"
  const wrong = documents.filter(
    (d) => !ResourceUrl.sameResource(d.document.resource, resource) && !ResourceUrl.sameResource(d.document.resource, input)
  )
  if (wrong.length === 0) return pass("server.resource", title, `every document says "${documents[0]!.document.resource}"`)
  return fail(
    "server.resource",
    title,
    wrong.map((d) => `${d.url} says "${d.document.resource}", not "${resource}"`).join("; "),
    `configure the resource as exactly "${resource}": the URL clients connect to, same scheme, host, port and path ` +
      "(a trailing slash is another resource); behind a proxy, the public URL"
  )
}

const invalidTokenCheck = (exchange: Exchange): Check => {
  const id = "server.invalid_token"
  const title = "Bad token refused"
  const rfc = 'answer a bad token with 401 and WWW-Authenticate: Bearer error="invalid_token", resource_metadata=... (RFC 6750 §3.1)'
  if (exchange.status >= 200 && exchange.status < 300) {
    return fail(id, title, `a token no issuer signed was accepted (${exchange.status})`, `verify token signatures, issuer and audience; ${rfc}`)
  }
  if (exchange.status === 503) {
    return fail(
      id,
      title,
      "503: the server could not verify the token (is its identity provider reachable?)",
      "check that the server reaches its issuer's metadata and jwks_uri; a bad token must still get 401"
    )
  }
  if (exchange.status !== 401) return fail(id, title, `a bad token got ${exchange.status}, not 401`, rfc)
  const parsed = Challenge.parse(exchange.headers["www-authenticate"] ?? "")
  const error = parsed?.params.get("error")
  if (error !== "invalid_token") {
    return fail(id, title, `401, but the challenge's error is ${error === undefined ? "missing" : `"${error}"`}`, rfc)
  }
  if (parsed?.params.get("resource_metadata") === undefined) {
    return warn(id, title, '401 error="invalid_token" without resource_metadata', rfc)
  }
  return pass(id, title, '401 error="invalid_token"')
}

const authorizationServersCheck = (document: ProtectedResourceMetadata | undefined): { readonly check?: Check; readonly issuers: ReadonlyArray<string> } => {
  if (document === undefined) return { issuers: [] }
  const id = "server.authorization_servers"
  const title = "Authorization servers listed"
  const listed = document.authorization_servers
  if (listed.length === 0) {
    return {
      check: fail(id, title, "authorization_servers is empty", "list the issuer URL of the identity provider in authorization_servers"),
      issuers: []
    }
  }
  const invalid = listed.filter((issuer) => !URL.canParse(issuer))
  if (invalid.length > 0) {
    return {
      check: fail(id, title, `not URLs: ${invalid.join(", ")}`, "list issuer URLs, exactly as each identity provider publishes its issuer"),
      issuers: listed.filter((issuer) => URL.canParse(issuer))
    }
  }
  return { check: pass(id, title, listed.join(", ")), issuers: [...new Set(listed)] }
}

const issuerSummary = (report: Report): Check => {
  const failed = report.checks.filter((check) => check.status === "fail")
  return !hasFailure(report)
    ? pass("server.authorization_server", "Authorization server", `${report.target}: all ${report.checks.length} issuer checks pass`)
    : fail(
        "server.authorization_server",
        "Authorization server",
        `${report.target} fails: ${failed.map((check) => check.title).join(", ")}`,
        `fix the failing checks of ${report.target}, listed below`
      )
}

const unreachableIssuer = (issuer: string, error: ProbeError): Report => ({
  kind: "issuer",
  target: issuer,
  checks: [
    fail(
      "issuer.metadata",
      "Metadata discovery",
      error.message,
      "make the issuer reachable from clients and from the MCP server, or list the right issuer URL"
    )
  ],
  authorizationServers: []
})

/** Checks an MCP server; fails with a {@link ProbeError} only when the endpoint cannot be reached at all. */
export const run = (
  target: string,
  options: ServerCheckOptions
): Effect.Effect<Report, ProbeError, Probe | HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const probe = yield* Probe
    const checks: Array<Check> = []
    const authorizationServers: Array<Report> = []
    const report = (): Report => ({ kind: "server", target, checks, authorizationServers })

    const canonical = ResourceUrl.canonicalize(target)
    if ("problem" in canonical) {
      checks.push(
        fail(
          "server.url",
          "Resource URL",
          `${target}: ${canonical.problem === "insecure" ? "http is allowed only on loopback hosts" : `not a resource URL (${canonical.problem})`}`,
          "serve the MCP endpoint over https at a URL without fragment or user info"
        )
      )
      if (canonical.problem !== "insecure") return report()
    } else {
      checks.push(pass("server.url", "Resource URL", canonical.url === target ? target : `${canonical.url} (canonical form of ${target})`))
    }
    const resource = "url" in canonical ? canonical.url : target
    const pathUrl = ResourceUrl.protectedResourceMetadataUrl(resource)
    const rootUrl = `${new URL(resource).origin}/.well-known/oauth-protected-resource`

    const unauthenticated = yield* probe.send({ method: "POST", url: target, headers: mcpHeaders, body: initializeBody })
    const challenge = challengeCheck(unauthenticated, pathUrl)
    checks.push(challenge.check)

    const atPath = yield* fetchPrm(pathUrl)
    const results: Array<PrmResult> = [atPath]
    checks.push(
      prmCheck(
        "server.prm.path",
        pathUrl === rootUrl ? "Resource metadata" : "Resource metadata (path)",
        atPath,
        `serve the protected resource metadata at ${pathUrl} (RFC 9728 §3.1: the well-known segment goes between host and path)`
      )
    )
    if (rootUrl !== pathUrl) {
      const atRoot = yield* fetchPrm(rootUrl)
      results.push(atRoot)
      checks.push(
        prmCheck(
          "server.prm.root",
          "Resource metadata (root)",
          atRoot,
          `also serve it at ${rootUrl}: clients that get no resource_metadata try the root URL (MCP authorization spec)`
        )
      )
    }
    const announced = challenge.resourceMetadata
    if (announced !== undefined && announced !== pathUrl && announced !== rootUrl) {
      const atAnnounced = yield* fetchPrm(announced)
      results.push(atAnnounced)
      checks.push(
        prmCheck(
          "server.prm.challenge",
          "Resource metadata (challenge)",
          atAnnounced,
          `serve the metadata at the resource_metadata URL of the challenge, or announce ${pathUrl} there`
        )
      )
    }

    const exact = resourceCheck(resource, target, results)
    if (exact !== undefined) checks.push(exact)

    const servers = authorizationServersCheck(results.find((r) => r.document !== undefined)?.document)
    if (servers.check !== undefined) checks.push(servers.check)
    for (const issuer of servers.issuers.slice(0, options.maxAuthorizationServers ?? 5)) {
      const nested = yield* IssuerChecks.run(issuer).pipe(
        Effect.catchTag("ProbeError", (error) => Effect.succeed(unreachableIssuer(issuer, error)))
      )
      authorizationServers.push(nested)
      checks.push(issuerSummary(nested))
    }

    // after the first answer, a request that gets none is a failing check of its own, not an unreachable target
    const attempt = (request: ProbeRequest, id: string, title: string, judge: (exchange: Exchange) => Check) =>
      Effect.map(Effect.either(probe.send(request)), (answer) =>
        Either.isRight(answer)
          ? judge(answer.right)
          : fail(id, title, answer.left.message, "make the endpoint answer every request promptly, errors included")
      )
    const origin = { origin: options.origin }
    let originRefused = false
    checks.push(
      yield* attempt(
        { method: "POST", url: target, headers: { ...mcpHeaders, ...origin }, body: initializeBody },
        "server.cors.challenge",
        "CORS on the 401",
        (exchange) => {
          originRefused = CorsChecks.refusesOrigin(exchange)
          return CorsChecks.challenge(exchange, options.origin)
        }
      )
    )
    checks.push(
      yield* attempt(
        {
          method: "OPTIONS",
          url: target,
          headers: {
            ...origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": CorsChecks.preflightHeaders.join(", ").toLowerCase()
          }
        },
        "server.cors.preflight",
        "CORS preflight",
        (exchange) => CorsChecks.preflight(exchange, options.origin, originRefused)
      )
    )
    const served = results.find((r) => r.document !== undefined)
    if (served !== undefined) {
      checks.push(
        yield* attempt(
          { method: "GET", url: served.url, headers: { ...origin, accept: "application/json" } },
          "server.cors.metadata",
          "CORS on the metadata",
          (exchange) => CorsChecks.metadata(exchange, options.origin)
        )
      )
    }
    checks.push(
      yield* attempt(
        {
          method: "POST",
          url: target,
          headers: { ...mcpHeaders, authorization: `Bearer ${bogusToken(resource)}` },
          body: initializeBody
        },
        "server.invalid_token",
        "Bad token refused",
        invalidTokenCheck
      )
    )
    return report()
  }).pipe(Effect.withSpan("ServerChecks.run"))
