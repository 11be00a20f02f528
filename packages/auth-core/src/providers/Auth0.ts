/**
 * Auth0 as the authorization server (remote mode): MCP clients register and sign in at the Auth0 tenant, and this
 * server verifies the JWT access tokens Auth0 issues for the API whose identifier is this server's resource URL.
 *
 * Issuer `https://{domain}/` (with the trailing slash, compared exactly), keys at `https://{domain}/.well-known/jwks.json`,
 * permissions from the RBAC `permissions` claim, roles from a custom claim an Action sets.
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

/** Options of the Auth0 provider. */
export interface Auth0Options
  extends Pick<Custom.CustomOptions, "scopes" | "algorithms" | "typ" | "clockTolerance" | "jwks" | "mirrorMetadata"> {
  /**
   * The tenant's domain (`your-tenant.us.auth0.com`) or its custom domain, as a bare host or an origin URL
   * (`https://login.example.com`). Use the domain the tokens are issued under: a custom domain changes `iss`.
   */
  readonly domain: string
  /**
   * The API identifier tokens must name in `aud` (default: this server's resource URL). Create the Auth0 API with the
   * MCP resource URL as its identifier and leave this unset; any other value is warned about at start.
   */
  readonly audience?: string | ReadonlyArray<string> | undefined
  /**
   * The custom claim holding the user's roles, set by a post-login Action, e.g. `https://example.com/roles`.
   * Auth0 puts no roles in access tokens by itself; without this setting `user.roles` is empty.
   */
  readonly rolesClaim?: string | undefined
  /** Where user fields live, over the Auth0 defaults (`sub`, `email`, `name`, `permissions`, {@link rolesClaim}). */
  readonly claims?: ClaimMapping.ClaimMapping | undefined
}

const optionNames = { domain: "domain", audience: "audience", rolesClaim: "rolesClaim", scopes: "scopes" } as const
const variableNames = {
  domain: "MCP_OAUTH_AUTH0_DOMAIN",
  audience: "MCP_OAUTH_AUTH0_AUDIENCE",
  rolesClaim: "MCP_OAUTH_AUTH0_ROLES_CLAIM",
  scopes: "MCP_OAUTH_AUTH0_SCOPES"
} as const

/** Validates the options, naming each problem after `names` (option names, or environment variables). */
const check = (options: Auth0Options, names: Record<keyof typeof optionNames, string>) =>
  Effect.gen(function* () {
    const origin = yield* toOrigin(names.domain, options.domain)
    const audience = options.audience === undefined ? undefined : yield* toList(names.audience, options.audience)
    if (options.rolesClaim !== undefined && options.rolesClaim.trim() === "") {
      return yield* new ConfigProblem({ setting: names.rolesClaim, problem: "must not be empty" })
    }
    yield* checkScopes(names.scopes, options.scopes ?? [])
    return { origin, audience }
  })

/**
 * The Auth0 issuer identifier for a tenant origin: `https://{domain}/`, trailing slash included, as Auth0 writes
 * it in `iss` and in its discovery document.
 */
export const issuerOf = (origin: string): string => `${origin}/`

/** Builds the provider and its verifier; nothing is fetched until the first token or metadata request. */
export const make = (
  options: Auth0Options
): Effect.Effect<
  { readonly provider: typeof Provider.Service; readonly verifier: TokenVerifier.Service },
  ConfigProblem,
  ResourceServer | HttpClient.HttpClient
> =>
  Effect.gen(function* () {
    const { origin, audience } = yield* check(options, optionNames)
    const server = yield* ResourceServer
    const audiences = audience ?? [server.resource]
    const warnings = audienceWarnings(
      "auth0",
      audiences,
      server.resource,
      "MCP clients ask Auth0 for tokens with resource=" +
        JSON.stringify(server.resource) +
        ", which Auth0 honours only for an API with that identifier (and the Resource Parameter Compatibility " +
        "Profile on), and any token issued for that audience, whichever service it was meant for, is accepted here"
    )
    return yield* Custom.make({
      name: "auth0",
      issuer: issuerOf(origin),
      jwksUri: `${origin}/.well-known/jwks.json`,
      audience: audiences,
      scopes: options.scopes,
      algorithms: options.algorithms,
      typ: options.typ,
      clockTolerance: options.clockTolerance,
      jwks: options.jwks,
      mirrorMetadata: options.mirrorMetadata,
      claims: {
        roles: options.rolesClaim === undefined ? [] : [options.rolesClaim.trim()],
        permissions: ["permissions"],
        ...options.claims
      },
      warnings
    })
  })

/** A layer providing {@link Provider} and {@link TokenVerifier.TokenVerifier} for an Auth0 tenant. */
export const layer = (
  options: Auth0Options
): Layer.Layer<Provider | TokenVerifier.TokenVerifier, ConfigProblem, ResourceServer | HttpClient.HttpClient> =>
  providerLayer(make(options))

/** The environment variables read by {@link layerConfig}. */
export const config: Config.Config<Auth0Options> = Config.all({
  domain: Config.string(variableNames.domain),
  audience: optionalList(variableNames.audience),
  rolesClaim: optionalValue(variableNames.rolesClaim),
  scopes: optionalList(variableNames.scopes)
})

/**
 * Like {@link layer}, with options from configuration: `MCP_OAUTH_AUTH0_DOMAIN` (required), `MCP_OAUTH_AUTH0_AUDIENCE`
 * and `MCP_OAUTH_AUTH0_SCOPES` (space- or comma-separated), `MCP_OAUTH_AUTH0_ROLES_CLAIM`.
 */
export const layerConfig = (
  options: Config.Config<Auth0Options> = config
): Layer.Layer<Provider | TokenVerifier.TokenVerifier, ConfigProblem, ResourceServer | HttpClient.HttpClient> =>
  // validated here too so that a message names the variable rather than the option
  configuredLayer(options, (resolved) => check(resolved, variableNames), layer)

/**
 * The Auth0 provider for the `MCPServer` facade (same options as {@link layer}); without options it reads the
 * environment like {@link layerConfig}.
 */
export const oauthAuth0Provider = (options?: Auth0Options): OAuthProvider =>
  facadeProvider("auth0", options, layer, layerConfig)
