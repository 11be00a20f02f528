/**
 * Checks of an authorization server (issuer): metadata discovery, issuer exactness, PKCE, client registration,
 * endpoints and client authentication, judged with the library's own discovery; the key set is KeySetChecks'.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Discovery from "@mcp-oauth/auth-core/Discovery"
import * as Metadata from "@mcp-oauth/auth-core/Metadata"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { type Check, fail, pass, type Report, warn } from "./Check.js"
import * as KeySetChecks from "./KeySetChecks.js"
import { answerProblem, endpointProblem } from "./internal/documents.js"
import { json, Probe, type ProbeError } from "./Probe.js"

type AuthorizationServerMetadata = Metadata.AuthorizationServerMetadata

/** What one discovery URL answered. */
type Found =
  | { readonly _tag: "Document"; readonly url: string; readonly document: AuthorizationServerMetadata }
  | { readonly _tag: "Problem"; readonly url: string; readonly problem: string }

const decodeMetadata = Schema.decodeUnknownOption(Metadata.AuthorizationServerMetadata)

const describeFound = (found: Found): string =>
  found._tag === "Document" ? `${found.url} → issuer "${found.document.issuer}"` : `${found.url} → ${found.problem}`

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
    checks.push(...(yield* KeySetChecks.run(document)))
    return report()
  }).pipe(Effect.withSpan("IssuerChecks.run"))
