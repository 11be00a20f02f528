/**
 * This MCP server as an OAuth protected resource: its canonical resource URL and what it advertises.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { ConfigProblem } from "./ConfigProblem.js"
import type { ScopeImplications } from "./ScopeHierarchy.js"
import { checkScopes } from "./internal/settings.js"
import { canonicalize, protectedResourceMetadataUrl, wellKnownUrl } from "./ResourceUrl.js"

/** Options of the protected resource. */
export interface ResourceServerOptions {
  /** The URL clients use for the MCP endpoint, e.g. `https://mcp.example.com/mcp`. */
  readonly resource: string
  /** Human-readable name put in the metadata (`resource_name`). */
  readonly resourceName?: string | undefined
  /** Scopes advertised in the metadata and the 401 challenge (`scopes_supported`). */
  readonly scopesSupported?: ReadonlyArray<string> | undefined
  /** Scopes every request needs. */
  readonly requiredScopes?: ReadonlyArray<string> | undefined
  /** Scope implications, e.g. `{ "files:write": ["files:read"] }`: a broader scope satisfies a narrower one. */
  readonly scopeImplications?: ScopeImplications | undefined
  /** A page for people about this server (`resource_documentation`). */
  readonly resourceDocumentation?: string | undefined
  /** The name of the setting `resource` came from, for error messages (default `resource`). */
  readonly resourceSetting?: string | undefined
}

/** The resolved protected-resource configuration. */
export interface Service {
  /** The canonical resource URL. */
  readonly resource: string
  /** The metadata URL given in `resource_metadata` challenges (path-suffixed form). */
  readonly metadataUrl: string
  /** Paths where the metadata is served: the path-suffixed one and the root one. */
  readonly metadataPaths: ReadonlyArray<string>
  /** The path of the MCP endpoint, guarded along with everything below it. */
  readonly mcpPath: string
  readonly resourceName: string | undefined
  readonly resourceDocumentation: string | undefined
  readonly scopesSupported: ReadonlyArray<string>
  readonly requiredScopes: ReadonlyArray<string>
  readonly scopeImplications: ScopeImplications
}

/** The protected-resource configuration service. */
export class ResourceServer extends Context.Tag("@mcp-oauth/auth-core/ResourceServer")<ResourceServer, Service>() {}

/** Validates options into the service; an unusable resource URL fails naming the setting. */
export const make = (options: ResourceServerOptions): Effect.Effect<Service, ConfigProblem> =>
  Effect.gen(function* () {
    const setting = options.resourceSetting ?? "resource"
    const canonical = canonicalize(options.resource)
    if ("problem" in canonical) {
      const problems = {
        not_a_url: "is not a URL",
        scheme: "must be an http(s) URL",
        fragment: "must not have a fragment",
        userinfo: "must not contain a user name or password",
        insecure: "must use https unless the host is loopback"
      } as const
      return yield* new ConfigProblem({ setting, problem: `${JSON.stringify(options.resource)} ${problems[canonical.problem]}` })
    }
    const scopesSupported = options.scopesSupported ?? []
    const requiredScopes = options.requiredScopes ?? []
    yield* checkScopes("scopesSupported", scopesSupported)
    yield* checkScopes("requiredScopes", requiredScopes)
    const resource = canonical.url
    const url = new URL(resource)
    const metadataUrl = protectedResourceMetadataUrl(resource)
    const rootMetadata = wellKnownUrl(url.origin, "oauth-protected-resource")
    return {
      resource,
      metadataUrl,
      metadataPaths: [...new Set([new URL(metadataUrl).pathname, new URL(rootMetadata).pathname])],
      mcpPath: url.pathname,
      resourceName: options.resourceName,
      resourceDocumentation: options.resourceDocumentation,
      scopesSupported: [...new Set([...scopesSupported, ...requiredScopes])],
      requiredScopes,
      scopeImplications: options.scopeImplications ?? {}
    }
  })

/** A layer of the protected-resource configuration. */
export const layer = (options: ResourceServerOptions): Layer.Layer<ResourceServer, ConfigProblem> =>
  Layer.effect(ResourceServer, make(options))
