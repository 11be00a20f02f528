/**
 * What an identity provider contributes to the protected resource besides its token verifier.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { UpstreamUnavailable } from "./Errors.js"
import type { HttpAnswer } from "./HttpAnswer.js"
import type { AuthorizationServerMetadata } from "./Metadata.js"

/** Why a request body could not be read. */
export type BodyProblem = "too_large" | "unreadable"

/**
 * A request to one of a provider's own routes (the OAuth proxy's endpoints), with everything such an endpoint may
 * read. Adapters fill it in; nothing here is trusted.
 */
export interface ProviderRequest {
  /** The method, upper case. */
  readonly method: string
  /** The path, e.g. `/authorize`. */
  readonly pathname: string
  /** The query parameters. */
  readonly query: URLSearchParams
  /** A request header by lower-case name (repeated headers joined by the adapter's rules); undefined when absent. */
  readonly header: (name: string) => string | undefined
  /** The network peer's address, when the adapter knows it (forwarded addresses are the provider's decision). */
  readonly remoteAddress: string | undefined
  /** Reads the raw body, failing once more than `maxBytes` arrive; read at most once, only by routes that take one. */
  readonly body: (maxBytes: number) => Effect.Effect<Uint8Array, BodyProblem>
}

/** Routes a provider adds to the HTTP surface (the OAuth proxy's authorize, token, register ... endpoints). */
export interface ProviderRoutes {
  /** The exact paths answered. */
  readonly paths: ReadonlyArray<string>
  /** Answers a request to one of `paths`; every failure is already an answer, so this never fails. */
  readonly handle: (request: ProviderRequest) => Effect.Effect<HttpAnswer>
}

/** An identity provider's contribution. */
export interface Service {
  /** A short name for logs, e.g. `custom` or `auth0`. */
  readonly name: string
  /** Issuers listed as `authorization_servers` in the protected resource metadata. */
  readonly authorizationServers: ReadonlyArray<string>
  /** Scopes this provider's tokens can carry for this server, advertised in the metadata and challenges. */
  readonly scopesSupported?: ReadonlyArray<string> | undefined
  /**
   * The authorization server metadata this server mirrors at `/.well-known/oauth-authorization-server` and
   * `/.well-known/openid-configuration` for clients that look there (fetched once and cached; `issuer` untouched).
   */
  readonly metadata?: Effect.Effect<AuthorizationServerMetadata, UpstreamUnavailable> | undefined
  /** Things the operator should know at start (for example tokens not bound to this server). */
  readonly warnings: ReadonlyArray<string>
  /** Routes this provider serves itself (proxy mode); they need the whole request. */
  readonly routes?: ProviderRoutes | undefined
}

/** The identity provider service. */
export class Provider extends Context.Tag("@mcp-oauth/auth-core/Provider")<Provider, Service>() {}
