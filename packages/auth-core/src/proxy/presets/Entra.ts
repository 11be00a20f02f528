/**
 * Microsoft Entra ID (v2.0 endpoints) as the proxy's upstream.
 *
 * - Single tenant: `tenant` is the directory's tenant id (a GUID; a domain name such as `contoso.onmicrosoft.com`
 *   is refused because tokens carry the GUID). Issuer `https://login.microsoftonline.com/{tid}/v2.0`.
 * - Multi-tenant: `tenant` is `organizations` or `common`, and `allowedTenants` lists the tenant ids whose users may
 *   sign in. It is required: tokens of every Entra tenant are signed with the same keys, so without it any
 *   organization's users would get in. A token passes only when its `tid` is allowed and its `iss` is the issuer
 *   template filled with that `tid`.
 * - `consumers`: personal Microsoft accounts, whose tokens come from tenant 9188040d-6c67-4c5b-b112-36a304b66dad.
 *
 * Clients ask for the API's scopes in full-URI form (`api://{clientId}/read`) while access tokens carry the short
 * name in `scp` (`read`): see the preset's `scopeForm`. Access tokens of an API whose manifest keeps
 * `accessTokenAcceptedVersion` at 1 (or null) are v1.0 tokens with `iss` `https://sts.windows.net/{tid}/`; accept
 * them with `acceptV1Tokens`. Sovereign clouds change the sign-in host (`authorityHost`), and the v1.0 issuer host
 * must then be given too.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import { ConfigProblem } from "../../ConfigProblem.js"
import { fromConfig, optionalBoolean, optionalList, optionalString, requireSecret, requireText, scopeList } from "./settings.js"
import { type IssuerPolicy, isTenantId, toUpstreamScopes, type UpstreamPreset } from "./UpstreamPreset.js"

/** Options of the Entra ID preset. */
export interface EntraOptions {
  /** A tenant id (GUID), or `organizations`, `common` (with {@link allowedTenants}) or `consumers`. */
  readonly tenant: string
  /** Tenant ids allowed to sign in; required for `organizations` and `common`. */
  readonly allowedTenants?: ReadonlyArray<string> | undefined
  /** The application (client) id, a GUID. */
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  /** The API's Application ID URI (default `api://{clientId}`). */
  readonly appIdUri?: string | undefined
  /**
   * Scopes of the API exposed by this app registration, by short name (`read`, `write`); asked for as
   * `{appIdUri}/{name}`. With them the proxy receives an access token for its own API and verifies it; without them
   * it relies on the ID token.
   */
  readonly apiScopes?: ReadonlyArray<string> | undefined
  /** The sign-in host (default `login.microsoftonline.com`; e.g. `login.microsoftonline.us` for US Government). */
  readonly authorityHost?: string | undefined
  /** Accept v1.0 access tokens (`iss` `https://{v1IssuerHost}/{tid}/`; default false). */
  readonly acceptV1Tokens?: boolean | undefined
  /** The v1.0 issuer host (default `sts.windows.net`, for the public cloud only). */
  readonly v1IssuerHost?: string | undefined
}

/** Setting names for problems: the options. */
export const optionNames = {
  tenant: "tenant",
  allowedTenants: "allowedTenants",
  clientId: "clientId",
  clientSecret: "clientSecret",
  appIdUri: "appIdUri",
  apiScopes: "apiScopes",
  authorityHost: "authorityHost",
  acceptV1Tokens: "acceptV1Tokens",
  v1IssuerHost: "v1IssuerHost"
} as const

/** The environment variables of {@link config}. */
export const variableNames = {
  tenant: "MCP_OAUTH_ENTRA_TENANT",
  allowedTenants: "MCP_OAUTH_ENTRA_ALLOWED_TENANTS",
  clientId: "MCP_OAUTH_ENTRA_CLIENT_ID",
  clientSecret: "MCP_OAUTH_ENTRA_CLIENT_SECRET",
  appIdUri: "MCP_OAUTH_ENTRA_APP_ID_URI",
  apiScopes: "MCP_OAUTH_ENTRA_API_SCOPES",
  authorityHost: "MCP_OAUTH_ENTRA_AUTHORITY_HOST",
  acceptV1Tokens: "MCP_OAUTH_ENTRA_ACCEPT_V1_TOKENS",
  v1IssuerHost: "MCP_OAUTH_ENTRA_V1_ISSUER_HOST"
} as const

/** The tenant of personal Microsoft accounts. */
export const consumersTenantId = "9188040d-6c67-4c5b-b112-36a304b66dad"

const publicCloudHost = "login.microsoftonline.com"
const hostName = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/
// what is always asked for as it is, never as a scope of the API
const oidcScopes = ["openid", "profile", "email", "offline_access"]

/** The v2.0 issuer template (`{tid}` stands for the token's tenant id). */
export const v2IssuerTemplate = (authorityHost: string): string => `https://${authorityHost}/{tid}/v2.0`

/** The v1.0 issuer template. */
export const v1IssuerTemplate = (v1IssuerHost: string): string => `https://${v1IssuerHost}/{tid}/`

/** The Entra ID preset. */
export const make = (
  options: EntraOptions,
  names: Record<keyof typeof optionNames, string> = optionNames
): Effect.Effect<UpstreamPreset, ConfigProblem> =>
  Effect.gen(function* () {
    const problem = (setting: string, text: string) => new ConfigProblem({ setting, problem: text })
    const tenant = options.tenant.trim().toLowerCase()
    const multiTenant = tenant === "organizations" || tenant === "common"
    if (!multiTenant && tenant !== "consumers" && !isTenantId(tenant)) {
      return yield* problem(
        names.tenant,
        "must be the directory (tenant) id, a GUID, or organizations, common or consumers; a domain name is not accepted because tokens carry the GUID"
      )
    }
    const listed = options.allowedTenants?.map((t) => t.trim().toLowerCase()).filter((t) => t !== "")
    if (listed !== undefined && !listed.every(isTenantId)) {
      return yield* problem(names.allowedTenants, "must list tenant ids (GUIDs)")
    }
    let allowedTenants: ReadonlyArray<string>
    if (multiTenant) {
      if (listed === undefined || listed.length === 0) {
        return yield* problem(
          names.allowedTenants,
          `is required with ${tenant}: list the tenant ids whose users may sign in (the issuer is never left unchecked)`
        )
      }
      allowedTenants = [...new Set(listed)]
    } else {
      const only = tenant === "consumers" ? consumersTenantId : tenant
      if (listed !== undefined && listed.some((t) => t !== only)) {
        return yield* problem(names.allowedTenants, `may only name the configured tenant ${only}`)
      }
      allowedTenants = [only]
    }

    const clientId = (yield* requireText(names.clientId, options.clientId)).toLowerCase()
    if (!isTenantId(clientId)) return yield* problem(names.clientId, "must be the application (client) id, a GUID")
    const clientSecret = yield* requireSecret(names.clientSecret, options.clientSecret)
    const appIdUri = (yield* requireText(names.appIdUri, options.appIdUri ?? `api://${clientId}`)).replace(/\/+$/, "")
    const apiScopes = options.apiScopes === undefined ? [] : yield* scopeList(names.apiScopes, options.apiScopes)
    const authorityHost = (options.authorityHost ?? publicCloudHost).trim().toLowerCase()
    if (!hostName.test(authorityHost)) return yield* problem(names.authorityHost, "must be a host name such as login.microsoftonline.us")

    const templates = [v2IssuerTemplate(authorityHost)]
    if (options.acceptV1Tokens === true) {
      const v1Host = options.v1IssuerHost ?? (authorityHost === publicCloudHost ? "sts.windows.net" : undefined)
      if (v1Host === undefined) {
        return yield* problem(names.v1IssuerHost, `is required to accept v1.0 tokens from ${authorityHost}`)
      }
      if (!hostName.test(v1Host.trim().toLowerCase())) return yield* problem(names.v1IssuerHost, "must be a host name")
      templates.push(v1IssuerTemplate(v1Host.trim().toLowerCase()))
    }
    const policy: IssuerPolicy = { kind: "tenant", templates, allowedTenants }
    const base = `https://${authorityHost}/${tenant}`
    const jwksUri = `${base}/discovery/v2.0/keys`
    const scopeForm = { kind: "prefixed", prefix: `${appIdUri}/`, unprefixed: oidcScopes } as const
    const singleIssuer = multiTenant ? undefined : v2IssuerTemplate(authorityHost).replace("{tid}", allowedTenants[0]!)
    return {
      name: "entra",
      issuer: singleIssuer,
      authorizationEndpoint: `${base}/oauth2/v2.0/authorize`,
      tokenEndpoint: `${base}/oauth2/v2.0/token`,
      // Microsoft Graph's userinfo, in the public cloud only; the ID token carries the same claims
      userinfoEndpoint: authorityHost === publicCloudHost ? "https://graph.microsoft.com/oidc/userinfo" : undefined,
      jwksUri,
      clientId,
      clientSecret,
      tokenEndpointAuthMethod: "client_secret_post",
      tokenRequestHeaders: { accept: "application/json" },
      authorizationParams: {},
      defaultScopes: toUpstreamScopes(scopeForm, ["openid", "profile", "offline_access", ...apiScopes]),
      scopeForm,
      idTokenIssuer: policy,
      verifyUpstream:
        apiScopes.length > 0
          ? { kind: "jwt", token: "access_token", jwksUri, audience: [clientId, appIdUri], issuer: policy }
          : { kind: "jwt", token: "id_token", jwksUri, audience: [clientId], issuer: policy },
      warnings: []
    }
  })

/** The environment variables read by {@link fromEnvironment}. */
export const config: Config.Config<EntraOptions> = Config.all({
  tenant: Config.string(variableNames.tenant),
  allowedTenants: optionalList(variableNames.allowedTenants),
  clientId: Config.string(variableNames.clientId),
  clientSecret: Config.redacted(variableNames.clientSecret),
  appIdUri: optionalString(variableNames.appIdUri),
  apiScopes: optionalList(variableNames.apiScopes),
  authorityHost: optionalString(variableNames.authorityHost),
  acceptV1Tokens: optionalBoolean(variableNames.acceptV1Tokens),
  v1IssuerHost: optionalString(variableNames.v1IssuerHost)
})

/**
 * The Entra ID preset from `MCP_OAUTH_ENTRA_TENANT`, `MCP_OAUTH_ENTRA_CLIENT_ID`, `MCP_OAUTH_ENTRA_CLIENT_SECRET`
 * (required), `MCP_OAUTH_ENTRA_ALLOWED_TENANTS` (required for `organizations`/`common`), `MCP_OAUTH_ENTRA_APP_ID_URI`,
 * `MCP_OAUTH_ENTRA_API_SCOPES`, `MCP_OAUTH_ENTRA_AUTHORITY_HOST`, `MCP_OAUTH_ENTRA_ACCEPT_V1_TOKENS`,
 * `MCP_OAUTH_ENTRA_V1_ISSUER_HOST`.
 */
export const fromEnvironment: Effect.Effect<UpstreamPreset, ConfigProblem> = fromConfig(config, (options) =>
  make(options, variableNames)
)
