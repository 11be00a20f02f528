/**
 * The systems under test, built from real parts: the TestIdp (oidc-provider) as identity provider and OAuth upstream,
 * a {@link FaultyUpstream} in front of the endpoints a test breaks, and a protected MCP server on one adapter.
 */
import { Custom, McpAuth, OAuthProxy } from "@mcp-oauth/auth-core"
import type { ConfigProblem, Jwks, Store } from "@mcp-oauth/auth-core"
import type * as VerifiedTokenCache from "@mcp-oauth/auth-core/VerifiedTokenCache"
import { generateSigningKeyJson } from "@mcp-oauth/auth-core/proxy/AccessTokens"
import type { TokenEndpointAuthMethod } from "@mcp-oauth/auth-core/proxy/Upstream"
import { startTestIdp, type TestIdp } from "@mcp-oauth/testing"
import { freePort } from "@mcp-oauth/testing/contract"
import { Layer, Redacted } from "effect"
import type { AdapterName } from "./adapters.js"
import { serveWith } from "./adapters.js"
import { captureLogs } from "./capture.js"
import { type FaultyUpstream, startFaultyUpstream } from "./faultyUpstream.js"

/** What every stack has. */
export interface Stack {
  readonly adapter: AdapterName
  readonly origin: string
  readonly resource: string
  readonly idp: TestIdp
  /** The faulty front of the IdP. */
  readonly front: FaultyUpstream
  /** Every Effect log line of the server. */
  readonly logs: Array<string>
  readonly close: () => Promise<void>
}

/**
 * Builds a stack on a free port, again on another one if the port was taken between the probe and the listen (the
 * resource URL, and so the port, must be known before the IdP starts; other test processes pick ports meanwhile).
 */
const onFreePort = async <A>(build: (port: number) => Promise<A>): Promise<A> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await build(await freePort())
    } catch (error) {
      if (attempt >= 5 || (error as { code?: unknown }).code !== "EADDRINUSE") throw error
    }
  }
}

/** Options of {@link startVerifierStack}. */
export interface VerifierStackOptions {
  readonly adapter: AdapterName
  /** Key-set cache settings of the server (the key set is fetched through the front, at `/jwks`). */
  readonly jwks?: Omit<Jwks.JwksOptions, "uri"> | undefined
  readonly verifiedTokenCache?: boolean | VerifiedTokenCache.VerifiedTokenCacheOptions | undefined
}

/** A resource server verifying the IdP's JWTs, its key set fetched through the faulty front. */
export const startVerifierStack = (options: VerifierStackOptions): Promise<Stack> => onFreePort((port) => verifierStack(options, port))

const verifierStack = async (options: VerifierStackOptions, port: number): Promise<Stack> => {
  const origin = `http://127.0.0.1:${port}`
  const resource = `${origin}/mcp`
  const idp = await startTestIdp({ resource, scopes: ["mcp", "admin"] })
  const front = await startFaultyUpstream(new URL(idp.issuer).origin)
  const logs: Array<string> = []
  let auth: McpAuth.McpAuth | undefined
  try {
    auth = await McpAuth.make(
      Layer.merge(
        McpAuth.layer(
          { resource, scopesSupported: ["mcp", "admin"], resourceName: "reliability" },
          Custom.layer({
            issuer: idp.issuer,
            jwksUri: `${front.origin}/jwks`,
            jwks: options.jwks,
            verifiedTokenCache: options.verifiedTokenCache
          })
        ),
        captureLogs(logs)
      )
    )
    const served = await serveWith(options.adapter, auth, port)
    return {
      adapter: options.adapter,
      origin,
      resource,
      idp,
      front,
      logs,
      close: async () => {
        await served.close()
        await front.close()
        await idp.close()
      }
    }
  } catch (error) {
    await auth?.dispose()
    await front.close()
    await idp.close()
    throw error
  }
}

/** The proxy's client id at the upstream. */
export const UPSTREAM_CLIENT_ID = "reliability-proxy"

/** Options of {@link startProxyStack}. */
export interface ProxyStackOptions {
  readonly adapter: AdapterName
  /** The proxy's client secret at the upstream. */
  readonly upstreamSecret: string
  /** How the proxy sends it (default `client_secret_basic`). */
  readonly tokenEndpointAuthMethod?: TokenEndpointAuthMethod | undefined
  /** The upstream's access-token lifetime in seconds (default 300). */
  readonly upstreamTokenTtlSeconds?: number | undefined
  /** More proxy options. */
  readonly proxy?: Partial<OAuthProxy.OAuthProxyOptions> | undefined
  /** The Store (default the in-memory one). */
  readonly store?: Layer.Layer<Store.Store, ConfigProblem.ConfigProblem> | undefined
}

/** A proxy stack: the proxy's upstream token endpoint and key set are reached through the front, which records `/token`. */
export interface ProxyStack extends Stack {
  readonly auth: McpAuth.McpAuth
  /** The proxy's own secrets (the private signing JWK, the sealing key, the cookie secret), to search for leaks. */
  readonly proxySecrets: ReadonlyArray<string>
}

/**
 * The OAuth proxy in front of the IdP playing a non-DCR upstream (registration off, one confidential static client),
 * with the upstream's token endpoint and key set behind the faulty front and generous rate limits.
 */
export const startProxyStack = (options: ProxyStackOptions): Promise<ProxyStack> => onFreePort((port) => proxyStack(options, port))

const proxyStack = async (options: ProxyStackOptions, port: number): Promise<ProxyStack> => {
  const origin = `http://127.0.0.1:${port}`
  const resource = `${origin}/mcp`
  const idp = await startTestIdp({
    resource,
    scopes: ["mcp", "admin"],
    registration: false,
    accessTokenTtlSeconds: options.upstreamTokenTtlSeconds ?? 300,
    users: { alice: { email: "alice@example.com", name: "Alice", roles: ["editor"], permissions: ["reports:read"] } },
    staticClients: [
      {
        client_id: UPSTREAM_CLIENT_ID,
        client_secret: options.upstreamSecret,
        redirect_uris: [`${origin}/oauth/callback`],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: options.tokenEndpointAuthMethod ?? "client_secret_basic"
      }
    ]
  })
  const front = await startFaultyUpstream(new URL(idp.issuer).origin, ["/token"])
  const logs: Array<string> = []
  const signingKey = await generateSigningKeyJson()
  const encryptionKey = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url")
  const cookieSecret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url")
  const privateParts = Object.entries(JSON.parse(signingKey) as Record<string, unknown>)
    .filter(([name, value]) => ["d", "p", "q", "dp", "dq", "qi"].includes(name) && typeof value === "string")
    .map(([, value]) => value as string)
  let auth: McpAuth.McpAuth | undefined
  try {
    auth = await McpAuth.make(
      Layer.merge(
        McpAuth.layer(
          { resource, scopesSupported: ["mcp", "admin"], requiredScopes: ["mcp"], resourceName: "reliability proxy" },
          OAuthProxy.layer({
            upstream: {
              issuer: idp.issuer,
              tokenEndpoint: `${front.origin}/token`,
              jwksUri: `${front.origin}/jwks`,
              clientId: UPSTREAM_CLIENT_ID,
              clientSecret: Redacted.make(options.upstreamSecret),
              tokenEndpointAuthMethod: options.tokenEndpointAuthMethod ?? "client_secret_basic",
              // short enough that faults cost the tests little, long enough for a loaded CI machine
              timeout: "2 seconds"
            },
            signingKey: Redacted.make(signingKey),
            encryptionKey: Redacted.make(encryptionKey),
            cookieSecret: Redacted.make(cookieSecret),
            rateLimits: {
              registration: { limit: 100_000, window: "1 minute" },
              authorization: { limit: 100_000, window: "1 minute" },
              token: { limit: 100_000, window: "1 minute" }
            },
            ...options.proxy
          }),
          options.store === undefined ? {} : { store: options.store }
        ),
        captureLogs(logs)
      )
    )
    const served = await serveWith(options.adapter, auth, port)
    return {
      adapter: options.adapter,
      origin,
      resource,
      idp,
      front,
      logs,
      auth,
      proxySecrets: [encryptionKey, cookieSecret, ...privateParts],
      close: async () => {
        await served.close()
        await front.close()
        await idp.close()
      }
    }
  } catch (error) {
    await auth?.dispose()
    await front.close()
    await idp.close()
    throw error
  }
}
