/**
 * OAuth Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document): a client whose `client_id` is
 * an https URL publishes its metadata there, and the authorization server fetches it.
 *
 * The fetch goes through {@link GuardedHttpClient} (https only, every resolved address public, the connection
 * pinned to the checked addresses, no redirects), with a timeout and a size cap; the document must be a JSON object
 * served with 200 and a JSON content type, whose `client_id` equals the URL exactly, with valid redirect URIs and no
 * shared-secret client authentication.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Telemetry from "../../Telemetry.js"
import * as Schema from "effect/Schema"
import { isScopeToken } from "../../Challenge.js"
import { UpstreamUnavailable, type UpstreamFailure } from "../../Errors.js"
import * as GuardedHttpClient from "./GuardedHttpClient.js"
import * as RedirectUri from "./RedirectUri.js"
import { readCapped as readCappedBody } from "../../internal/fetchJson.js"

/** Why a client's metadata document was refused; every reason is the client's fault, not the server's. */
export const InvalidMetadataDocumentReason = Schema.Literal(
  "client_id",
  "blocked_host",
  "unresolvable",
  "redirect",
  "status",
  "content_type",
  "too_large",
  "malformed",
  "client_id_mismatch",
  "redirect_uris",
  "auth_method",
  "metadata"
)

/** A reason from {@link InvalidMetadataDocumentReason}. */
export type InvalidMetadataDocumentReason = typeof InvalidMetadataDocumentReason.Type

const reasonDescriptions: Record<InvalidMetadataDocumentReason, string> = {
  client_id: "The client_id is not a valid client identifier URL",
  blocked_host: "The client_id URL points at an address this server does not fetch from",
  unresolvable: "The client_id URL's host does not resolve",
  redirect: "The client metadata document answered with a redirect, which is not followed",
  status: "The client metadata document could not be fetched",
  content_type: "The client metadata document is not served as JSON",
  too_large: "The client metadata document is too large",
  malformed: "The client metadata document is not a JSON object",
  client_id_mismatch: "The client metadata document's client_id does not equal its URL",
  redirect_uris: "The client metadata document has missing or invalid redirect_uris",
  auth_method: "The client metadata document asks for a shared-secret client authentication",
  metadata: "The client metadata document has an invalid member"
}

/**
 * A client metadata document that cannot be used: the authorization request is refused (`invalid_client`), and no
 * redirect is made to any URI it lists. `field` names the offending member for `metadata` and `redirect_uris`; it
 * comes from this module's list of members, never from the document.
 */
export class InvalidClientMetadataDocument extends Schema.TaggedError<InvalidClientMetadataDocument>(
  "@mcp-oauth/auth-core/InvalidClientMetadataDocument"
)("InvalidClientMetadataDocument", {
  reason: InvalidMetadataDocumentReason,
  field: Schema.optional(Schema.String)
}) {
  /** A fixed description, safe to show to the client and the user. */
  get description(): string {
    const base = reasonDescriptions[this.reason]
    return this.field === undefined ? base : `${base} (${this.field})`
  }
  /** Human-readable summary. */
  override get message(): string {
    return this.description
  }
}

/** A public JSON Web Key as published in `jwks`; private members are refused. */
export type PublicJwk = Readonly<Record<string, unknown>>

/** The validated document, with RFC 7591 member names and the defaults applied. */
export interface ClientMetadataDocument {
  readonly client_id: string
  /** At least one; each checked by {@link RedirectUri.check}. Authorization requests compare them exactly. */
  readonly redirect_uris: ReadonlyArray<string>
  /** `none` (public client, the default when absent) or `private_key_jwt` (keys from `jwks` or `jwks_uri`). */
  readonly token_endpoint_auth_method: "none" | "private_key_jwt"
  /** Default `["authorization_code"]`. */
  readonly grant_types: ReadonlyArray<string>
  /** Default `["code"]`. */
  readonly response_types: ReadonlyArray<string>
  readonly client_name?: string | undefined
  readonly client_uri?: string | undefined
  readonly logo_uri?: string | undefined
  readonly policy_uri?: string | undefined
  readonly tos_uri?: string | undefined
  readonly scope?: string | undefined
  readonly contacts?: ReadonlyArray<string> | undefined
  readonly software_id?: string | undefined
  readonly software_version?: string | undefined
  /** To fetch with the guarded client too (it is as attacker-chosen as the `client_id`). */
  readonly jwks_uri?: string | undefined
  readonly jwks?: { readonly keys: ReadonlyArray<PublicJwk> } | undefined
}

/** Options of a fetch; durations accept anything `Duration.decode` does. */
export interface FetchOptions extends GuardedHttpClient.GuardOptions {
  /** Limit for the whole exchange, name resolution included (default 5 seconds). */
  readonly timeout?: Duration.DurationInput | undefined
  /** Largest document read, in bytes (default 5 KiB, the draft's recommendation; at most 64 KiB). */
  readonly maxResponseBytes?: number | undefined
  /** Most redirect URIs accepted (default 20). */
  readonly maxRedirectUris?: number | undefined
}

/** The defaults of {@link FetchOptions}. */
export const defaults = {
  timeout: "5 seconds",
  maxResponseBytes: 5 * 1024,
  maxRedirectUris: 20
} as const

const hardMaxResponseBytes = 64 * 1024
const maxClientIdLength = 2048
const target = "client metadata document"

const invalid = (reason: InvalidMetadataDocumentReason, field?: string) =>
  new InvalidClientMetadataDocument(field === undefined ? { reason } : { reason, field })

// printable ASCII minus space and the characters RFC 3986 never allows unencoded (a backslash among them)
const uriCharacters = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/

/**
 * Whether a string is a Client Identifier URL (draft §3): https, no userinfo, a path without `.`/`..` segments
 * (percent-encoded ones included, since URL parsers resolve them), no fragment. The raw string is checked, because
 * the WHATWG parser normalizes exactly the forms that matter here. Under `allowPrivateNetworks` (tests), http too.
 */
export const isClientIdUrl = (clientId: string, options: { readonly allowPrivateNetworks?: boolean | undefined } = {}): boolean =>
  clientIdProblem(clientId, options) === undefined

const clientIdProblem = (
  clientId: string,
  options: { readonly allowPrivateNetworks?: boolean | undefined }
): string | undefined => {
  if (clientId.length > maxClientIdLength) return "too long"
  if (!uriCharacters.test(clientId)) return "characters"
  if (clientId.includes("#")) return "fragment"
  const scheme = /^(https?):\/\//.exec(clientId)?.[1]
  if (scheme !== "https" && !(scheme === "http" && options.allowPrivateNetworks === true)) return "scheme"
  const rest = clientId.slice(scheme.length + 3)
  const authorityEnd = rest.search(/[/?]/)
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd)
  if (authority.includes("@")) return "userinfo"
  if (authority === "") return "host"
  const pathAndQuery = authorityEnd === -1 ? "" : rest.slice(authorityEnd)
  const path = pathAndQuery.split("?", 1)[0] ?? ""
  if (path === "") return "path"
  const dotSegment = path.split("/").some((segment) => /^(?:\.|%2e){1,2}$/i.test(segment))
  if (dotSegment) return "dot segment"
  try {
    const url = new URL(clientId)
    if (url.username !== "" || url.password !== "" || url.hostname === "") return "authority"
    // the HTTP client re-serializes a query as form parameters; one that would change is refused, since the document
    // must be fetched from exactly the client_id (a query is discouraged by the draft anyway)
    const query = pathAndQuery.includes("?") ? pathAndQuery.slice(pathAndQuery.indexOf("?")) : ""
    if (query !== "" && query !== `?${new URLSearchParams(query.slice(1)).toString()}`) return "query"
  } catch {
    return "not a URL"
  }
  return undefined
}

/** The host to show on a consent page for a Client Identifier URL (draft §8.2), or undefined if it is not one. */
export const displayHost = (clientId: string): string | undefined => {
  try {
    return new URL(clientId).host
  } catch {
    return undefined
  }
}

const isJsonContentType = (value: string | undefined): boolean => {
  if (value === undefined) return false
  const essence = value.split(";", 1)[0]?.trim().toLowerCase() ?? ""
  return essence === "application/json" || /^application\/[a-z0-9!#$&^_.+-]+\+json$/.test(essence)
}

/** Seconds the response may be reused for, from `Cache-Control` (undefined when it says nothing about it). */
export const cacheLifetimeSeconds = (cacheControl: string | undefined): number | undefined => {
  if (cacheControl === undefined) return undefined
  const directives = cacheControl.split(",").map((d) => d.trim().toLowerCase())
  if (directives.some((d) => d === "no-store" || d === "no-cache")) return 0
  for (const directive of directives) {
    const match = /^max-age\s*=\s*"?(\d{1,10})"?$/.exec(directive)
    if (match !== null) return Number(match[1])
  }
  return undefined
}

type Failure = InvalidClientMetadataDocument | UpstreamUnavailable

// the shared capped reader; a body over the cap is the document's fault, any other failure the network's
const readCapped = (response: HttpClientResponse.HttpClientResponse, maxBytes: number): Effect.Effect<Uint8Array, Failure> =>
  readCappedBody(response, maxBytes).pipe(
    Effect.mapError((failure): Failure =>
      failure === "too_large" ? invalid("too_large") : new UpstreamUnavailable({ reason: "unreachable", target, retryAfterSeconds: 1 })
    )
  )

const parseObject = (body: Uint8Array): Record<string, unknown> | undefined => {
  try {
    const json: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body))
    return typeof json === "object" && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

// display strings: no control characters or bidirectional overrides, which could disguise a name on a consent page
const displayable = (value: string) => !/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(value)

const isHttpsUrl = (value: string): boolean => {
  if (!uriCharacters.test(value) || value.length > maxClientIdLength) return false
  try {
    const url = new URL(value)
    return url.protocol === "https:" && url.username === "" && url.password === "" && url.hostname !== ""
  } catch {
    return false
  }
}

// members of a private JWK (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2)
const privateJwkMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"]

const sharedSecretMembers = ["client_secret", "client_secret_expires_at"]

/**
 * Validates a parsed document fetched from `clientId`. Exported for tests and for pre-registered documents; the
 * fetch functions call it.
 */
export const validate = (
  clientId: string,
  document: Readonly<Record<string, unknown>>,
  options: { readonly maxRedirectUris?: number | undefined } = {}
): Effect.Effect<ClientMetadataDocument, InvalidClientMetadataDocument> =>
  Effect.suspend(() => {
    const has = (name: string) => Object.hasOwn(document, name)
    const get = (name: string): unknown => (has(name) ? document[name] : undefined)
    // draft §4: compared as plain strings, so `https://example.com/c` and `https://example.com:443/c` differ
    if (get("client_id") !== clientId) return Effect.fail(invalid("client_id_mismatch"))

    const authMethod = get("token_endpoint_auth_method") ?? "none"
    if (authMethod !== "none" && authMethod !== "private_key_jwt") return Effect.fail(invalid("auth_method"))
    if (sharedSecretMembers.some(has)) return Effect.fail(invalid("auth_method"))

    const redirectUris = get("redirect_uris")
    if (!Array.isArray(redirectUris) || redirectUris.length === 0) return Effect.fail(invalid("redirect_uris"))
    if (redirectUris.length > (options.maxRedirectUris ?? defaults.maxRedirectUris)) return Effect.fail(invalid("redirect_uris"))
    if (!redirectUris.every((uri) => typeof uri === "string" && RedirectUri.check(uri) === undefined)) {
      return Effect.fail(invalid("redirect_uris"))
    }

    const optionalString = (name: string, check: (s: string) => boolean = () => true): string | undefined | "invalid" => {
      const value = get(name)
      if (value === undefined) return undefined
      return typeof value === "string" && value.length <= 1000 && displayable(value) && check(value) ? value : "invalid"
    }
    const stringList = (name: string, fallback: ReadonlyArray<string>): ReadonlyArray<string> | "invalid" => {
      const value = get(name)
      if (value === undefined) return fallback
      return Array.isArray(value) && value.length <= 20 && value.every((s) => typeof s === "string" && s.length <= 200 && displayable(s))
        ? (value as Array<string>)
        : "invalid"
    }

    const strings = {
      client_name: optionalString("client_name", (s) => s.trim() !== "" && s.length <= 200),
      client_uri: optionalString("client_uri", isHttpsUrl),
      logo_uri: optionalString("logo_uri", isHttpsUrl),
      policy_uri: optionalString("policy_uri", isHttpsUrl),
      tos_uri: optionalString("tos_uri", isHttpsUrl),
      jwks_uri: optionalString("jwks_uri", isHttpsUrl),
      scope: optionalString("scope", (s) => s.split(" ").every(isScopeToken)),
      software_id: optionalString("software_id"),
      software_version: optionalString("software_version")
    }
    for (const [name, value] of Object.entries(strings)) {
      if (value === "invalid") return Effect.fail(invalid("metadata", name))
    }
    const lists = {
      grant_types: stringList("grant_types", ["authorization_code"]),
      response_types: stringList("response_types", ["code"]),
      contacts: stringList("contacts", [])
    }
    for (const [name, value] of Object.entries(lists)) {
      if (value === "invalid") return Effect.fail(invalid("metadata", name))
    }

    let jwks: { readonly keys: ReadonlyArray<PublicJwk> } | undefined
    if (has("jwks")) {
      const value = get("jwks")
      const keys = typeof value === "object" && value !== null ? (value as Record<string, unknown>)["keys"] : undefined
      const valid =
        Array.isArray(keys) &&
        keys.length <= 20 &&
        keys.every(
          (key) =>
            typeof key === "object" &&
            key !== null &&
            !Array.isArray(key) &&
            typeof (key as Record<string, unknown>)["kty"] === "string" &&
            !privateJwkMembers.some((member) => Object.hasOwn(key, member))
        )
      if (!valid) return Effect.fail(invalid("metadata", "jwks"))
      jwks = { keys: keys as ReadonlyArray<PublicJwk> }
    }
    // RFC 7591 §2: not both; private_key_jwt needs one of them
    if (jwks !== undefined && strings.jwks_uri !== undefined) return Effect.fail(invalid("metadata", "jwks"))
    if (authMethod === "private_key_jwt" && jwks === undefined && strings.jwks_uri === undefined) {
      return Effect.fail(invalid("metadata", "jwks_uri"))
    }

    const picked = (name: keyof typeof strings) => {
      const value = strings[name]
      return value === undefined || value === "invalid" ? {} : { [name]: value }
    }
    const contacts = lists.contacts as ReadonlyArray<string>
    const result: ClientMetadataDocument = {
      client_id: clientId,
      redirect_uris: [...(redirectUris as Array<string>)],
      token_endpoint_auth_method: authMethod,
      grant_types: lists.grant_types as ReadonlyArray<string>,
      response_types: lists.response_types as ReadonlyArray<string>,
      ...picked("client_name"),
      ...picked("client_uri"),
      ...picked("logo_uri"),
      ...picked("policy_uri"),
      ...picked("tos_uri"),
      ...picked("scope"),
      ...picked("software_id"),
      ...picked("software_version"),
      ...picked("jwks_uri"),
      ...(contacts.length === 0 ? {} : { contacts }),
      ...(jwks === undefined ? {} : { jwks })
    }
    return Effect.succeed(result)
  })

/** A fetched document and how long its response allows it to be reused, in seconds (undefined: not said). */
export interface Fetched {
  readonly document: ClientMetadataDocument
  readonly maxAgeSeconds: number | undefined
}

/**
 * Fetches and validates a document, also returning the lifetime its `Cache-Control` allows. See
 * {@link fetchClientMetadataDocument}.
 */
export const fetchWithLifetime = (clientId: string, options: FetchOptions = {}): Effect.Effect<Fetched, Failure> =>
  Effect.gen(function* () {
    const problem = clientIdProblem(clientId, options)
    if (problem !== undefined) {
      yield* Effect.logDebug("client_id is not a client identifier URL").pipe(Effect.annotateLogs({ problem }))
      return yield* invalid("client_id")
    }
    const maxBytes = Math.min(options.maxResponseBytes ?? defaults.maxResponseBytes, hardMaxResponseBytes)
    const client = HttpClient.withScope(GuardedHttpClient.make(options))
    const unavailable = (reason: UpstreamFailure) => new UpstreamUnavailable({ reason, target, retryAfterSeconds: 1 })

    const exchange = Effect.gen(function* () {
      const request = HttpClientRequest.get(clientId).pipe(HttpClientRequest.accept("application/json"))
      const response = yield* client.execute(request).pipe(
        Effect.mapError((error): Failure => {
          const refusal = GuardedHttpClient.refusalOf(error)
          if (refusal === undefined) return unavailable("unreachable")
          return refusal.reason === "unresolvable"
            ? invalid("unresolvable")
            : refusal.reason === "address" || refusal.reason === "host"
              ? invalid("blocked_host")
              : invalid("client_id")
        })
      )
      const status = response.status
      // draft §5: never follow a redirect; a 5xx is the host's trouble, anything else not 200 the client's
      if (status >= 300 && status < 400) return yield* invalid("redirect")
      if (status >= 500) return yield* unavailable("status")
      if (status !== 200) return yield* invalid("status")
      if (!isJsonContentType(response.headers["content-type"])) return yield* invalid("content_type")
      const declared = response.headers["content-length"]
      if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > maxBytes) return yield* invalid("too_large")
      const body = yield* readCapped(response, maxBytes)
      const json = parseObject(body)
      if (json === undefined) return yield* invalid("malformed")
      const document = yield* validate(clientId, json, options)
      return { document, maxAgeSeconds: cacheLifetimeSeconds(response.headers["cache-control"]) }
    })

    return yield* exchange.pipe(
      // the scope aborts the request on every exit, so an unread or half-read body never lingers
      Effect.scoped,
      Effect.timeoutFail({ duration: options.timeout ?? defaults.timeout, onTimeout: () => unavailable("timeout") }),
      Effect.tapError((error) =>
        Effect.logDebug("client metadata document refused").pipe(
          Effect.annotateLogs({ host: displayHost(clientId) ?? "", reason: error.reason })
        )
      )
    )
  }).pipe(
    Effect.tapBoth({
      onSuccess: () => Effect.annotateCurrentSpan(Telemetry.Attribute.outcome, "ok"),
      onFailure: (error) =>
        Effect.annotateCurrentSpan({
          [Telemetry.Attribute.outcome]: error._tag === "UpstreamUnavailable" ? "error" : "refused",
          [Telemetry.Attribute.failureReason]: error.reason
        })
    }),
    Effect.withSpan(Telemetry.Span.clientMetadataFetch, { attributes: { [Telemetry.Attribute.clientId]: clientId } })
  )

/**
 * Fetches the Client ID Metadata Document at `clientId` and validates it. Fails with {@link InvalidClientMetadataDocument}
 * for anything the client got wrong (a URL that is not a client identifier URL, a host that resolves to a
 * non-public address, a redirect, a non-200 status, a non-JSON or oversized body, a `client_id` other than the URL,
 * invalid redirect URIs, a shared-secret authentication method), and with `UpstreamUnavailable` when its host is
 * unreachable, times out or answers 5xx. Nothing is cached: see `ClientMetadataCache`.
 */
export const fetchClientMetadataDocument = (
  clientId: string,
  options: FetchOptions = {}
): Effect.Effect<ClientMetadataDocument, InvalidClientMetadataDocument | UpstreamUnavailable> =>
  Effect.map(fetchWithLifetime(clientId, options), (fetched) => fetched.document)
