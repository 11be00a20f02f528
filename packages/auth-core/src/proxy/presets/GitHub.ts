/**
 * GitHub as the proxy's upstream: an OAuth App (or a GitHub App's user authorization), `/login/oauth/authorize` and
 * `/login/oauth/access_token` (which answers form-encoded unless asked for `application/json`, and reports errors
 * with status 200 and an `error` member), PKCE S256, opaque tokens without an issuer or ID token. A grant is
 * confirmed with `GitHubTokenVerifier`: the token must belong to this application, since `GET /user` accepts any
 * GitHub token, personal access tokens included.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import { ConfigProblem } from "../../ConfigProblem.js"
import { checkUrl } from "../../internal/settings.js"
import { fromConfig, optionalList, optionalString, requireSecret, requireText, scopeList } from "./settings.js"
import type { UpstreamPreset } from "./UpstreamPreset.js"

/** Options of the GitHub preset. */
export interface GitHubOptions {
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  /** Scopes asked for (default `read:user user:email`); GitHub Apps ignore scopes. */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** Where users sign in (default `https://github.com`; GitHub Enterprise Server: `https://{host}`). */
  readonly webBaseUrl?: string | undefined
  /** The REST API (default `https://api.github.com`; GitHub Enterprise Server: `https://{host}/api/v3`). */
  readonly apiBaseUrl?: string | undefined
}

/** Setting names for problems: the options. */
export const optionNames = {
  clientId: "clientId",
  clientSecret: "clientSecret",
  scopes: "scopes",
  webBaseUrl: "webBaseUrl",
  apiBaseUrl: "apiBaseUrl"
} as const

/** The environment variables of {@link config}. */
export const variableNames = {
  clientId: "MCP_OAUTH_GITHUB_CLIENT_ID",
  clientSecret: "MCP_OAUTH_GITHUB_CLIENT_SECRET",
  scopes: "MCP_OAUTH_GITHUB_SCOPES",
  webBaseUrl: "MCP_OAUTH_GITHUB_WEB_URL",
  apiBaseUrl: "MCP_OAUTH_GITHUB_API_URL"
} as const

const baseUrl = (setting: string, value: string) =>
  Effect.gen(function* () {
    const checked = yield* checkUrl(setting, value, "issuer")
    const url = new URL(checked)
    return `${url.origin}${url.pathname.replace(/\/+$/, "")}`
  })

/** The GitHub preset. */
export const make = (
  options: GitHubOptions,
  names: Record<keyof typeof optionNames, string> = optionNames
): Effect.Effect<UpstreamPreset, ConfigProblem> =>
  Effect.gen(function* () {
    const clientId = yield* requireText(names.clientId, options.clientId)
    if (clientId.includes(":")) return yield* new ConfigProblem({ setting: names.clientId, problem: "must not contain a colon" })
    const clientSecret = yield* requireSecret(names.clientSecret, options.clientSecret)
    const scopes = yield* scopeList(names.scopes, options.scopes ?? ["read:user", "user:email"])
    const web = yield* baseUrl(names.webBaseUrl, options.webBaseUrl ?? "https://github.com")
    const api = yield* baseUrl(names.apiBaseUrl, options.apiBaseUrl ?? "https://api.github.com")
    return {
      name: "github",
      authorizationEndpoint: `${web}/login/oauth/authorize`,
      tokenEndpoint: `${web}/login/oauth/access_token`,
      userinfoEndpoint: `${api}/user`,
      clientId,
      clientSecret,
      tokenEndpointAuthMethod: "client_secret_post",
      // without it the token endpoint answers application/x-www-form-urlencoded
      tokenRequestHeaders: { accept: "application/json" },
      authorizationParams: {},
      defaultScopes: scopes,
      scopeForm: { kind: "plain" },
      idTokenIssuer: { kind: "none" },
      verifyUpstream: { kind: "github-token-check", apiBaseUrl: api },
      warnings: []
    }
  })

/** The environment variables read by {@link fromEnvironment}. */
export const config: Config.Config<GitHubOptions> = Config.all({
  clientId: Config.string(variableNames.clientId),
  clientSecret: Config.redacted(variableNames.clientSecret),
  scopes: optionalList(variableNames.scopes),
  webBaseUrl: optionalString(variableNames.webBaseUrl),
  apiBaseUrl: optionalString(variableNames.apiBaseUrl)
})

/**
 * The GitHub preset from `MCP_OAUTH_GITHUB_CLIENT_ID`, `MCP_OAUTH_GITHUB_CLIENT_SECRET` (required),
 * `MCP_OAUTH_GITHUB_SCOPES`, and for GitHub Enterprise `MCP_OAUTH_GITHUB_WEB_URL` and `MCP_OAUTH_GITHUB_API_URL`.
 */
export const fromEnvironment: Effect.Effect<UpstreamPreset, ConfigProblem> = fromConfig(config, (options) =>
  make(options, variableNames)
)
