/**
 * Keycloak as the authorization server (remote mode): MCP clients register (DCR, or pre-registered) and sign in at a
 * realm, and this server verifies the JWT access tokens the realm signs.
 *
 * Issuer `{server}/realms/{realm}` (`{server}/auth/realms/{realm}` before Keycloak 17 or with
 * `--http-relative-path=/auth`), keys at `{issuer}/protocol/openid-connect/certs`, realm roles from
 * `realm_access.roles`, client roles from `resource_access.{clientId}.roles`, `preferred_username` when there is no
 * `name`. Tokens carry the MCP server's URL in `aud` only when an Audience mapper (or the experimental
 * `resource-indicators` feature) puts it there; anything else is warned about at start.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { User } from "../AuthInfo.js"
import type * as ClaimMapping from "../ClaimMapping.js"
import { ConfigProblem } from "../ConfigProblem.js"
import type { OAuthProvider } from "../OAuthProvider.js"
import { Provider } from "../Provider.js"
import { ResourceServer } from "../ResourceServer.js"
import * as TokenVerifier from "../TokenVerifier.js"
import { checkScopes } from "../internal/settings.js"
import * as Custom from "./Custom.js"
import { audienceWarnings, toList } from "./internal/hostedDomain.js"
import { isSenderConstrained, member, refine, stringArray, toBaseUrl } from "./internal/selfHosted.js"
import { configuredLayer, facadeProvider, optionalList, optionalValue, providerLayer } from "./internal/providerModule.js"

/** Options of the Keycloak provider. */
export interface KeycloakOptions
  extends Pick<Custom.CustomOptions, "scopes" | "algorithms" | "typ" | "clockTolerance" | "jwks" | "mirrorMetadata"> {
  /**
   * The Keycloak server URL (`https://sso.example.com`, or its bare host), including `/auth` when the server still
   * serves under it (Keycloak before 17, or `--http-relative-path=/auth`). The realm's issuer URL
   * (`…/realms/{realm}`) is accepted too.
   */
  readonly url: string
  /** The realm; may be left out when {@link url} already names it (`…/realms/{realm}`). */
  readonly realm?: string | undefined
  /**
   * A client whose client roles (`resource_access.{clientId}.roles`) join the realm roles in `user.roles`, usually
   * the client representing this MCP server. Client ids with dots or slashes work.
   */
  readonly clientId?: string | undefined
  /**
   * Accepted audiences (default: this server's resource URL, which an Audience mapper with that Included Custom
   * Audience adds). Anything that does not name this server, such as Keycloak's default `account`, is warned about.
   */
  readonly audience?: string | ReadonlyArray<string> | undefined
  /**
   * Where user fields live, over the Keycloak defaults: `sub`, `email`, `name` (else `preferred_username`), roles
   * from `realm_access.roles`. Client roles of {@link clientId} are added to whatever `roles` lists.
   */
  readonly claims?: ClaimMapping.ClaimMapping | undefined
}

/** The user-field defaults: realm roles; client roles are read separately so that any client id works. */
export const defaultClaims: ClaimMapping.ClaimMapping = {
  userId: "sub",
  email: "email",
  name: "name",
  roles: ["realm_access.roles"],
  permissions: []
}

const optionNames = { url: "url", realm: "realm", clientId: "clientId", audience: "audience", scopes: "scopes" } as const
const variableNames = {
  url: "MCP_OAUTH_KEYCLOAK_URL",
  realm: "MCP_OAUTH_KEYCLOAK_REALM",
  clientId: "MCP_OAUTH_KEYCLOAK_CLIENT_ID",
  audience: "MCP_OAUTH_KEYCLOAK_AUDIENCE",
  scopes: "MCP_OAUTH_KEYCLOAK_SCOPES"
} as const

const realmInPath = /\/realms\/([^/]+)$/

const safeDecode = (segment: string): string => {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

/**
 * The realm's issuer: `{url}/realms/{realm}`. A URL that already ends with `/realms/{name}` is kept (and must agree
 * with `realm` when both are given). Fails naming the setting at fault.
 */
export const issuerOf = (
  url: string,
  realm: string | undefined,
  names: { readonly url: string; readonly realm: string } = optionNames
): Effect.Effect<string, ConfigProblem> =>
  Effect.gen(function* () {
    const base = yield* toBaseUrl(names.url, url)
    const named = realmInPath.exec(base)?.[1]
    const wanted = realm?.trim()
    if (wanted !== undefined && wanted === "") {
      return yield* new ConfigProblem({ setting: names.realm, problem: "must not be empty" })
    }
    if (named !== undefined) {
      const namedRealm = safeDecode(named)
      if (wanted !== undefined && wanted !== namedRealm) {
        return yield* new ConfigProblem({
          setting: names.realm,
          problem: `${JSON.stringify(wanted)} differs from the realm in ${names.url} (${JSON.stringify(namedRealm)})`
        })
      }
      return base
    }
    if (wanted === undefined) {
      return yield* new ConfigProblem({ setting: names.realm, problem: `is required (or give ${names.url} as …/realms/{realm})` })
    }
    return `${base}/realms/${encodeURIComponent(wanted)}`
  })

/** Validates the options, naming each problem after `names` (option names, or environment variables). */
const check = (options: KeycloakOptions, names: Record<keyof typeof optionNames, string>) =>
  Effect.gen(function* () {
    const issuer = yield* issuerOf(options.url, options.realm, names)
    const audience = options.audience === undefined ? undefined : yield* toList(names.audience, options.audience)
    const clientId = options.clientId?.trim()
    if (clientId === "") return yield* new ConfigProblem({ setting: names.clientId, problem: "must not be empty" })
    yield* checkScopes(names.scopes, options.scopes ?? [])
    return { issuer, audience, clientId }
  })

const optionalString = (u: unknown): string | undefined => (typeof u === "string" && u !== "" ? u : undefined)

/** Builds the provider and its verifier; nothing is fetched until the first token or metadata request. */
export const make = (
  options: KeycloakOptions
): Effect.Effect<
  { readonly provider: typeof Provider.Service; readonly verifier: TokenVerifier.Service },
  ConfigProblem,
  ResourceServer | HttpClient.HttpClient
> =>
  Effect.gen(function* () {
    const { issuer, audience, clientId } = yield* check(options, optionNames)
    const server = yield* ResourceServer
    const audiences = audience ?? [server.resource]
    const warnings = audienceWarnings(
      "keycloak",
      audiences,
      server.resource,
      "Keycloak writes this server's URL into aud only through an Audience mapper (Included Custom Audience " +
        JSON.stringify(server.resource) +
        ") or the experimental resource-indicators feature, and any token of the realm carrying the accepted " +
        "audience, whichever client or service it was meant for, is accepted here"
    )
    const { provider, verifier } = yield* Custom.make({
      name: "keycloak",
      issuer,
      jwksUri: `${issuer}/protocol/openid-connect/certs`,
      audience: audiences,
      scopes: options.scopes,
      algorithms: options.algorithms,
      typ: options.typ,
      clockTolerance: options.clockTolerance,
      jwks: options.jwks,
      mirrorMetadata: options.mirrorMetadata,
      claims: { ...defaultClaims, ...options.claims },
      warnings
    })
    const nameClaimSet = options.claims?.name !== undefined
    const refined = refine(verifier, {
      check: (claims) => {
        // Keycloak stamps its tokens with a payload `typ`: ID, refresh and logout tokens are not access tokens
        const typ = claims["typ"]
        if (typ !== undefined && (typeof typ !== "string" || typ.toLowerCase() !== "bearer")) return "type"
        // DPoP-bound (or certificate-bound) tokens must not be usable as plain Bearer tokens
        if (isSenderConstrained(claims)) return "rejected"
        return undefined
      },
      user: (info): User => {
        const clientRoles =
          clientId === undefined ? [] : stringArray(member(member(member(info.claims, "resource_access"), clientId), "roles"))
        const name = info.user.name ?? (nameClaimSet ? undefined : optionalString(info.claims["preferred_username"]))
        return {
          ...info.user,
          name,
          roles: [...new Set([...info.user.roles, ...clientRoles])]
        }
      }
    })
    return { provider, verifier: refined }
  })

/** A layer providing {@link Provider} and {@link TokenVerifier.TokenVerifier} for a Keycloak realm. */
export const layer = (
  options: KeycloakOptions
): Layer.Layer<Provider | TokenVerifier.TokenVerifier, ConfigProblem, ResourceServer | HttpClient.HttpClient> =>
  providerLayer(make(options))

/** The environment variables read by {@link layerConfig}. */
export const config: Config.Config<KeycloakOptions> = Config.all({
  url: Config.string(variableNames.url),
  realm: optionalValue(variableNames.realm),
  clientId: optionalValue(variableNames.clientId),
  audience: optionalList(variableNames.audience),
  scopes: optionalList(variableNames.scopes)
})

/**
 * Like {@link layer}, with options from configuration: `MCP_OAUTH_KEYCLOAK_URL` and `MCP_OAUTH_KEYCLOAK_REALM`
 * (required unless the URL names the realm), `MCP_OAUTH_KEYCLOAK_CLIENT_ID` (client roles), and
 * `MCP_OAUTH_KEYCLOAK_AUDIENCE`, `MCP_OAUTH_KEYCLOAK_SCOPES` (space- or comma-separated).
 */
export const layerConfig = (
  options: Config.Config<KeycloakOptions> = config
): Layer.Layer<Provider | TokenVerifier.TokenVerifier, ConfigProblem, ResourceServer | HttpClient.HttpClient> =>
  // validated here too so that a message names the variable rather than the option
  configuredLayer(options, (resolved) => check(resolved, variableNames), layer)

/**
 * The Keycloak provider for the `MCPServer` facade (same options as {@link layer}); without options it reads the
 * environment like {@link layerConfig}.
 */
export const oauthKeycloakProvider = (options?: KeycloakOptions): OAuthProvider =>
  facadeProvider("keycloak", options, layer, layerConfig)
