/**
 * What an identity provider contributes to the protected resource besides its token verifier.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"

/** An identity provider's contribution. */
export interface Service {
  /** A short name for logs, e.g. `custom` or `auth0`. */
  readonly name: string
  /** Issuers listed as `authorization_servers` in the protected resource metadata. */
  readonly authorizationServers: ReadonlyArray<string>
  /** Scopes this provider's tokens can carry for this server, advertised in the metadata and challenges. */
  readonly scopesSupported?: ReadonlyArray<string> | undefined
  /** Things the operator should know at start (for example tokens not bound to this server). */
  readonly warnings: ReadonlyArray<string>
}

/** The identity provider service. */
export class Provider extends Context.Tag("@mcp-oauth/auth-core/Provider")<Provider, Service>() {}
