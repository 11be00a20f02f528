/**
 * Google as the proxy's upstream: an OAuth client ("Web application") in Google Cloud, OpenID Connect endpoints,
 * opaque access tokens confirmed with token info (`aud` must be our client id), ID tokens issued by
 * `https://accounts.google.com` (or, for old clients, `accounts.google.com`). `access_type=offline` and
 * `prompt=consent` so the proxy receives a refresh token. A hosted-domain allowlist restricts sign-in to Google
 * Workspace domains, checked on the `hd` claim (never on the `hd` request parameter, which is only a hint).
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import { ConfigProblem } from "../../ConfigProblem.js"
import * as GoogleTokenVerifier from "../upstream/GoogleTokenVerifier.js"
import { fromConfig, optionalBoolean, optionalList, requireSecret, requireText, scopeList } from "./settings.js"
import type { UpstreamPreset } from "./UpstreamPreset.js"

/** Options of the Google preset. */
export interface GoogleOptions {
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  /** Scopes asked for (default `openid email profile`). */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** Google Workspace domains users must belong to; unset: any Google account. */
  readonly hostedDomains?: ReadonlyArray<string> | undefined
  /** Ask for a refresh token (`access_type=offline`, `prompt=consent`; default true). */
  readonly offline?: boolean | undefined
}

/** Google's endpoints (OpenID Connect discovery of `https://accounts.google.com`). */
export const endpoints = {
  issuer: "https://accounts.google.com",
  authorization: "https://accounts.google.com/o/oauth2/v2/auth",
  token: "https://oauth2.googleapis.com/token",
  revocation: "https://oauth2.googleapis.com/revoke",
  userinfo: "https://openidconnect.googleapis.com/v1/userinfo",
  jwks: "https://www.googleapis.com/oauth2/v3/certs",
  tokenInfo: GoogleTokenVerifier.defaults.tokenInfoUrl
} as const

/** Setting names for problems: the options. */
export const optionNames = {
  clientId: "clientId",
  clientSecret: "clientSecret",
  scopes: "scopes",
  hostedDomains: "hostedDomains",
  offline: "offline"
} as const

/** The environment variables of {@link config}. */
export const variableNames = {
  clientId: "MCP_OAUTH_GOOGLE_CLIENT_ID",
  clientSecret: "MCP_OAUTH_GOOGLE_CLIENT_SECRET",
  scopes: "MCP_OAUTH_GOOGLE_SCOPES",
  hostedDomains: "MCP_OAUTH_GOOGLE_HOSTED_DOMAINS",
  offline: "MCP_OAUTH_GOOGLE_OFFLINE"
} as const

const domainName = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/

/** The Google preset. */
export const make = (
  options: GoogleOptions,
  names: Record<keyof typeof optionNames, string> = optionNames
): Effect.Effect<UpstreamPreset, ConfigProblem> =>
  Effect.gen(function* () {
    const clientId = yield* requireText(names.clientId, options.clientId)
    const clientSecret = yield* requireSecret(names.clientSecret, options.clientSecret)
    const scopes = yield* scopeList(names.scopes, options.scopes ?? ["openid", "email", "profile"])
    const hostedDomains = options.hostedDomains?.map((d) => d.trim().toLowerCase())
    if (hostedDomains !== undefined && (hostedDomains.length === 0 || !hostedDomains.every((d) => domainName.test(d)))) {
      return yield* new ConfigProblem({ setting: names.hostedDomains, problem: "must be one or more domain names" })
    }
    const offline = options.offline ?? true
    return {
      name: "google",
      issuer: endpoints.issuer,
      authorizationEndpoint: endpoints.authorization,
      tokenEndpoint: endpoints.token,
      revocationEndpoint: endpoints.revocation,
      userinfoEndpoint: endpoints.userinfo,
      jwksUri: endpoints.jwks,
      clientId,
      clientSecret,
      tokenEndpointAuthMethod: "client_secret_post",
      tokenRequestHeaders: { accept: "application/json" },
      authorizationParams: {
        ...(offline ? { access_type: "offline", prompt: "consent" } : {}),
        // a hint for the account chooser only; the hd claim is what is checked
        ...(hostedDomains?.length === 1 ? { hd: hostedDomains[0]! } : {})
      },
      defaultScopes: scopes,
      scopeForm: { kind: "plain" },
      idTokenIssuer: { kind: "exact", issuers: ["https://accounts.google.com", "accounts.google.com"] },
      verifyUpstream: {
        kind: "google-tokeninfo",
        tokenInfoUrl: endpoints.tokenInfo,
        userInfoUrl: endpoints.userinfo,
        ...(hostedDomains === undefined ? {} : { hostedDomains })
      },
      warnings: []
    }
  })

/** The environment variables read by {@link fromEnvironment}. */
export const config: Config.Config<GoogleOptions> = Config.all({
  clientId: Config.string(variableNames.clientId),
  clientSecret: Config.redacted(variableNames.clientSecret),
  scopes: optionalList(variableNames.scopes),
  hostedDomains: optionalList(variableNames.hostedDomains),
  offline: optionalBoolean(variableNames.offline)
})

/**
 * The Google preset from `MCP_OAUTH_GOOGLE_CLIENT_ID`, `MCP_OAUTH_GOOGLE_CLIENT_SECRET` (required),
 * `MCP_OAUTH_GOOGLE_SCOPES`, `MCP_OAUTH_GOOGLE_HOSTED_DOMAINS` (space- or comma-separated) and
 * `MCP_OAUTH_GOOGLE_OFFLINE` (true or false).
 */
export const fromEnvironment: Effect.Effect<UpstreamPreset, ConfigProblem> = fromConfig(config, (options) =>
  make(options, variableNames)
)
