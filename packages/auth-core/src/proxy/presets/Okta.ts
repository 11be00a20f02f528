/**
 * Okta as the proxy's upstream, through a custom authorization server: issuer `https://{domain}/oauth2/{authServerId}`
 * (`default` is the one every Okta org has), endpoints under `{issuer}/v1/`. Its access tokens are JWTs for the
 * authorization server's audience (`api://default` for the default server) with `scp` as an array and `cid`.
 *
 * The org authorization server (issuer `https://{domain}`, endpoints under `/oauth2/v1/`) issues tokens meant for
 * Okta's own APIs: this preset never uses it, and its tokens fail the issuer check (`idTokenIssuer` and the JWT
 * verification both accept only the custom server's issuer).
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import { ConfigProblem } from "../../ConfigProblem.js"
import { toOrigin } from "../../providers/internal/hostedDomain.js"
import { fromConfig, optionalList, optionalString, requireSecret, requireText, scopeList } from "./settings.js"
import type { UpstreamPreset } from "./UpstreamPreset.js"

/** Options of the Okta preset. */
export interface OktaOptions {
  /** The Okta domain (`dev-123456.okta.com`, `example.okta.com`, or a custom domain), a bare host or an origin. */
  readonly domain: string
  /** The custom authorization server's id (default `default`); never the org authorization server. */
  readonly authServerId?: string | undefined
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  /**
   * The audience of the authorization server's access tokens (default `api://default`, the default server's; give it
   * for any other server). Access tokens for another audience are refused.
   */
  readonly audience?: string | undefined
  /** Scopes asked for (default `openid profile email offline_access`). */
  readonly scopes?: ReadonlyArray<string> | undefined
}

/** Setting names for problems: the options. */
export const optionNames = {
  domain: "domain",
  authServerId: "authServerId",
  clientId: "clientId",
  clientSecret: "clientSecret",
  audience: "audience",
  scopes: "scopes"
} as const

/** The environment variables of {@link config}. */
export const variableNames = {
  domain: "MCP_OAUTH_OKTA_DOMAIN",
  authServerId: "MCP_OAUTH_OKTA_AUTH_SERVER_ID",
  clientId: "MCP_OAUTH_OKTA_CLIENT_ID",
  clientSecret: "MCP_OAUTH_OKTA_CLIENT_SECRET",
  audience: "MCP_OAUTH_OKTA_AUDIENCE",
  scopes: "MCP_OAUTH_OKTA_SCOPES"
} as const

const orgServerProblem =
  "the org authorization server issues tokens for Okta's own APIs; use a custom authorization server " +
  "(its id, e.g. default, goes in the authorization server setting)"

/** The issuer of a custom authorization server. */
export const issuerOf = (origin: string, authServerId: string): string => `${origin}/oauth2/${authServerId}`

/** The Okta preset. */
export const make = (
  options: OktaOptions,
  names: Record<keyof typeof optionNames, string> = optionNames
): Effect.Effect<UpstreamPreset, ConfigProblem> =>
  Effect.gen(function* () {
    // a full issuer pasted as the domain: the org server (`/oauth2/v1/...`) or a custom one belong in their own setting
    if (/\/oauth2(?:\/|$)/i.test(options.domain)) {
      return yield* new ConfigProblem({ setting: names.domain, problem: `must be the Okta domain only; ${orgServerProblem}` })
    }
    const origin = yield* toOrigin(names.domain, options.domain)
    const authServerId = (options.authServerId ?? "default").trim()
    if (authServerId === "" || authServerId.toLowerCase() === "v1" || authServerId.toLowerCase() === "org") {
      return yield* new ConfigProblem({ setting: names.authServerId, problem: orgServerProblem })
    }
    if (!/^[A-Za-z0-9]{1,64}$/.test(authServerId)) {
      return yield* new ConfigProblem({ setting: names.authServerId, problem: "must be an authorization server id such as default or aus1a2b3c4d5e6f7g8h9" })
    }
    if (authServerId !== "default" && options.audience === undefined) {
      return yield* new ConfigProblem({ setting: names.audience, problem: "is required for a custom authorization server other than default" })
    }
    const clientId = yield* requireText(names.clientId, options.clientId)
    const clientSecret = yield* requireSecret(names.clientSecret, options.clientSecret)
    const audience = yield* requireText(names.audience, options.audience ?? "api://default")
    const scopes = yield* scopeList(names.scopes, options.scopes ?? ["openid", "profile", "email", "offline_access"])
    const issuer = issuerOf(origin, authServerId)
    const policy = { kind: "exact", issuers: [issuer] } as const
    return {
      name: "okta",
      issuer,
      authorizationEndpoint: `${issuer}/v1/authorize`,
      tokenEndpoint: `${issuer}/v1/token`,
      revocationEndpoint: `${issuer}/v1/revoke`,
      introspectionEndpoint: `${issuer}/v1/introspect`,
      userinfoEndpoint: `${issuer}/v1/userinfo`,
      jwksUri: `${issuer}/v1/keys`,
      clientId,
      clientSecret,
      tokenEndpointAuthMethod: "client_secret_basic",
      tokenRequestHeaders: { accept: "application/json" },
      authorizationParams: {},
      defaultScopes: scopes,
      scopeForm: { kind: "plain" },
      idTokenIssuer: policy,
      verifyUpstream: { kind: "jwt", token: "access_token", jwksUri: `${issuer}/v1/keys`, audience: [audience], issuer: policy },
      warnings: []
    }
  })

/** The environment variables read by {@link fromEnvironment}. */
export const config: Config.Config<OktaOptions> = Config.all({
  domain: Config.string(variableNames.domain),
  authServerId: optionalString(variableNames.authServerId),
  clientId: Config.string(variableNames.clientId),
  clientSecret: Config.redacted(variableNames.clientSecret),
  audience: optionalString(variableNames.audience),
  scopes: optionalList(variableNames.scopes)
})

/**
 * The Okta preset from `MCP_OAUTH_OKTA_DOMAIN`, `MCP_OAUTH_OKTA_CLIENT_ID`, `MCP_OAUTH_OKTA_CLIENT_SECRET` (required),
 * `MCP_OAUTH_OKTA_AUTH_SERVER_ID` (default `default`), `MCP_OAUTH_OKTA_AUDIENCE`, `MCP_OAUTH_OKTA_SCOPES`.
 */
export const fromEnvironment: Effect.Effect<UpstreamPreset, ConfigProblem> = fromConfig(config, (options) =>
  make(options, variableNames)
)
