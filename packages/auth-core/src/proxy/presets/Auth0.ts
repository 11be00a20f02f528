/**
 * Auth0 as the proxy's upstream (`auth0-proxy`; the `auth0` provider is Auth0 as the MCP clients' own authorization
 * server). A Regular Web Application with a client secret; issuer `https://{domain}/` with its trailing slash;
 * `/authorize`, `/oauth/token`, `/oauth/revoke`, `/userinfo`, keys at `/.well-known/jwks.json`.
 *
 * Auth0 returns a JWT access token only when the authorization request names an API (`audience`); without one the
 * access token is opaque (good for `/userinfo` only) and the grant is confirmed through the ID token instead.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import type { ConfigProblem } from "../../ConfigProblem.js"
import { toOrigin } from "../../providers/internal/hostedDomain.js"
import { fromConfig, optionalList, optionalString, requireSecret, requireText, scopeList } from "./settings.js"
import { type IssuerPolicy, type UpstreamPreset, verifyOidcTokens } from "./UpstreamPreset.js"

/** Options of the Auth0 proxy preset. */
export interface Auth0ProxyOptions {
  /** The tenant domain (`tenant.us.auth0.com`) or its custom domain, as tokens are issued under it. */
  readonly domain: string
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  /** An API identifier to ask tokens for (`audience`); then the access token is a JWT verified against it. */
  readonly audience?: string | undefined
  /** Scopes asked for (default `openid profile email offline_access`). */
  readonly scopes?: ReadonlyArray<string> | undefined
}

/** Setting names for problems: the options. */
export const optionNames = {
  domain: "domain",
  clientId: "clientId",
  clientSecret: "clientSecret",
  audience: "audience",
  scopes: "scopes"
} as const

/** The environment variables of {@link config} (the domain is shared with the `auth0` provider). */
export const variableNames = {
  domain: "MCP_OAUTH_AUTH0_DOMAIN",
  clientId: "MCP_OAUTH_AUTH0_CLIENT_ID",
  clientSecret: "MCP_OAUTH_AUTH0_CLIENT_SECRET",
  audience: "MCP_OAUTH_AUTH0_AUDIENCE",
  scopes: "MCP_OAUTH_AUTH0_SCOPES"
} as const

/** The Auth0 proxy preset. */
export const make = (
  options: Auth0ProxyOptions,
  names: Record<keyof typeof optionNames, string> = optionNames
): Effect.Effect<UpstreamPreset, ConfigProblem> =>
  Effect.gen(function* () {
    const origin = yield* toOrigin(names.domain, options.domain)
    const clientId = yield* requireText(names.clientId, options.clientId)
    const clientSecret = yield* requireSecret(names.clientSecret, options.clientSecret)
    const audience = options.audience === undefined ? undefined : yield* requireText(names.audience, options.audience)
    const scopes = yield* scopeList(names.scopes, options.scopes ?? ["openid", "profile", "email", "offline_access"])
    // Auth0 writes its issuer with a trailing slash, and compares nothing loosely: neither do we
    const issuer = `${origin}/`
    const jwksUri = `${origin}/.well-known/jwks.json`
    const policy: IssuerPolicy = { kind: "exact", issuers: [issuer] }
    return {
      name: "auth0-proxy",
      issuer,
      authorizationEndpoint: `${origin}/authorize`,
      tokenEndpoint: `${origin}/oauth/token`,
      revocationEndpoint: `${origin}/oauth/revoke`,
      userinfoEndpoint: `${origin}/userinfo`,
      jwksUri,
      clientId,
      clientSecret,
      tokenEndpointAuthMethod: "client_secret_post",
      tokenRequestHeaders: { accept: "application/json" },
      authorizationParams: audience === undefined ? {} : { audience },
      defaultScopes: scopes,
      scopeForm: { kind: "plain" },
      idTokenIssuer: policy,
      verifyUpstream: verifyOidcTokens(jwksUri, clientId, audience, policy),
      warnings:
        audience === undefined
          ? [
              "auth0-proxy: no API audience is configured, so Auth0 issues opaque access tokens and the grant is " +
                "confirmed only at sign-in through the ID token; set an audience to have JWT access tokens re-checked"
            ]
          : []
    }
  })

/** The environment variables read by {@link fromEnvironment}. */
export const config: Config.Config<Auth0ProxyOptions> = Config.all({
  domain: Config.string(variableNames.domain),
  clientId: Config.string(variableNames.clientId),
  clientSecret: Config.redacted(variableNames.clientSecret),
  audience: optionalString(variableNames.audience),
  scopes: optionalList(variableNames.scopes)
})

/**
 * The Auth0 proxy preset from `MCP_OAUTH_AUTH0_DOMAIN`, `MCP_OAUTH_AUTH0_CLIENT_ID`, `MCP_OAUTH_AUTH0_CLIENT_SECRET`
 * (required), `MCP_OAUTH_AUTH0_AUDIENCE` and `MCP_OAUTH_AUTH0_SCOPES`.
 */
export const fromEnvironment: Effect.Effect<UpstreamPreset, ConfigProblem> = fromConfig(config, (options) =>
  make(options, variableNames)
)
