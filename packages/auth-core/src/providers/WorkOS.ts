/**
 * WorkOS AuthKit as the authorization server (remote mode): MCP clients register (CIMD or DCR) and sign in at the
 * AuthKit domain, and this server verifies the JWT access tokens AuthKit issues ("Connect" tokens).
 *
 * Issuer `https://{subdomain}.authkit.app` or the custom AuthKit domain (no trailing slash), keys at
 * `{issuer}/oauth2/jwks`, audience the MCP resource indicator configured in WorkOS (else the environment's client id).
 * Tokens carry `sub`, `client_id`, `org_id`, `sid` and `scope`; roles and permissions are not in them.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as ClaimMapping from "../ClaimMapping.js"
import { ConfigProblem } from "../ConfigProblem.js"
import type { OAuthProvider } from "../OAuthProvider.js"
import { Provider } from "../Provider.js"
import { ResourceServer } from "../ResourceServer.js"
import * as TokenVerifier from "../TokenVerifier.js"
import { checkScopes } from "../internal/settings.js"
import * as Custom from "./Custom.js"
import { audienceWarnings, toList, toOrigin } from "./internal/hostedDomain.js"
import { configuredLayer, facadeProvider, optionalList, optionalValue, providerLayer } from "./internal/providerModule.js"

/** Options of the WorkOS AuthKit provider; give `subdomain` or `domain`. */
export interface WorkOSOptions
  extends Pick<Custom.CustomOptions, "scopes" | "algorithms" | "typ" | "clockTolerance" | "jwks" | "mirrorMetadata"> {
  /**
   * The AuthKit domain, `your-company.authkit.app`, or only its first label `your-company`
   * (→ `https://your-company.authkit.app`). A full origin URL is accepted too.
   */
  readonly subdomain?: string | undefined
  /** A custom AuthKit domain (`auth.example.com` or `https://auth.example.com`), instead of {@link subdomain}. */
  readonly domain?: string | undefined
  /**
   * Accepted `aud` values (default: this server's resource URL). Add the resource URL as an MCP resource indicator in
   * WorkOS (Connect → Configuration) so AuthKit puts it in `aud`. Setting the environment's client id here opts out of
   * audience binding: every token the environment issues without a resource indicator is then accepted, and a loud
   * warning is given at start.
   */
  readonly audience?: string | ReadonlyArray<string> | undefined
  /** Where user fields live, over the WorkOS defaults (`sub`, `email`, `name`, `roles`/`role`, `permissions`). */
  readonly claims?: ClaimMapping.ClaimMapping | undefined
}

const optionNames = { subdomain: "subdomain", domain: "domain", audience: "audience", scopes: "scopes" } as const
const variableNames = {
  subdomain: "MCP_OAUTH_WORKOS_SUBDOMAIN",
  domain: "MCP_OAUTH_WORKOS_DOMAIN",
  audience: "MCP_OAUTH_WORKOS_AUDIENCE",
  scopes: "MCP_OAUTH_WORKOS_SCOPES"
} as const

const dnsLabel = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i

/** The AuthKit origin from `subdomain` (a label, a host, or an origin URL). */
const subdomainOrigin = (setting: string, value: string): Effect.Effect<string, ConfigProblem> => {
  const trimmed = value.trim()
  if (trimmed.includes("://") || trimmed.includes(".")) return toOrigin(setting, trimmed)
  return dnsLabel.test(trimmed)
    ? Effect.succeed(`https://${trimmed.toLowerCase()}.authkit.app`)
    : Effect.fail(
        new ConfigProblem({
          setting,
          problem: `${JSON.stringify(value)} is not an AuthKit subdomain (e.g. "your-company" or "your-company.authkit.app")`
        })
      )
}

/** Validates the options, naming each problem after `names` (option names, or environment variables). */
const check = (options: WorkOSOptions, names: Record<keyof typeof optionNames, string>) =>
  Effect.gen(function* () {
    if (options.subdomain !== undefined && options.domain !== undefined) {
      return yield* new ConfigProblem({ setting: names.domain, problem: `set either ${names.subdomain} or ${names.domain}, not both` })
    }
    const origin =
      options.domain !== undefined
        ? yield* toOrigin(names.domain, options.domain)
        : options.subdomain !== undefined
          ? yield* subdomainOrigin(names.subdomain, options.subdomain)
          : yield* new ConfigProblem({ setting: names.subdomain, problem: `is required (or set ${names.domain})` })
    const audience = options.audience === undefined ? undefined : yield* toList(names.audience, options.audience)
    yield* checkScopes(names.scopes, options.scopes ?? [])
    return { origin, audience }
  })

/** Builds the provider and its verifier; nothing is fetched until the first token or metadata request. */
export const make = (
  options: WorkOSOptions
): Effect.Effect<
  { readonly provider: typeof Provider.Service; readonly verifier: TokenVerifier.Service },
  ConfigProblem,
  ResourceServer | HttpClient.HttpClient
> =>
  Effect.gen(function* () {
    const { origin, audience } = yield* check(options, optionNames)
    const server = yield* ResourceServer
    const audiences = audience ?? [server.resource]
    const environmentWide = audiences.some((a) => a.startsWith("client_"))
    const warnings = audienceWarnings(
      "workos",
      audiences,
      server.resource,
      environmentWide
        ? "the environment client id is the audience of every AuthKit token issued without a resource indicator, so " +
            "tokens meant for any other application or MCP server of this WorkOS environment are accepted here. Add " +
            JSON.stringify(server.resource) +
            " as an MCP resource indicator in WorkOS (Connect → Configuration) and remove the audience setting"
        : "tokens AuthKit issues for that resource are accepted here, whichever server they were meant for"
    )
    return yield* Custom.make({
      name: "workos",
      issuer: origin,
      jwksUri: `${origin}/oauth2/jwks`,
      audience: audiences,
      scopes: options.scopes,
      algorithms: options.algorithms,
      typ: options.typ,
      clockTolerance: options.clockTolerance,
      jwks: options.jwks,
      mirrorMetadata: options.mirrorMetadata,
      claims: { roles: ["roles", "role"], permissions: ["permissions"], ...options.claims },
      warnings
    })
  })

/** A layer providing {@link Provider} and {@link TokenVerifier.TokenVerifier} for a WorkOS AuthKit environment. */
export const layer = (
  options: WorkOSOptions
): Layer.Layer<Provider | TokenVerifier.TokenVerifier, ConfigProblem, ResourceServer | HttpClient.HttpClient> =>
  providerLayer(make(options))

/** The environment variables read by {@link layerConfig}. */
export const config: Config.Config<WorkOSOptions> = Config.all({
  subdomain: optionalValue(variableNames.subdomain),
  domain: optionalValue(variableNames.domain),
  audience: optionalList(variableNames.audience),
  scopes: optionalList(variableNames.scopes)
})

/**
 * Like {@link layer}, with options from configuration: `MCP_OAUTH_WORKOS_SUBDOMAIN` or `MCP_OAUTH_WORKOS_DOMAIN`
 * (one required), `MCP_OAUTH_WORKOS_AUDIENCE` and `MCP_OAUTH_WORKOS_SCOPES` (space- or comma-separated).
 */
export const layerConfig = (
  options: Config.Config<WorkOSOptions> = config
): Layer.Layer<Provider | TokenVerifier.TokenVerifier, ConfigProblem, ResourceServer | HttpClient.HttpClient> =>
  // validated here too so that a message names the variable rather than the option
  configuredLayer(options, (resolved) => check(resolved, variableNames), layer)

/**
 * The WorkOS AuthKit provider for the `MCPServer` facade (same options as {@link layer}); without options it reads
 * the environment like {@link layerConfig}.
 */
export const oauthWorkOSProvider = (options?: WorkOSOptions): OAuthProvider =>
  facadeProvider("workos", options, layer, layerConfig)
