/**
 * Supabase Auth as the authorization server (remote mode): MCP clients register and sign in through the project's
 * OAuth 2.1 server, and this server verifies the JWT access tokens Supabase Auth signs with the project's asymmetric
 * signing keys.
 *
 * Issuer `https://{ref}.supabase.co/auth/v1`, keys at `{issuer}/.well-known/jwks.json` (ES256 or RS256), audience
 * always `authenticated` (Supabase does not bind tokens to a resource, so the start-up warns), roles from the
 * server-controlled `app_metadata` only — never from the user-writable `user_metadata`. Projects still on the legacy
 * HS256 JWT secret cannot be verified here: their tokens are refused as `algorithm` and the log says how to migrate.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as jose from "jose"
import type * as ClaimMapping from "../ClaimMapping.js"
import { ConfigProblem } from "../ConfigProblem.js"
import type { InvalidToken } from "../Errors.js"
import type { AsymmetricAlgorithm } from "../JwtVerifier.js"
import type { OAuthProvider } from "../OAuthProvider.js"
import { Provider } from "../Provider.js"
import { ResourceServer } from "../ResourceServer.js"
import * as TokenVerifier from "../TokenVerifier.js"
import { checkScopes } from "../internal/settings.js"
import * as Custom from "./Custom.js"
import { audienceWarnings, toList } from "./internal/hostedDomain.js"
import { refine, toBaseUrl } from "./internal/selfHosted.js"
import { configuredLayer, facadeProvider, optionalList, providerLayer } from "./internal/providerModule.js"

/** Options of the Supabase provider. */
export interface SupabaseOptions extends Pick<Custom.CustomOptions, "scopes" | "clockTolerance" | "jwks" | "mirrorMetadata"> {
  /**
   * The project URL: `https://<ref>.supabase.co`, its bare host, the bare project ref, a custom domain, or a local
   * stack (`http://127.0.0.1:54321`). A URL that already ends with `/auth/v1` (the issuer) is accepted too.
   */
  readonly url: string
  /**
   * Accepted audiences (default `authenticated`, the `aud` Supabase Auth writes into every user token). Supabase has
   * no resource indicators, so unless this names this server's resource URL the start-up warns that tokens are not
   * bound to it.
   */
  readonly audience?: string | ReadonlyArray<string> | undefined
  /** Accepted signing algorithms (default ES256 and RS256, Supabase's asymmetric keys); HS256 is never accepted. */
  readonly algorithms?: ReadonlyArray<AsymmetricAlgorithm> | undefined
  /**
   * Where user fields live, over the Supabase defaults: `sub`, `email`, roles from `app_metadata.roles`, permissions
   * from `app_metadata.permissions`. Roles and permissions may come from `app_metadata` or from top-level claims a
   * Custom Access Token Hook adds; a path into `user_metadata` is a configuration error (users can write it).
   */
  readonly claims?: ClaimMapping.ClaimMapping | undefined
  /**
   * Accept only tokens issued through the project's OAuth 2.1 server, which carry `client_id` (default true). With
   * false, the session tokens of the project's own apps are accepted too, and the start-up warns.
   */
  readonly oauthClientsOnly?: boolean | undefined
  /** Accepted values of the `role` claim (default `authenticated`: `anon` and `service_role` tokens are refused). */
  readonly postgresRoles?: ReadonlyArray<string> | undefined
  /** Accept tokens of anonymous sign-ins (`is_anonymous: true`; default false). */
  readonly allowAnonymous?: boolean | undefined
}

/** Supabase's asymmetric signing algorithms. */
export const defaultAlgorithms: ReadonlyArray<AsymmetricAlgorithm> = ["ES256", "RS256"]

/** The `aud` Supabase Auth writes into user access tokens. */
export const defaultAudience = "authenticated"

/** The user-field defaults: roles and permissions from the server-controlled `app_metadata`. */
export const defaultClaims: ClaimMapping.ClaimMapping = {
  userId: "sub",
  email: "email",
  roles: ["app_metadata.roles"],
  permissions: ["app_metadata.permissions"]
}

const optionNames = {
  url: "url",
  audience: "audience",
  scopes: "scopes",
  roles: "claims.roles",
  permissions: "claims.permissions",
  postgresRoles: "postgresRoles"
} as const
const variableNames = {
  url: "MCP_OAUTH_SUPABASE_URL",
  audience: "MCP_OAUTH_SUPABASE_AUDIENCE",
  scopes: "MCP_OAUTH_SUPABASE_SCOPES",
  roles: "MCP_OAUTH_SUPABASE_ROLES_CLAIM",
  permissions: "MCP_OAUTH_SUPABASE_PERMISSIONS_CLAIM",
  postgresRoles: "MCP_OAUTH_SUPABASE_POSTGRES_ROLES"
} as const

// a project ref is 20 lowercase letters and digits
const projectRef = /^[a-z0-9]{20}$/

/**
 * The issuer of a project: `{project URL}/auth/v1`. A bare project ref becomes `https://{ref}.supabase.co`; a URL
 * already ending with `/auth/v1` is kept. Fails naming `setting`.
 */
export const issuerOf = (setting: string, url: string): Effect.Effect<string, ConfigProblem> => {
  const trimmed = url.trim()
  return toBaseUrl(setting, projectRef.test(trimmed) ? `${trimmed}.supabase.co` : trimmed).pipe(
    Effect.map((base) => (base.endsWith("/auth/v1") ? base : `${base}/auth/v1`))
  )
}

const userWritable = (path: string): boolean => path === "user_metadata" || path.startsWith("user_metadata.")

const checkClaimPaths = (setting: string, paths: ReadonlyArray<string> | undefined) => {
  const bad = (paths ?? []).find(userWritable)
  return bad === undefined
    ? Effect.void
    : Effect.fail(
        new ConfigProblem({
          setting,
          problem:
            `${JSON.stringify(bad)} reads user_metadata, which every user can change for themselves; ` +
            "keep roles and permissions in app_metadata (or a claim set by a Custom Access Token Hook)"
        })
      )
}

/** Validates the options, naming each problem after `names` (option names, or environment variables). */
const check = (options: SupabaseOptions, names: Record<keyof typeof optionNames, string>) =>
  Effect.gen(function* () {
    const issuer = yield* issuerOf(names.url, options.url)
    const audience = options.audience === undefined ? undefined : yield* toList(names.audience, options.audience)
    yield* checkScopes(names.scopes, options.scopes ?? [])
    yield* checkClaimPaths(names.roles, options.claims?.roles)
    yield* checkClaimPaths(names.permissions, options.claims?.permissions)
    const postgresRoles =
      options.postgresRoles === undefined ? undefined : yield* toList(names.postgresRoles, options.postgresRoles)
    return { issuer, audience, postgresRoles }
  })

const hs256Explanation =
  "supabase: refused a token signed with a shared secret (HS256): this project still uses the legacy JWT secret, " +
  "which a resource server cannot verify through the JWKS. Migrate the project to asymmetric JWT signing keys " +
  "(Dashboard → Project Settings → JWT Keys: create a standby ES256 or RS256 key, rotate it in, and wait for old " +
  "tokens to expire before revoking the legacy secret); see docs/providers/supabase.md"

/** Builds the provider and its verifier; nothing is fetched until the first token or metadata request. */
export const make = (
  options: SupabaseOptions
): Effect.Effect<
  { readonly provider: typeof Provider.Service; readonly verifier: TokenVerifier.Service },
  ConfigProblem,
  ResourceServer | HttpClient.HttpClient
> =>
  Effect.gen(function* () {
    const { issuer, audience, postgresRoles } = yield* check(options, optionNames)
    const server = yield* ResourceServer
    const audiences = audience ?? [defaultAudience]
    const oauthClientsOnly = options.oauthClientsOnly ?? true
    const acceptedRoles = new Set(postgresRoles ?? ["authenticated"])
    const allowAnonymous = options.allowAnonymous ?? false
    const warnings = [
      ...audienceWarnings(
        "supabase",
        audiences,
        server.resource,
        "Supabase Auth does not bind tokens to a resource, so an access token this project issued to " +
          (oauthClientsOnly ? "any of its OAuth clients" : "anyone (OAuth clients and your apps' own sessions)") +
          " is accepted here; authorize with app_metadata roles and keep access tokens short-lived"
      ),
      ...(oauthClientsOnly
        ? []
        : [
            "supabase: oauthClientsOnly is off: session tokens of the project's own apps (no client_id) are accepted " +
              "as well as tokens issued to OAuth clients"
          ])
    ]
    const { provider, verifier } = yield* Custom.make({
      name: "supabase",
      issuer,
      jwksUri: `${issuer}/.well-known/jwks.json`,
      audience: audiences,
      scopes: options.scopes,
      algorithms: options.algorithms ?? defaultAlgorithms,
      clockTolerance: options.clockTolerance,
      jwks: options.jwks,
      mirrorMetadata: options.mirrorMetadata,
      claims: { ...defaultClaims, ...options.claims },
      warnings
    })

    let explained = false
    const refined = refine(verifier, {
      check: (claims) => {
        const role = claims["role"]
        if (typeof role !== "string" || !acceptedRoles.has(role)) return "rejected"
        if (!allowAnonymous && claims["is_anonymous"] === true) return "rejected"
        if (oauthClientsOnly && (typeof claims["client_id"] !== "string" || claims["client_id"] === "")) {
          return "missing_claim"
        }
        return undefined
      },
      onInvalid: (token: string, error: InvalidToken) =>
        Effect.suspend(() => {
          if (explained || error.reason !== "algorithm") return Effect.void
          let alg: unknown
          try {
            alg = jose.decodeProtectedHeader(token).alg
          } catch {
            return Effect.void
          }
          if (typeof alg !== "string" || !alg.startsWith("HS")) return Effect.void
          explained = true
          return Effect.logWarning(hs256Explanation)
        })
    })
    return { provider, verifier: refined }
  })

/** A layer providing {@link Provider} and {@link TokenVerifier.TokenVerifier} for a Supabase project. */
export const layer = (
  options: SupabaseOptions
): Layer.Layer<Provider | TokenVerifier.TokenVerifier, ConfigProblem, ResourceServer | HttpClient.HttpClient> =>
  providerLayer(make(options))

/** The environment variables read by {@link layerConfig}. */
export const config: Config.Config<SupabaseOptions> = Config.all({
  url: Config.string(variableNames.url),
  audience: optionalList(variableNames.audience),
  scopes: optionalList(variableNames.scopes),
  roles: optionalList(variableNames.roles),
  permissions: optionalList(variableNames.permissions),
  postgresRoles: optionalList(variableNames.postgresRoles),
  oauthClientsOnly: Config.option(Config.boolean("MCP_OAUTH_SUPABASE_OAUTH_CLIENTS_ONLY")).pipe(
    Config.map(Option.getOrUndefined)
  )
}).pipe(
  Config.map(({ roles, permissions, ...rest }) => ({
    ...rest,
    claims: {
      ...(roles !== undefined ? { roles } : {}),
      ...(permissions !== undefined ? { permissions } : {})
    }
  }))
)

/**
 * Like {@link layer}, with options from configuration: `MCP_OAUTH_SUPABASE_URL` (required), and optionally
 * `MCP_OAUTH_SUPABASE_AUDIENCE`, `MCP_OAUTH_SUPABASE_SCOPES`, `MCP_OAUTH_SUPABASE_ROLES_CLAIM`,
 * `MCP_OAUTH_SUPABASE_PERMISSIONS_CLAIM`, `MCP_OAUTH_SUPABASE_POSTGRES_ROLES` (space- or comma-separated lists) and
 * `MCP_OAUTH_SUPABASE_OAUTH_CLIENTS_ONLY` (true/false).
 */
export const layerConfig = (
  options: Config.Config<SupabaseOptions> = config
): Layer.Layer<Provider | TokenVerifier.TokenVerifier, ConfigProblem, ResourceServer | HttpClient.HttpClient> =>
  // validated here too so that a message names the variable rather than the option
  configuredLayer(options, (resolved) => check(resolved, variableNames), layer)

/**
 * The Supabase provider for the `MCPServer` facade (same options as {@link layer}); without options it reads the
 * environment like {@link layerConfig}.
 */
export const oauthSupabaseProvider = (options?: SupabaseOptions): OAuthProvider =>
  facadeProvider("supabase", options, layer, layerConfig)
