/**
 * Real IdP-signed tokens in one call: authorization code + S256 PKCE + resource indicator, driven headlessly.
 *
 * @since 0.1.0
 */
import * as crypto from "node:crypto"
import { BrowserDriver } from "./BrowserDriver.js"

/** Where the flow's authorization responses are sent; never served, the browser stops before requesting it. */
export const DEFAULT_REDIRECT_URI = "http://127.0.0.1:65535/callback"

/** An identity provider to run the flow against: a {@link TestIdp} or any issuer with RFC 8414/OIDC discovery. */
export interface FlowIdp {
  readonly issuer: string
  readonly resources?: ReadonlyArray<string>
  readonly scopes?: ReadonlyArray<string>
}

/** Options of {@link getTokens}. */
export interface GetTokensOptions {
  readonly idp: FlowIdp
  /** The resource indicator (default the IdP's first resource); `null` omits the parameter. */
  readonly resource?: string | null
  /** The requested scope (default the IdP's resource scopes, else `mcp`). */
  readonly scope?: string
  /** The account to log in as (the test IdP reads `login_hint`; default `test-user`). */
  readonly loginHint?: string
  /** Use this client instead of registering a public one. */
  readonly clientId?: string
  /** Secret of `clientId`, sent with client_secret_basic. */
  readonly clientSecret?: string
  /** The redirect URI (default {@link DEFAULT_REDIRECT_URI}); must be registered for `clientId`. */
  readonly redirectUri?: string
  /** The browser profile to use (default a fresh one); reuse it to keep the IdP session. */
  readonly browser?: BrowserDriver
  /** More authorization request parameters (e.g. `prompt`, `nonce`). */
  readonly authorizationParams?: Readonly<Record<string, string>>
}

/** A token endpoint response plus the client that obtained it. */
export interface TokenSet {
  readonly access_token: string
  readonly token_type: string
  readonly expires_in: number
  readonly refresh_token?: string
  readonly id_token?: string
  readonly scope?: string
  /** The client the tokens were issued to. */
  readonly clientId: string
  /** Its secret, when confidential. */
  readonly clientSecret?: string
}

/** Options of {@link refreshTokens}. */
export interface RefreshTokensOptions {
  readonly idp: FlowIdp
  readonly refreshToken: string
  readonly clientId: string
  readonly clientSecret?: string
  /** The resource indicator (default the IdP's first resource); `null` omits the parameter. */
  readonly resource?: string | null
  readonly scope?: string
}

/** An OAuth error returned by the IdP during a flow. */
export class OAuthFlowError extends Error {
  /** The OAuth `error` code, or `http_error` for a non-OAuth failure. */
  readonly error: string
  /** The HTTP status, when the error came from an endpoint response. */
  readonly status: number | undefined

  constructor(step: string, error: string, description: string | undefined, status?: number) {
    super(`${step} failed: ${error}${description === undefined ? "" : ` (${description})`}`)
    this.name = "OAuthFlowError"
    this.error = error
    this.status = status
  }
}

/** The endpoints of an authorization server, from its metadata document. */
export interface AuthorizationServerEndpoints {
  readonly issuer: string
  readonly authorization_endpoint: string
  readonly token_endpoint: string
  readonly registration_endpoint?: string
  readonly [field: string]: unknown
}

/** A PKCE verifier and its S256 challenge. */
export interface Pkce {
  readonly verifier: string
  readonly challenge: string
}

/** Makes a fresh PKCE verifier and S256 challenge. */
export const createPkce = (): Pkce => {
  const verifier = crypto.randomBytes(32).toString("base64url")
  return { verifier, challenge: crypto.createHash("sha256").update(verifier).digest("base64url") }
}

/** Fetches the authorization server metadata of `issuer` (RFC 8414, then OpenID Connect discovery). */
export const discoverEndpoints = async (issuer: string): Promise<AuthorizationServerEndpoints> => {
  const url = new URL(issuer)
  const path = url.pathname === "/" ? "" : url.pathname.replace(/\/$/, "")
  const candidates = [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`
  ]
  for (const candidate of candidates) {
    const response = await fetch(candidate, { headers: { accept: "application/json" } })
    if (!response.ok) {
      await response.body?.cancel()
      continue
    }
    const metadata = (await response.json()) as AuthorizationServerEndpoints
    if (metadata.issuer !== issuer) throw new Error(`metadata issuer ${metadata.issuer} does not match ${issuer}`)
    return metadata
  }
  throw new Error(`no authorization server metadata found for ${issuer}`)
}

const clientAuthentication = (
  clientId: string,
  clientSecret: string | undefined,
  body: URLSearchParams
): Record<string, string> => {
  if (clientSecret === undefined) {
    body.set("client_id", clientId)
    return {}
  }
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, "+")
  return { authorization: `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString("base64")}` }
}

const tokenRequest = async (
  step: string,
  endpoint: string,
  body: URLSearchParams,
  clientId: string,
  clientSecret: string | undefined
): Promise<TokenSet> => {
  const headers = {
    "content-type": "application/x-www-form-urlencoded",
    accept: "application/json",
    ...clientAuthentication(clientId, clientSecret, body)
  }
  const response = await fetch(endpoint, { method: "POST", headers, body })
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown>
  if (!response.ok || typeof json.access_token !== "string") {
    const error = typeof json.error === "string" ? json.error : "http_error"
    const description = typeof json.error_description === "string" ? json.error_description : undefined
    throw new OAuthFlowError(step, error, description, response.status)
  }
  return {
    ...(json as unknown as Omit<TokenSet, "clientId" | "clientSecret">),
    clientId,
    ...(clientSecret === undefined ? {} : { clientSecret })
  }
}

const resourceOf = (idp: FlowIdp, resource: string | null | undefined): string | undefined =>
  resource === null ? undefined : (resource ?? idp.resources?.[0])

/**
 * Runs a complete authorization code flow (S256 PKCE, `resource`, `state`, RFC 9207 `iss` check) and returns
 * the tokens. Registers a public client through DCR unless `clientId` is given.
 */
export const getTokens = async (options: GetTokensOptions): Promise<TokenSet> => {
  const { idp } = options
  const endpoints = await discoverEndpoints(idp.issuer)
  const redirectUri = options.redirectUri ?? DEFAULT_REDIRECT_URI
  const resource = resourceOf(idp, options.resource)
  const scope = options.scope ?? (idp.scopes === undefined ? "mcp" : idp.scopes.join(" "))

  let clientId = options.clientId
  let clientSecret = options.clientSecret
  if (clientId === undefined) {
    const registered = await registerPublicClient(endpoints, redirectUri, scope)
    clientId = registered.clientId
    clientSecret = undefined
  }

  const pkce = createPkce()
  const state = crypto.randomBytes(16).toString("base64url")
  const authorize = new URL(endpoints.authorization_endpoint)
  const params: Record<string, string> = {
    response_type: "code",
    client_id: clientId,
    redirect_uri: redirectUri,
    scope,
    state,
    code_challenge: pkce.challenge,
    code_challenge_method: "S256",
    ...(resource === undefined ? {} : { resource }),
    ...(options.loginHint === undefined ? {} : { login_hint: options.loginHint }),
    ...options.authorizationParams
  }
  for (const [name, value] of Object.entries(params)) authorize.searchParams.set(name, value)

  const browser = options.browser ?? new BrowserDriver()
  const callback = await browser.navigate(authorize, redirectUri)
  const code = readAuthorizationResponse(callback, state, endpoints.issuer)

  const body = new URLSearchParams({
    grant_type: "authorization_code",
    code,
    redirect_uri: redirectUri,
    code_verifier: pkce.verifier
  })
  if (resource !== undefined) body.set("resource", resource)
  return tokenRequest("token exchange", endpoints.token_endpoint, body, clientId, clientSecret)
}

/** Validates an authorization response (state, iss, error) and returns its code. */
export const readAuthorizationResponse = (callback: URL, expectedState: string, expectedIssuer: string): string => {
  const query = callback.searchParams
  const iss = query.get("iss")
  if (iss !== null && iss !== expectedIssuer) throw new OAuthFlowError("authorization", "iss_mismatch", iss)
  if (query.get("state") !== expectedState) throw new OAuthFlowError("authorization", "state_mismatch", undefined)
  const error = query.get("error")
  if (error !== null) throw new OAuthFlowError("authorization", error, query.get("error_description") ?? undefined)
  const code = query.get("code")
  if (code === null) throw new OAuthFlowError("authorization", "missing_code", callback.href)
  return code
}

const registerPublicClient = async (
  endpoints: AuthorizationServerEndpoints,
  redirectUri: string,
  scope: string
): Promise<{ clientId: string }> => {
  if (endpoints.registration_endpoint === undefined) {
    throw new Error(`${endpoints.issuer} offers no dynamic client registration; pass clientId`)
  }
  const response = await fetch(endpoints.registration_endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({
      client_name: "@mcp-oauth/testing",
      redirect_uris: [redirectUri],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
      scope
    })
  })
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown>
  if (!response.ok || typeof json.client_id !== "string") {
    const error = typeof json.error === "string" ? json.error : "http_error"
    const description = typeof json.error_description === "string" ? json.error_description : undefined
    throw new OAuthFlowError("client registration", error, description, response.status)
  }
  return { clientId: json.client_id }
}

/** Exchanges a refresh token for new tokens (public clients get a rotated refresh token). */
export const refreshTokens = async (options: RefreshTokensOptions): Promise<TokenSet> => {
  const endpoints = await discoverEndpoints(options.idp.issuer)
  const body = new URLSearchParams({ grant_type: "refresh_token", refresh_token: options.refreshToken })
  const resource = resourceOf(options.idp, options.resource)
  if (resource !== undefined) body.set("resource", resource)
  if (options.scope !== undefined) body.set("scope", options.scope)
  return tokenRequest("refresh", endpoints.token_endpoint, body, options.clientId, options.clientSecret)
}
