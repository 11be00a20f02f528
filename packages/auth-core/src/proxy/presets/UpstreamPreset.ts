/**
 * What the OAuth proxy needs to know about an upstream identity provider where its application is registered in a
 * dashboard: endpoints, how the client secret is sent, which scopes to ask for and in which form, which `iss` values
 * its tokens may carry, and how an upstream grant is confirmed. Pure data, built by one module per provider
 * (`Google`, `GitHub`, `Okta`, `Entra`, `Auth0`, `Generic`), plus the small functions that interpret it.
 *
 * @since 0.1.0
 */
import type * as Redacted from "effect/Redacted"

/** The presets, by the names `MCP_OAUTH_PROVIDER` takes. */
export type PresetName = "google" | "github" | "okta" | "entra" | "auth0-proxy" | "generic"

/** How the proxy authenticates to the upstream token endpoint (RFC 6749 §2.3.1). */
export type TokenEndpointAuthMethod = "client_secret_basic" | "client_secret_post"

/**
 * Which `iss` an upstream token (ID token, or JWT access token) may carry.
 * - `none`: the upstream issues no such tokens (GitHub).
 * - `exact`: one of these strings, compared exactly.
 * - `tenant`: a multi-tenant issuer (Microsoft Entra ID): the token's `tid` must be in `allowedTenants`, and its
 *   `iss` must equal one of `templates` with `{tid}` replaced by that `tid`. The allowlist is never empty: a
 *   multi-tenant application without one would accept every organization's users.
 */
export type IssuerPolicy =
  | { readonly kind: "none" }
  | { readonly kind: "exact"; readonly issuers: ReadonlyArray<string> }
  | { readonly kind: "tenant"; readonly templates: ReadonlyArray<string>; readonly allowedTenants: ReadonlyArray<string> }

/**
 * How scopes are written when asked for upstream versus when a token carries them.
 * - `plain`: the same (`read:user`, `openid`).
 * - `prefixed`: asked for as `{prefix}{scope}` (Entra: `api://{clientId}/read`) while tokens carry `read` (`scp`);
 *   `unprefixed` scopes (`openid`, `offline_access`) are asked for as they are.
 */
export type ScopeForm =
  | { readonly kind: "plain" }
  | { readonly kind: "prefixed"; readonly prefix: string; readonly unprefixed: ReadonlyArray<string> }

/**
 * How the proxy confirms an upstream grant.
 * - `github-token-check`: `GitHubTokenVerifier` (the token must belong to our application).
 * - `google-tokeninfo`: `GoogleTokenVerifier` (`aud` must be our client id; optional hosted-domain allowlist).
 * - `jwt`: the upstream's ID token or JWT access token, verified with its key set, `audience` and `issuer` policy.
 */
export type VerifyUpstream =
  | { readonly kind: "github-token-check"; readonly apiBaseUrl: string }
  | {
      readonly kind: "google-tokeninfo"
      readonly tokenInfoUrl: string
      readonly userInfoUrl: string
      readonly hostedDomains?: ReadonlyArray<string> | undefined
    }
  | {
      readonly kind: "jwt"
      readonly token: "id_token" | "access_token"
      readonly jwksUri: string
      readonly audience: ReadonlyArray<string>
      readonly issuer: IssuerPolicy
    }

/** The upstream configuration the proxy consumes. */
export interface UpstreamPreset {
  readonly name: PresetName
  /**
   * The upstream's issuer identifier when it has exactly one: expected as `iss` in authorization responses (RFC 9207)
   * and in ID tokens. Undefined for GitHub (no issuer) and for multi-tenant Entra (see {@link idTokenIssuer}).
   */
  readonly issuer?: string | undefined
  readonly authorizationEndpoint: string
  readonly tokenEndpoint: string
  /** RFC 7009 revocation, when the upstream has it. */
  readonly revocationEndpoint?: string | undefined
  /** RFC 7662 introspection, when the upstream offers it to confidential clients (re-checking an upstream grant). */
  readonly introspectionEndpoint?: string | undefined
  readonly userinfoEndpoint?: string | undefined
  /** The key set of the upstream's ID tokens and JWT access tokens. */
  readonly jwksUri?: string | undefined
  /** The proxy's application at the upstream. */
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly tokenEndpointAuthMethod: TokenEndpointAuthMethod
  /** Headers the token request needs (GitHub answers form-encoded unless asked for `application/json`). */
  readonly tokenRequestHeaders: Readonly<Record<string, string>>
  /** Extra authorization request parameters (Google `access_type=offline`, Auth0 `audience`). */
  readonly authorizationParams: Readonly<Record<string, string>>
  /** Scopes asked for upstream, already in the upstream's form. */
  readonly defaultScopes: ReadonlyArray<string>
  readonly scopeForm: ScopeForm
  /** Which `iss` the upstream's ID tokens may carry; checked with {@link checkIssuer}, never skipped. */
  readonly idTokenIssuer: IssuerPolicy
  readonly verifyUpstream: VerifyUpstream
  /** Things to log loudly at start. */
  readonly warnings: ReadonlyArray<string>
}

/**
 * How an OIDC upstream's tokens are verified: its JWT access token for `audience` when one is configured, otherwise
 * the ID token issued to the proxy's client.
 */
export const verifyOidcTokens = (
  jwksUri: string,
  clientId: string,
  audience: string | undefined,
  issuer: IssuerPolicy
): VerifyUpstream =>
  audience === undefined
    ? { kind: "jwt", token: "id_token", jwksUri, audience: [clientId], issuer }
    : { kind: "jwt", token: "access_token", jwksUri, audience: [audience], issuer }

/** Why a token's issuer was refused. */
export type IssuerRefusal = "issuer" | "tenant" | "missing_tenant" | "no_issuer_expected"

const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Whether a string is a tenant id as Entra writes it in `tid`: a lower-case GUID. */
export const isTenantId = (value: string): boolean => guid.test(value)

/** Every issuer a policy accepts, written out (the allowlist makes even the multi-tenant case finite). */
export const issuersOf = (policy: IssuerPolicy): ReadonlyArray<string> => {
  switch (policy.kind) {
    case "none":
      return []
    case "exact":
      return policy.issuers
    case "tenant":
      return policy.allowedTenants.flatMap((tid) => policy.templates.map((template) => template.replaceAll("{tid}", tid)))
  }
}

/**
 * Checks a verified token's `iss` (and, for the `tenant` policy, `tid`) against a policy. For `tenant`, `tid` must
 * be an allowed tenant AND `iss` must be a template filled with that same `tid`: a token of tenant A carrying
 * tenant B's issuer is refused, whichever of the two is allowed.
 */
export const checkIssuer = (
  policy: IssuerPolicy,
  claims: Readonly<Record<string, unknown>>
): { readonly ok: true } | { readonly ok: false; readonly reason: IssuerRefusal } => {
  const iss = Object.hasOwn(claims, "iss") ? claims["iss"] : undefined
  switch (policy.kind) {
    case "none":
      return { ok: false, reason: "no_issuer_expected" }
    case "exact":
      return typeof iss === "string" && policy.issuers.includes(iss) ? { ok: true } : { ok: false, reason: "issuer" }
    case "tenant": {
      const tid = Object.hasOwn(claims, "tid") ? claims["tid"] : undefined
      if (typeof tid !== "string" || !isTenantId(tid)) return { ok: false, reason: "missing_tenant" }
      if (!policy.allowedTenants.includes(tid)) return { ok: false, reason: "tenant" }
      const expected = policy.templates.map((template) => template.replaceAll("{tid}", tid))
      return typeof iss === "string" && expected.includes(iss) ? { ok: true } : { ok: false, reason: "issuer" }
    }
  }
}

/**
 * Whether an authorization response's `iss` parameter (RFC 9207) names this upstream. No `tid` is known at that
 * point, so a multi-tenant policy accepts the issuer of any allowed tenant; the ID token check then pins the tenant.
 */
export const acceptsAuthorizationResponseIssuer = (preset: UpstreamPreset, iss: string): boolean =>
  preset.issuer !== undefined ? iss === preset.issuer : issuersOf(preset.idTokenIssuer).includes(iss)

/** Scopes in the form the upstream's authorization endpoint expects. */
export const toUpstreamScopes = (form: ScopeForm, scopes: ReadonlyArray<string>): ReadonlyArray<string> =>
  form.kind === "plain"
    ? scopes
    : scopes.map((scope) => (form.unprefixed.includes(scope) || scope.startsWith(form.prefix) ? scope : `${form.prefix}${scope}`))

/** Scopes as the proxy names them, from the upstream's form (either what was asked for or what a token carries). */
export const fromUpstreamScopes = (form: ScopeForm, scopes: ReadonlyArray<string>): ReadonlyArray<string> =>
  form.kind === "plain" ? scopes : scopes.map((scope) => (scope.startsWith(form.prefix) ? scope.slice(form.prefix.length) : scope))
