/**
 * The proxy's clients: registered through Dynamic Client Registration (kept in the Store with a TTL: short until the
 * client first obtains a token, long afterwards), or — through the {@link ClientResolver} seam — described by a
 * Client ID Metadata Document. Client authentication at the token and revocation endpoints lives here too.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { InvalidClient, InvalidRequest, type UpstreamUnavailable } from "../Errors.js"
import type { ProviderRequest } from "../Provider.js"
import type * as Store from "../Store.js"
import type * as ClientMetadataCache from "./cimd/ClientMetadataCache.js"
import * as ClientMetadataDocument from "./cimd/ClientMetadataDocument.js"
import { constantTimeEqual, fromBase64, sha256 } from "./internal/bytes.js"
import { ClientRecord, decode, encode } from "./internal/records.js"

/** A client as the proxy's endpoints see it. */
export interface Client {
  readonly clientId: string
  /** `none` for public clients (the usual MCP client); confidential ones authenticate at the token endpoint. */
  readonly authMethod: "none" | "client_secret_basic" | "client_secret_post"
  readonly redirectUris: ReadonlyArray<string>
  readonly grantTypes: ReadonlyArray<string>
  /** The name the client gave itself (unverified: shown as such on the consent page). */
  readonly clientName: string | undefined
  /** Where the client came from; a metadata document's host is verified, a registered name is not. */
  readonly source: "registration" | "metadata_document"
  /** SHA-256 of the secret of a confidential client. */
  readonly secretHash?: string | undefined
  /** The registration as stored (registered clients only). */
  readonly record?: ClientRecord | undefined
}

/**
 * Resolves a `client_id` that is not a registered one, e.g. an https URL naming a Client ID Metadata Document.
 * `Option.none()` means "not mine": the client is then unknown. The metadata-document module plugs in here.
 */
export type ClientResolver = (clientId: string) => Effect.Effect<Option.Option<Client>, UpstreamUnavailable | InvalidClient>

/** The client registry of one proxy. */
export interface Clients {
  /** Stores a newly registered client for the unused-client TTL. */
  readonly save: (record: ClientRecord) => Effect.Effect<void, UpstreamUnavailable>
  /** The client with this id, registered or resolved. */
  readonly find: (clientId: string) => Effect.Effect<Option.Option<Client>, UpstreamUnavailable | InvalidClient>
  /** Marks a registered client as used, extending its registration to the long TTL. */
  readonly touch: (client: Client) => Effect.Effect<void, UpstreamUnavailable>
  /**
   * Identifies and authenticates the client of a token or revocation request (RFC 6749 §2.3): HTTP Basic or
   * `client_id` (+ `client_secret`) in the body, exactly as the client registered. Fails with 401 `invalid_client`.
   */
  readonly authenticate: (
    request: ProviderRequest,
    form: ReadonlyMap<string, string>
  ) => Effect.Effect<Client, InvalidClient | InvalidRequest | UpstreamUnavailable>
}

/** Settings of the registry. */
export interface ClientsOptions {
  readonly store: Store.Service
  readonly keyPrefix: string
  /** Lifetime of a registration that never obtained a token. */
  readonly unusedTtl: Duration.DurationInput
  /** Lifetime of a registration once used, renewed on every token. */
  readonly ttl: Duration.DurationInput
  /** Resolves ids that are not registered (Client ID Metadata Documents). */
  readonly resolver?: ClientResolver | undefined
}

const fromRecord = (record: ClientRecord): Client => ({
  clientId: record.client_id,
  authMethod: record.token_endpoint_auth_method,
  redirectUris: record.redirect_uris,
  grantTypes: record.grant_types,
  clientName: record.client_name,
  source: "registration",
  secretHash: record.secret_hash,
  record
})

/** The characters of the client ids this registry issues. */
const registeredId = /^mcp_[A-Za-z0-9_-]{20,64}$/

const basicCredentials = (header: string | undefined): { readonly id: string; readonly secret: string } | "absent" | "malformed" => {
  if (header === undefined) return "absent"
  const m = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header)
  if (m === null) return /^basic(?: |$)/i.test(header) ? "malformed" : "absent"
  const bytes = fromBase64(m[1]!)
  if (bytes === undefined) return "malformed"
  let text: string
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes)
  } catch {
    return "malformed"
  }
  const colon = text.indexOf(":")
  if (colon < 0) return "malformed"
  try {
    // RFC 6749 §2.3.1: both parts are form-urlencoded before being joined
    const decodePart = (s: string) => decodeURIComponent(s.replace(/\+/g, " "))
    return { id: decodePart(text.slice(0, colon)), secret: decodePart(text.slice(colon + 1)) }
  } catch {
    return "malformed"
  }
}

/** Builds the registry. */
export const make = (options: ClientsOptions): Clients => {
  const { store } = options
  const key = (clientId: string) => `${options.keyPrefix}client:${clientId}`
  const encodeClient = encode(ClientRecord)
  const decodeClient = decode(ClientRecord, "client")

  const save = (record: ClientRecord) =>
    Effect.flatMap(encodeClient(record), (value) =>
      store.set(key(record.client_id), value, record.used === true ? options.ttl : options.unusedTtl)
    )

  const find = (clientId: string): Effect.Effect<Option.Option<Client>, UpstreamUnavailable | InvalidClient> => {
    if (registeredId.test(clientId)) {
      return Effect.map(Effect.flatMap(store.get(key(clientId)), decodeClient), Option.map(fromRecord))
    }
    if (options.resolver !== undefined && clientId.length <= 2048) return options.resolver(clientId)
    return Effect.succeed(Option.none())
  }

  const touch = (client: Client) =>
    client.record === undefined ? Effect.void : save({ ...client.record, used: true })

  const unknown = (basic: boolean) => new InvalidClient({ description: "Client authentication failed", basic })

  const authenticate = (request: ProviderRequest, form: ReadonlyMap<string, string>) =>
    Effect.gen(function* () {
      const basic = basicCredentials(request.header("authorization"))
      if (basic === "malformed") return yield* unknown(true)
      const bodyId = form.get("client_id")
      const bodySecret = form.get("client_secret")
      if (basic !== "absent" && bodySecret !== undefined) {
        return yield* new InvalidRequest({ description: "Use one client authentication method only" })
      }
      if (basic !== "absent" && bodyId !== undefined && bodyId !== basic.id) {
        return yield* new InvalidRequest({ description: "The client_id does not match the authenticated client" })
      }
      const clientId = basic !== "absent" ? basic.id : bodyId
      if (clientId === undefined || clientId === "") return yield* unknown(basic !== "absent")
      const client = yield* find(clientId)
      if (Option.isNone(client)) return yield* unknown(basic !== "absent")
      const found = client.value
      const presented = basic !== "absent" ? { method: "client_secret_basic", secret: basic.secret } : bodySecret !== undefined ? { method: "client_secret_post", secret: bodySecret } : undefined
      if (found.authMethod === "none") {
        // a public client has no secret: presenting one is a confused or hostile client (an empty Basic password is
        // how some public clients identify themselves, and carries nothing)
        if (presented !== undefined && presented.secret !== "") return yield* unknown(basic !== "absent")
        return found
      }
      if (presented === undefined || presented.method !== found.authMethod || found.secretHash === undefined) {
        return yield* unknown(basic !== "absent")
      }
      const hash = yield* sha256(presented.secret)
      if (!constantTimeEqual(hash, found.secretHash)) return yield* unknown(basic !== "absent")
      return found
    })

  return { save, find, touch, authenticate }
}

/**
 * The resolver for Client ID Metadata Documents (`cimd/`): an https `client_id` is fetched through the SSRF-guarded
 * client and validated (its `client_id` equal to the URL, valid redirect URIs), cached as the document allows. A
 * public client results; a document asking for `private_key_jwt` is refused (this proxy does not verify client
 * assertions). Anything that is not a client identifier URL is "not mine".
 */
export const fromMetadataDocuments = (
  documents: ClientMetadataCache.Service,
  options: { readonly allowPrivateNetworks?: boolean | undefined } = {}
): ClientResolver =>
  (clientId) => {
    if (!ClientMetadataDocument.isClientIdUrl(clientId, options)) return Effect.succeed(Option.none())
    return documents.get(clientId).pipe(
      Effect.catchTag("InvalidClientMetadataDocument", (error) =>
        Effect.fail(new InvalidClient({ description: error.description }))
      ),
      Effect.flatMap((document) =>
        document.token_endpoint_auth_method !== "none"
          ? Effect.fail(new InvalidClient({ description: "Clients described by a metadata document must be public (token_endpoint_auth_method none)" }))
          : Effect.succeed(
              Option.some<Client>({
                clientId,
                authMethod: "none",
                redirectUris: document.redirect_uris,
                grantTypes: document.grant_types,
                clientName: document.client_name,
                source: "metadata_document"
              })
            )
      )
    )
  }
