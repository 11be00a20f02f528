/**
 * What an identity provider contributes to the protected resource besides its token verifier.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { UpstreamUnavailable } from "./Errors.js"
import type { AuthorizationServerMetadata } from "./Metadata.js"

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
}

/** The identity provider service. */
export class Provider extends Context.Tag("@mcp-oauth/auth-core/Provider")<Provider, Service>() {}
