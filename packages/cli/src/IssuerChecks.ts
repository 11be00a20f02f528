/**
 * Checks of an authorization server (issuer): metadata discovery, issuer exactness, PKCE, client registration,
 * endpoints, client authentication and the key set, judged with the library's own discovery and key selection.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Discovery from "@mcp-oauth/auth-core/Discovery"
import * as Jwks from "@mcp-oauth/auth-core/Jwks"
import * as Metadata from "@mcp-oauth/auth-core/Metadata"
import * as ResourceUrl from "@mcp-oauth/auth-core/ResourceUrl"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { type Check, fail, pass, type Report, warn } from "./Check.js"
import * as KeyVerdict from "./KeyVerdict.js"
import { type Exchange, isHtml, json, Probe, type ProbeError } from "./Probe.js"

type AuthorizationServerMetadata = Metadata.AuthorizationServerMetadata

/** What one discovery URL answered. */
type Found =
  | { readonly _tag: "Document"; readonly url: string; readonly document: AuthorizationServerMetadata }
  | { readonly _tag: "Problem"; readonly url: string; readonly problem: string }

const decodeMetadata = Schema.decodeUnknownOption(Metadata.AuthorizationServerMetadata)

/** Why an answer is not a metadata document, in the terms the library's discovery uses; undefined when it is one. */
const answerProblem = (exchange: Exchange): string | undefined => {
  if (exchange.status >= 300 && exchange.status < 400) {
    return `redirect ${exchange.status} to ${exchange.headers["location"] ?? "(no location)"} (redirects are not followed)`
  }
  if (exchange.status < 200 || exchange.status >= 300) return `HTTP ${exchange.status}`
  if (isHtml(exchange)) return "an HTML page, not JSON"
  if (json(exchange) === undefined) return "not JSON"
  return undefined
}

const describeFound = (found: Found): string =>
  found._tag === "Document" ? `${found.url} → issuer "${found.document.issuer}"` : `${found.url} → ${found.problem}`

/** An endpoint URL as the library accepts one: absolute, https unless the host is loopback. */
const endpointProblem = (value: string): string | undefined => {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return "is not an absolute URL"
  }
  if (url.protocol === "https:") return undefined
  if (url.protocol === "http:" && ResourceUrl.isLoopback(url)) return undefined
  return "must use https"
}

/** Finds the documents at the spec's discovery URLs; fails only when the first URL cannot be reached at all. */
const discover = (issuer: string) =>
  Effect.gen(function* () {
    const probe = yield* Probe
    const urls = Discovery.metadataUrls(issuer)
    const found: Array<Found> = []
    for (const [index, url] of urls.entries()) {
      const answer = yield* Effect.either(probe.send({ method: "GET", url, headers: { accept: "application/json" } }))
      if (Either.isLeft(answer)) {
        if (index === 0) return yield* Effect.fail(answer.left)
        found.push({ _tag: "Problem", url, problem: answer.left.why })
        continue
      }
      const problem = answerProblem(answer.right)
      if (problem !== undefined) {
        found.push({ _tag: "Problem", url, problem })
        continue
      }
      const document = decodeMetadata(json(answer.right))
      found.push(
        Option.isSome(document)
          ? { _tag: "Document", url, document: document.value }
          : { _tag: "Problem", url, problem: "JSON, but not authorization server metadata (issuer missing or mistyped)" }
      )
    }
    return found
  })

/** What the library's own discovery concludes: the document it would use, or why it would refuse to start. */
const libraryDiscovery = (issuer: string) =>
  Effect.gen(function* () {
    const probe = yield* Probe
    const discovery = yield* Discovery.make({ issuer, timeout: probe.timeout })
    return yield* discovery.metadata
  }).pipe(Effect.either)

const metadataCheck = (
  issuer: string,
  found: ReadonlyArray<Found>,
  verdict: Either.Either<AuthorizationServerMetadata, unknown>
): Check => {
  const title = "Metadata discovery"
  const tried = found.map(describeFound).join("; ")
  const served = found.filter((f) => f._tag === "Document")
  if (Either.isRight(verdict)) {
    const used = found.findIndex((f) => f._tag === "Document" && f.document.issuer === issuer)
    const earlier = found.slice(0, Math.max(used, 0)).map(describeFound).join("; ")
    return pass(
      "issuer.metadata",
      title,
      `found at ${found[used]?.url ?? "a discovery URL"}, URL ${used + 1} of ${found.length} in the spec's order` +
        (earlier === "" ? "" : ` (before it: ${earlier})`)
    )
  }
  const [first] = Discovery.metadataUrls(issuer)
  if (served.length > 0) {
    return fail(
      "issuer.metadata",
      title,
      `no document names this issuer, so the library refuses all of them: ${tried}`,
      "see the issuer check: the document's issuer must equal the issuer URL exactly"
    )
  }
  const redirected = found.some((f) => f._tag === "Problem" && f.problem.startsWith("redirect"))
  return fail(
    "issuer.metadata",
    title,
    `no metadata at any discovery URL: ${tried}`,
    redirected
      ? "serve the metadata document directly at the well-known URL; clients and the library do not follow redirects"
      : `serve RFC 8414 metadata at ${first} (or OpenID Connect discovery at the next URL); if the issuer is wrong, ` +
        "use the exact issuer the identity provider publishes"
  )
}

const issuerCheck = (issuer: string, found: ReadonlyArray<Found>): Check | undefined => {
  const title = "Issuer exactness"
  const documents = found.flatMap((f) => (f._tag === "Document" ? [f] : []))
  if (documents.length === 0) return undefined
  const matching = documents.find((f) => f.document.issuer === issuer)
  const foreign = documents.find((f) => f.document.issuer !== issuer)
  if (matching !== undefined && (foreign === undefined || documents.indexOf(matching) < documents.indexOf(foreign))) {
    return pass("issuer.exact", title, `"${matching.document.issuer}" equals the issuer URL`)
  }
  const other = foreign!.document.issuer
  const slashOnly = other.replace(/\/$/, "") === issuer.replace(/\/$/, "")
  if (matching !== undefined) {
    return warn(
      "issuer.exact",
      title,
      `${foreign!.url} names issuer "${other}" and is skipped; ${matching.url} names "${issuer}"`,
      `make every discovery URL serve the document for "${issuer}" (RFC 8414 §3.3), so clients trying them in order agree`
    )
  }
  return fail(
    "issuer.exact",
    title,
    `${foreign!.url} names issuer "${other}", not "${issuer}" (compared exactly, RFC 8414 §3.3)`,
    slashOnly
      ? `the trailing slash differs: configure the issuer as exactly "${other}"`
      : `configure the issuer as exactly "${other}" if that is the identity provider, or set the provider's public ` +
        `issuer URL to "${issuer}" (behind a proxy: its external URL)`
  )
}

const pkceCheck = (document: AuthorizationServerMetadata): Check => {
  const methods = document.code_challenge_methods_supported
  const title = "PKCE S256"
  if (methods?.includes("S256") === true) return pass("issuer.pkce", title, `code_challenge_methods_supported: ${methods.join(", ")}`)
  return fail(
    "issuer.pkce",
    title,
    methods === undefined
      ? "code_challenge_methods_supported is missing: MCP clients refuse an authorization server that does not advertise S256"
      : `code_challenge_methods_supported is [${methods.join(", ")}], without S256`,
    'enable PKCE with S256 and advertise "code_challenge_methods_supported": ["S256"] in the metadata'
  )
}

const registrationCheck = (document: AuthorizationServerMetadata): Check => {
  const title = "Client registration"
  const ways = [
    ...(document.registration_endpoint !== undefined ? [`dynamic registration at ${document.registration_endpoint}`] : []),
    ...(document.client_id_metadata_document_supported === true ? ["Client ID Metadata Documents"] : [])
  ]
  if (ways.length > 0) return pass("issuer.registration", title, ways.join(" and "))
  return fail(
    "issuer.registration",
    title,
    "neither registration_endpoint nor client_id_metadata_document_supported: MCP clients cannot obtain a client_id",
    "enable dynamic client registration (RFC 7591) or Client ID Metadata Documents at the identity provider, " +
      "or put the mcp-oauth OAuth proxy (oauthProxy) in front of it"
  )
}

const endpointsCheck = (document: AuthorizationServerMetadata): Check => {
  const title = "Endpoints"
  const problems: Array<string> = []
  for (const name of ["authorization_endpoint", "token_endpoint"] as const) {
    const value = document[name]
    if (value === undefined) problems.push(`${name} is missing`)
    else {
      const problem = endpointProblem(value)
      if (problem !== undefined) problems.push(`${name} ${problem}`)
    }
  }
  const responseTypes = document.response_types_supported
  if (responseTypes !== undefined && !responseTypes.includes("code")) problems.push('response_types_supported lacks "code"')
  const grants = document.grant_types_supported
  if (grants !== undefined && !grants.includes("authorization_code")) {
    problems.push('grant_types_supported lacks "authorization_code"')
  }
  if (problems.length === 0) {
    return pass("issuer.endpoints", title, `authorization ${document.authorization_endpoint}, token ${document.token_endpoint}`)
  }
  return fail(
    "issuer.endpoints",
    title,
    problems.join("; "),
    "publish https authorization_endpoint and token_endpoint and support the authorization code grant (OAuth 2.1)"
  )
}

const tokenAuthCheck = (document: AuthorizationServerMetadata): Check => {
  const title = "Token endpoint client authentication"
  // RFC 8414 §2: when absent, the default is client_secret_basic only
  const methods = document.token_endpoint_auth_methods_supported ?? ["client_secret_basic"]
  const listed = `token_endpoint_auth_methods_supported: ${methods.join(", ")}`
  if (methods.includes("none")) return pass("issuer.token_auth", title, `${listed} (public clients with PKCE can redeem codes)`)
  return warn(
    "issuer.token_auth",
    title,
    `${listed}${document.token_endpoint_auth_methods_supported === undefined ? " (the RFC 8414 default)" : ""}: ` +
      'no "none", so public MCP clients (desktop apps, CLIs) cannot redeem codes without a secret',
    'allow the "none" method for public clients (PKCE protects them), or make sure every client gets a secret at registration'
  )
}

/** The key set: reachable as the library fetches it, then each key judged by the library's key selection. */
const keyChecks = (document: AuthorizationServerMetadata) =>
  Effect.gen(function* () {
    const probe = yield* Probe
    const uri = document.jwks_uri
    const title = "Key set (jwks_uri)"
    if (uri === undefined) {
      const check =
        document.introspection_endpoint !== undefined
          ? warn(
              "issuer.jwks",
              title,
              "jwks_uri is missing: JWT access tokens cannot be verified, only introspected",
              "publish jwks_uri, or protect the server with the introspection provider for opaque tokens"
            )
          : fail(
              "issuer.jwks",
              title,
              "jwks_uri is missing and there is no introspection_endpoint: access tokens cannot be verified",
              "publish jwks_uri in the authorization server metadata"
            )
      return [check]
    }
    const problem = endpointProblem(uri)
    if (problem !== undefined) {
      return [fail("issuer.jwks", title, `jwks_uri ${uri} ${problem}`, "serve the key set over https")]
    }
    const answer = yield* Effect.either(
      probe.send({ method: "GET", url: uri, headers: { accept: "application/jwk-set+json, application/json" } })
    )
    const body = Either.isRight(answer) ? json(answer.right) : undefined
    const unreachable = Either.isLeft(answer)
      ? answer.left.why
      : answerProblem(answer.right) ?? (
        typeof body !== "object" || body === null || !Array.isArray((body as { keys?: unknown }).keys)
          ? 'JSON without a "keys" array'
          : undefined
      )
    if (unreachable !== undefined) {
      return [
        fail(
          "issuer.jwks",
          title,
          `${uri}: ${unreachable}`,
          'serve the JSON Web Key Set ({"keys": [...]}) at jwks_uri with status 200 and no redirect'
        )
      ]
    }
    const keys = (body as { keys: ReadonlyArray<unknown> }).keys
    const reports = yield* KeyVerdict.judgeAll(keys)
    // end to end through the library's remote key set: fetched, selected and imported as during verification
    const firstUsable = reports.findIndex((r) => r.verdict._tag === "Usable")
    const verdict = reports[firstUsable]?.verdict
    if (verdict !== undefined && verdict._tag === "Usable") {
      const kid = (keys[firstUsable] as { readonly kid?: unknown }).kid
      const remote = yield* Effect.either(
        Effect.flatMap(Jwks.make({ uri, timeout: probe.timeout }), (set) =>
          set.getKey({ alg: verdict.algorithms[0]!, kid: typeof kid === "string" ? kid : undefined })
        )
      )
      if (Either.isLeft(remote) && remote.left._tag === "UpstreamUnavailable") {
        return [
          fail(
            "issuer.jwks",
            title,
            `${uri}: the library's key set fetch failed (${remote.left.reason})`,
            "serve the key set as JSON (not HTML), under 512 KiB, with status 200 and no redirect"
          )
        ]
      }
    }
    return [pass("issuer.jwks", title, `${uri}: ${keys.length} key${keys.length === 1 ? "" : "s"}`), keysCheck(reports)]
  })

const keysCheck = (reports: ReadonlyArray<KeyVerdict.KeyReport>): Check => {
  const title = "Signing keys"
  const describe = (report: KeyVerdict.KeyReport): string => {
    const v = report.verdict
    switch (v._tag) {
      case "Usable":
        return `${report.label}: usable (${v.algorithms.join(", ")})`
      case "Secret":
        return `${report.label}: publishes private or symmetric material (${v.members.join(", ")})`
      case "Weak":
        return `${report.label}: RSA modulus ${v.bits ?? "?"} bits, below ${KeyVerdict.minRsaModulusBits}`
      case "Algorithm":
        return `${report.label}: alg ${v.alg} is not accepted (asymmetric algorithms only)`
      case "NotForSignatures":
        return `${report.label}: not a signature key, ignored`
      case "Unsupported":
        return `${report.label}: malformed or unsupported key type, ignored`
    }
  }
  const detail = reports.length === 0 ? "the key set is empty" : reports.map(describe).join("; ")
  const tags = new Set(reports.map((r) => r.verdict._tag))
  if (tags.has("Secret")) {
    return fail(
      "issuer.keys",
      title,
      detail,
      "remove private members (d, p, q, dp, dq, qi, oth) and symmetric keys (k) from the published set, and rotate " +
        "those keys: anyone could read them"
    )
  }
  if (tags.has("Weak")) {
    return fail(
      "issuer.keys",
      title,
      detail,
      `replace RSA keys shorter than ${KeyVerdict.minRsaModulusBits} bits; the library refuses tokens signed with them`
    )
  }
  if (!tags.has("Usable")) {
    return fail(
      "issuer.keys",
      title,
      detail,
      "publish at least one public signing key (RSA ≥ 2048 bits, P-256/P-384/P-521 or Ed25519) with an asymmetric alg"
    )
  }
  if (tags.has("Algorithm") || tags.has("Unsupported")) {
    return warn(
      "issuer.keys",
      title,
      detail,
      "tokens signed with the ignored keys will be refused; sign with a usable key or fix the ignored ones"
    )
  }
  return pass("issuer.keys", title, detail)
}

/**
 * Checks an issuer. Fails with the {@link ProbeError} of the first discovery URL only when the issuer's host cannot
 * be reached at all; every other problem is a failing check.
 */
export const run = (issuer: string): Effect.Effect<Report, ProbeError, Probe | HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const checks: Array<Check> = []
    const report = (): Report => ({ kind: "issuer", target: issuer, checks, authorizationServers: [] })
    const verdict = yield* libraryDiscovery(issuer)
    if (Either.isLeft(verdict) && verdict.left._tag === "ConfigProblem") {
      checks.push(
        fail(
          "issuer.url",
          "Issuer URL",
          verdict.left.problem,
          "the issuer must be an https URL (http only on loopback) without query, fragment or user info"
        )
      )
      if (!URL.canParse(issuer)) return report()
    } else {
      checks.push(pass("issuer.url", "Issuer URL", issuer))
    }
    const found = yield* discover(issuer)
    checks.push(metadataCheck(issuer, found, verdict))
    const exact = issuerCheck(issuer, found)
    if (exact !== undefined) checks.push(exact)
    // the further checks read the document the library would use, else the first one found, to report all at once
    const document = Either.isRight(verdict)
      ? verdict.right
      : found.flatMap((f) => (f._tag === "Document" ? [f.document] : []))[0]
    if (document === undefined) return report()
    checks.push(pkceCheck(document), registrationCheck(document), endpointsCheck(document), tokenAuthCheck(document))
    checks.push(...(yield* keyChecks(document)))
    return report()
  }).pipe(Effect.withSpan("IssuerChecks.run"))
