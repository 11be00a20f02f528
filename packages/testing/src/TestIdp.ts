/**
 * A real OAuth 2.1 / OpenID Connect identity provider (oidc-provider) running in-process on 127.0.0.1,
 * with headless login and consent, JWT access tokens for MCP resources, request counting and fault injection.
 *
 * @since 0.1.0
 */
import * as crypto from "node:crypto"
import * as http from "node:http"
import type { ClientMetadata, Configuration, KoaContextWithOIDC, ResourceServer } from "oidc-provider"
import type Provider from "oidc-provider"
import type { EndpointFault } from "./internal/http.js"
import { applyFault, closeServer, listenLoopback, RequestCounter, requestPath, sendJson } from "./internal/http.js"
import { keyPair } from "./internal/keys.js"
import type { KeyKind } from "./internal/keys.js"
import { memoryAdapterFactory } from "./internal/MemoryAdapter.js"

/** oidc-provider's client metadata, as taken by `staticClients` and `registerClient`. */
export type { ClientMetadata } from "oidc-provider"

/** JWS algorithms the test IdP can sign access and ID tokens with. */
export type TestIdpAlgorithm = "RS256" | "PS256" | "ES256" | "EdDSA" | "Ed25519"

/** Claims of one test account, returned by the IdP next to `sub`. */
export interface TestUser {
  readonly email?: string
  readonly name?: string
  readonly [claim: string]: unknown
}

/** The mutable header and payload of an access token, handed to `customizeAccessToken` before signing. */
export interface AccessTokenParts {
  header: Record<string, unknown>
  payload: Record<string, unknown>
}

/** Options of {@link startTestIdp}. */
export interface TestIdpOptions {
  /** The MCP resource URL (RFC 8707 indicator, e.g. `http://127.0.0.1:3000/mcp`), or several; the first is the default. */
  readonly resource: string | ReadonlyArray<string>
  /** Scopes of the resource (default `["mcp"]`); `openid` and `offline_access` are always available too. */
  readonly scopes?: ReadonlyArray<string>
  /**
   * Resource indicators whose access tokens are opaque instead of JWTs, for RFC 7662 introspection
   * (`/token/introspection`) and RFC 7009 revocation (`/token/revocation`) tests; also valid `resource` values.
   */
  readonly opaqueResources?: ReadonlyArray<string>
  /** Access-token lifetime in seconds (default 300). */
  readonly accessTokenTtlSeconds?: number
  /** Signing algorithm of access and ID tokens (default RS256). */
  readonly algorithm?: TestIdpAlgorithm
  /** Open dynamic client registration at `/reg` (default true). */
  readonly registration?: boolean
  /** Pre-registered clients, e.g. one confidential `client_secret_basic` client to play a non-DCR upstream. */
  readonly staticClients?: ReadonlyArray<ClientMetadata>
  /** Limit each client to the `scope` it registered with, as oidc-provider does by default (default false). */
  readonly enforceClientScope?: boolean
  /** Put the account's `email`, `name`, and any `roles` and `permissions` claims into access tokens (default true). */
  readonly profileInAccessToken?: boolean
  /** Edits every JWT access token before it is signed (wrong `typ`, `aud` arrays, missing claims, ...). */
  readonly customizeAccessToken?: (token: AccessTokenParts) => void
  /**
   * Account claims by account id; `test-user` (test-user@example.com, "Test User") is present unless overridden.
   * Any `login_hint` logs in: unknown accounts just have no claims besides `sub`.
   */
  readonly users?: Readonly<Record<string, TestUser>>
  /**
   * Mounts the IdP under this path: the issuer becomes `http://127.0.0.1:<port><issuerPath>` and every endpoint
   * (discovery, keys, registration, authorization, token, the interaction route) lives under it, as oidc-provider
   * does when mounted. `"/realms/test"` plays a Keycloak realm (discovery at `{issuer}/.well-known/openid-configuration`,
   * none at the RFC 8414 path-inserted location); `"/"` plays Auth0's trailing-slash issuer. Default: no path.
   */
  readonly issuerPath?: string
  /**
   * Endpoint paths relative to the issuer, passed to oidc-provider's `routes` (e.g. Keycloak's
   * `{ jwks: "/protocol/openid-connect/certs", token: "/protocol/openid-connect/token" }`). Default oidc-provider's.
   */
  readonly routes?: TestIdpRoutes
}

/** Endpoint paths of the test IdP relative to its issuer, each beginning with `/` (oidc-provider's `routes`). */
export type TestIdpRoutes = NonNullable<Configuration["routes"]>

/** Faults that can be switched on and off while the IdP runs. */
export interface TestIdpFaults {
  /** How the JWKS endpoint misbehaves: HTTP 500, never answering, an HTML page, an empty key set, or normally (`null`). */
  jwks: EndpointFault
}

/** A client registered at the IdP. */
export interface RegisteredClient {
  readonly client_id: string
  readonly client_secret?: string
  readonly registration_access_token?: string
  readonly registration_client_uri?: string
  readonly [field: string]: unknown
}

/** A running test IdP. */
export interface TestIdp {
  /** The issuer identifier, `http://127.0.0.1:<port>` plus `issuerPath` when given (by default no path, no trailing slash). */
  readonly issuer: string
  /** The JWKS endpoint. */
  readonly jwksUri: string
  /** The resource indicators this IdP issues tokens for; the first is the default. */
  readonly resources: ReadonlyArray<string>
  /** The resource scopes. */
  readonly scopes: ReadonlyArray<string>
  /** The signing algorithm of access tokens. */
  readonly algorithm: TestIdpAlgorithm
  /** The underlying oidc-provider instance. */
  readonly provider: Provider
  /** Faults switchable at run time. */
  readonly faults: TestIdpFaults
  /** An absolute URL on the IdP for `path`, relative to the issuer (e.g. `/.well-known/openid-configuration`). */
  readonly url: (path: string) => string
  /**
   * How many requests reached `path` (the full request path, e.g. `/jwks`, or `/realms/test/jwks` with an `issuerPath`;
   * `/interaction/*` matches a prefix), or all paths when omitted.
   */
  readonly requests: (path?: string) => number
  /** Resets the request counters. */
  readonly resetRequests: () => void
  /** Registers a client through dynamic client registration over HTTP. */
  readonly registerClient: (metadata: Partial<ClientMetadata>) => Promise<RegisteredClient>
  /** Stops the IdP and drops open connections. */
  readonly close: () => Promise<void>
}

/** The default test account. */
export const DEFAULT_USER = "test-user"

const keyKindOf = (alg: TestIdpAlgorithm): KeyKind =>
  alg === "ES256" ? "ec-p256" : alg === "EdDSA" || alg === "Ed25519" ? "ed25519" : "rsa-2048"

type ProviderModule = typeof import("oidc-provider")
let providerModule: Promise<ProviderModule> | undefined

/** Loads oidc-provider once, hiding its import-time "unsupported runtime" notice on Node 20. */
const loadProviderModule = (): Promise<ProviderModule> => {
  providerModule ??= (async () => {
    const warn = console.warn
    console.warn = (...args: Array<unknown>) => {
      if (typeof args[0] === "string" && args[0].includes("Unsupported runtime")) return
      warn(...args)
    }
    try {
      return await import("oidc-provider")
    } finally {
      console.warn = warn
    }
  })()
  return providerModule
}

const asStrings = (value: unknown): Array<string> =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : []

/**
 * Starts oidc-provider on 127.0.0.1 with a random port.
 *
 * Login and consent are headless: the interaction route logs in the account named by the authorization
 * request's `login_hint` (default `test-user`) and grants every requested scope and resource.
 */
export const startTestIdp = async (options: TestIdpOptions): Promise<TestIdp> => {
  const { default: ProviderClass, errors } = await loadProviderModule()
  const resources = typeof options.resource === "string" ? [options.resource] : [...options.resource]
  const defaultResource = resources[0]
  if (defaultResource === undefined) throw new TypeError("startTestIdp: at least one resource is required")
  const opaqueResources = [...(options.opaqueResources ?? [])]
  const scopes = [...(options.scopes ?? ["mcp"])]
  const ttl = options.accessTokenTtlSeconds ?? 300
  const algorithm = options.algorithm ?? "RS256"
  const users: Record<string, TestUser> = {
    [DEFAULT_USER]: { email: "test-user@example.com", name: "Test User" },
    ...options.users
  }
  const key = await keyPair(keyKindOf(algorithm))
  const signingJwk = { ...key.privateJwk, kid: `test-${algorithm.toLowerCase()}`, alg: algorithm, use: "sig" }
  const issuerPath = options.issuerPath ?? ""
  if (issuerPath !== "" && !issuerPath.startsWith("/")) throw new TypeError("startTestIdp: issuerPath must begin with /")
  // the prefix every endpoint lives under (oidc-provider drops the issuer's trailing slash the same way)
  const mountPath = issuerPath.replace(/\/+$/, "")
  const routes: TestIdpRoutes = { ...options.routes }
  const jwksPath = `${mountPath}${routes.jwks ?? "/jwks"}`

  const counter = new RequestCounter()
  const faults: TestIdpFaults = { jwks: null }
  let provider: Provider | undefined
  let handle: ((req: http.IncomingMessage, res: http.ServerResponse) => void) | undefined
  const server = http.createServer((req, res) => {
    const path = requestPath(req)
    counter.record(path)
    if (path === jwksPath && applyFault(faults.jwks, res)) return
    if (provider === undefined || handle === undefined) return sendJson(res, 503, { error: "temporarily_unavailable" })
    if (mountPath !== "") {
      if (path !== mountPath && !path.startsWith(`${mountPath}/`)) {
        return sendJson(res, 404, { error: "invalid_request", error_description: "unrecognized route" })
      }
      // mounted as Express mounts it (`app.use(mountPath, provider.callback())`): oidc-provider routes on the stripped
      // `url` and builds its endpoint URLs from the mount path, which it reads from `baseUrl`
      const url = req.url ?? "/"
      Object.assign(req, { baseUrl: mountPath, url: url.slice(mountPath.length) || "/" })
    }
    if (path.startsWith(`${mountPath}/interaction/`)) {
      interact(provider, req, res).catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: "server_error", error_description: String(error) })
      })
      return
    }
    handle(req, res)
  })
  const origin = await listenLoopback(server)
  const issuer = `${origin}${issuerPath}`
  const base = `${origin}${mountPath}`
  const url = (path: string): string => new URL(path.replace(/^\/(?!\/)/, ""), `${base}/`).href

  const resourceServer = (indicator: string): ResourceServer =>
    opaqueResources.includes(indicator)
      ? { scope: scopes.join(" "), audience: indicator, accessTokenTTL: ttl, accessTokenFormat: "opaque" }
      : {
          scope: scopes.join(" "),
          audience: indicator,
          accessTokenTTL: ttl,
          accessTokenFormat: "jwt",
          // oidc-provider's typings omit the EdDSA identifier its runtime accepts.
          jwt: { sign: { alg: algorithm as "RS256" } }
        }

  const customize = options.customizeAccessToken
  const configuration: Configuration = {
    adapter: memoryAdapterFactory(),
    jwks: { keys: [signingJwk] },
    clients: [...(options.staticClients ?? [])],
    clientDefaults: { id_token_signed_response_alg: algorithm },
    scopes: ["openid", "offline_access", ...scopes],
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    cookies: { keys: [crypto.randomBytes(32).toString("base64url")] },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: options.registration ?? true },
      introspection: {
        enabled: true,
        // Confidential clients (resource servers) may introspect any token, public clients only their own.
        allowedPolicy: (_ctx, client, token) => client.clientAuthMethod !== "none" || token.clientId === client.clientId
      },
      revocation: {
        enabled: true,
        // RFC 7009: only the client a token was issued to may revoke it.
        allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => oneOf ?? defaultResource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (!resources.includes(indicator) && !opaqueResources.includes(indicator)) throw new errors.InvalidTarget()
          return resourceServer(indicator)
        }
      }
    },
    pkce: { required: () => true },
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    interactions: { url: (_ctx, interaction) => `${mountPath}/interaction/${interaction.uid}` },
    ...(options.routes === undefined ? {} : { routes }),
    clientBasedCORS: () => true,
    findAccount: (_ctx, sub) => ({
      accountId: sub,
      claims: () => {
        const user = users[sub]
        return user?.email === undefined ? { ...user, sub } : { ...user, email_verified: true, sub }
      }
    }),
    // Many IdPs let a registered client request any scope of the API (Auth0, WorkOS); oidc-provider limits a client to
    // the `scope` it registered with, which would block MCP step-up. Unless asked to enforce it, forget that field.
    ...(options.enforceClientScope === true
      ? {}
      : {
          extraClientMetadata: {
            properties: ["x_mcp_oauth_test_idp"],
            validator: (_ctx, _key, _value, metadata) => {
              delete (metadata as { scope?: unknown }).scope
            }
          }
        }),
    // real IdPs add profile claims to access tokens through rules or actions; the dev IdP does it by default
    extraTokenClaims: (_ctx, token) => {
      if (options.profileInAccessToken === false || !("accountId" in token) || typeof token.accountId !== "string") return undefined
      const user = users[token.accountId]
      if (user === undefined) return undefined
      // roles and permissions ride along when an account has them, as providers add them through rules or RBAC
      const { email, name, roles, permissions } = user
      return { email, name, ...(roles === undefined ? {} : { roles }), ...(permissions === undefined ? {} : { permissions }) }
    },
    renderError: (ctx: KoaContextWithOIDC, out) => {
      ctx.type = "json"
      ctx.body = out
    },
    ttl: {
      AccessToken: ttl,
      ClientCredentials: ttl,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 14 * 24 * 3600,
      Interaction: 600,
      Session: 24 * 3600,
      Grant: 14 * 24 * 3600
    },
    ...(customize === undefined
      ? {}
      : {
          formats: {
            customizers: {
              jwt: (_ctx, _token, parts) => {
                const token: AccessTokenParts = { header: { ...parts.header }, payload: parts.payload }
                customize(token)
                parts.header = token.header
                parts.payload = token.payload
              }
            }
          }
        })
  }

  const running = new ProviderClass(issuer, configuration)
  provider = running
  handle = running.callback()

  const registerClient = async (metadata: Partial<ClientMetadata>): Promise<RegisteredClient> => {
    const response = await fetch(url(routes.registration ?? "/reg"), {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(metadata)
    })
    const body = (await response.json()) as Record<string, unknown>
    if (response.status !== 201 || typeof body.client_id !== "string") {
      throw new Error(`client registration failed (${response.status}): ${JSON.stringify(body)}`)
    }
    return body as RegisteredClient
  }

  return {
    issuer,
    jwksUri: `${origin}${jwksPath}`,
    resources,
    scopes,
    algorithm,
    provider: running,
    faults,
    url,
    requests: (path) => counter.count(path),
    resetRequests: () => counter.reset(),
    registerClient,
    close: () => closeServer(server)
  }
}

/** Headless login and consent: logs in the `login_hint` account and grants everything requested. */
const interact = async (provider: Provider, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
  const details = await provider.interactionDetails(req, res)
  const { prompt, params, session } = details
  if (prompt.name === "login") {
    const hint = params.login_hint
    const accountId = typeof hint === "string" && hint !== "" ? hint : DEFAULT_USER
    return provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false })
  }
  if (prompt.name === "consent" && session !== undefined && typeof params.client_id === "string") {
    const grant =
      (details.grantId === undefined ? undefined : await provider.Grant.find(details.grantId)) ??
      new provider.Grant({ accountId: session.accountId, clientId: params.client_id })
    const missingOIDCScope = asStrings(prompt.details.missingOIDCScope)
    if (missingOIDCScope.length > 0) grant.addOIDCScope(missingOIDCScope.join(" "))
    const missingClaims = asStrings(prompt.details.missingOIDCClaims)
    if (missingClaims.length > 0) grant.addOIDCClaims(missingClaims)
    const missingResourceScopes = prompt.details.missingResourceScopes
    if (typeof missingResourceScopes === "object" && missingResourceScopes !== null) {
      for (const [indicator, resourceScopes] of Object.entries(missingResourceScopes)) {
        grant.addResourceScope(indicator, asStrings(resourceScopes).join(" "))
      }
    }
    const grantId = await grant.save()
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true })
  }
  return provider.interactionFinished(
    req,
    res,
    { error: "access_denied", error_description: `unsupported prompt ${prompt.name}` },
    { mergeWithLastSubmission: false }
  )
}
