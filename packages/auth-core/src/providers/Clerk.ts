/**
 * Clerk as the authorization server (remote mode): MCP clients register (CIMD or DCR) and sign in at the instance's
 * Frontend API, and this server verifies the OAuth access tokens Clerk issues as JWTs.
 *
 * Issuer: the Frontend API URL (`https://{instance}.clerk.accounts.dev`, or `https://clerk.{your-domain}` in
 * production), keys at `{issuer}/.well-known/jwks.json`. Only tokens with the RFC 9068 header `typ: at+jwt` are
 * accepted: Clerk session tokens share the issuer and the keys but are typed `JWT`. Opaque OAuth tokens (`oat_…`,
 * the older default) cannot be verified here; switch the instance to JWT access tokens.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as ClaimMapping from "../ClaimMapping.js"
import type { ConfigProblem } from "../ConfigProblem.js"
import type { OAuthProvider } from "../OAuthProvider.js"
import { Provider } from "../Provider.js"
import { ResourceServer } from "../ResourceServer.js"
import * as TokenVerifier from "../TokenVerifier.js"
import { checkScopes } from "../internal/settings.js"
import * as Custom from "./Custom.js"
import { audienceWarnings, toList, toOrigin } from "./internal/hostedDomain.js"
import { configuredLayer, facadeProvider, optionalList, providerLayer } from "./internal/providerModule.js"

/** Options of the Clerk provider. */
export interface ClerkOptions
  extends Pick<Custom.CustomOptions, "scopes" | "algorithms" | "clockTolerance" | "jwks" | "mirrorMetadata"> {
  /**
   * The instance's Frontend API domain, as a bare host or an origin URL: `verb-noun-00.clerk.accounts.dev` for a
   * development instance, `clerk.example.com` for a production one (Dashboard → API keys → Frontend API URL).
   */
  readonly domain: string
  /**
   * Accepted `aud` values (default: this server's resource URL). Register the resource URL as an MCP server in the
   * Clerk Dashboard so Clerk issues tokens with it as the audience; tokens without `aud` are refused.
   */
  readonly audience?: string | ReadonlyArray<string> | undefined
  /** Where user fields live, over the Clerk defaults (`sub`, `email`, `name`, `org_role`, `org_permissions`). */
  readonly claims?: ClaimMapping.ClaimMapping | undefined
}

const optionNames = { domain: "domain", audience: "audience", scopes: "scopes" } as const
const variableNames = {
  domain: "MCP_OAUTH_CLERK_DOMAIN",
  audience: "MCP_OAUTH_CLERK_AUDIENCE",
  scopes: "MCP_OAUTH_CLERK_SCOPES"
} as const

/** Validates the options, naming each problem after `names` (option names, or environment variables). */
const check = (options: ClerkOptions, names: Record<keyof typeof optionNames, string>) =>
  Effect.gen(function* () {
    const origin = yield* toOrigin(names.domain, options.domain)
    const audience = options.audience === undefined ? undefined : yield* toList(names.audience, options.audience)
    yield* checkScopes(names.scopes, options.scopes ?? [])
    return { origin, audience }
  })

/** Builds the provider and its verifier; nothing is fetched until the first token or metadata request. */
export const make = (
  options: ClerkOptions
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
      "clerk",
      audiences,
      server.resource,
      "tokens this Clerk instance issues for that audience are accepted here, whichever server they were meant for; " +
        "register " +
        JSON.stringify(server.resource) +
        " as an MCP server in the Clerk Dashboard and remove the audience setting"
    )
    return yield* Custom.make({
      name: "clerk",
      issuer: origin,
      jwksUri: `${origin}/.well-known/jwks.json`,
      audience: audiences,
      // OAuth access tokens are typed at+jwt; session tokens from the same issuer and keys are not
      typ: "at+jwt",
      scopes: options.scopes,
      algorithms: options.algorithms,
      clockTolerance: options.clockTolerance,
      jwks: options.jwks,
      mirrorMetadata: options.mirrorMetadata,
      claims: { roles: ["org_role"], permissions: ["org_permissions"], ...options.claims },
      warnings
    })
  })

/** A layer providing {@link Provider} and {@link TokenVerifier.TokenVerifier} for a Clerk instance. */
export const layer = (
  options: ClerkOptions
): Layer.Layer<Provider | TokenVerifier.TokenVerifier, ConfigProblem, ResourceServer | HttpClient.HttpClient> =>
  providerLayer(make(options))

/** The environment variables read by {@link layerConfig}. */
export const config: Config.Config<ClerkOptions> = Config.all({
  domain: Config.string(variableNames.domain),
  audience: optionalList(variableNames.audience),
  scopes: optionalList(variableNames.scopes)
})

/**
 * Like {@link layer}, with options from configuration: `MCP_OAUTH_CLERK_DOMAIN` (required), `MCP_OAUTH_CLERK_AUDIENCE`
 * and `MCP_OAUTH_CLERK_SCOPES` (space- or comma-separated).
 */
export const layerConfig = (
  options: Config.Config<ClerkOptions> = config
): Layer.Layer<Provider | TokenVerifier.TokenVerifier, ConfigProblem, ResourceServer | HttpClient.HttpClient> =>
  // validated here too so that a message names the variable rather than the option
  configuredLayer(options, (resolved) => check(resolved, variableNames), layer)

/**
 * The Clerk provider for the `MCPServer` facade (same options as {@link layer}); without options it reads the
 * environment like {@link layerConfig}.
 */
export const oauthClerkProvider = (options?: ClerkOptions): OAuthProvider =>
  facadeProvider("clerk", options, layer, layerConfig)
