/**
 * The RFC 9728 protected resource metadata document of this server.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { ProtectedResourceMetadata } from "./Metadata.js"
import { Provider } from "./Provider.js"
import { ResourceServer } from "./ResourceServer.js"

/** The scopes advertised: the resource's own, then the provider's, without repeats. */
export const scopesSupported: Effect.Effect<ReadonlyArray<string>, never, ResourceServer | Provider> = Effect.gen(
  function* () {
    const server = yield* ResourceServer
    const provider = yield* Provider
    return [...new Set([...server.scopesSupported, ...(provider.scopesSupported ?? [])])]
  }
)

/** Builds the metadata from the resource configuration and the provider's authorization servers. */
export const metadata: Effect.Effect<ProtectedResourceMetadata, never, ResourceServer | Provider> = Effect.gen(
  function* () {
    const server = yield* ResourceServer
    const provider = yield* Provider
    const scopes = yield* scopesSupported
    return {
      resource: server.resource,
      authorization_servers: [...provider.authorizationServers],
      ...(scopes.length > 0 ? { scopes_supported: [...scopes] } : {}),
      bearer_methods_supported: ["header"],
      ...(server.resourceName !== undefined ? { resource_name: server.resourceName } : {}),
      ...(server.resourceDocumentation !== undefined
        ? { resource_documentation: server.resourceDocumentation }
        : {})
    }
  }
)
