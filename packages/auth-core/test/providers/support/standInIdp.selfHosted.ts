/**
 * A loopback stand-in for identity providers whose issuer carries a path (Supabase `/auth/v1`, Keycloak
 * `/realms/{realm}`, Better Auth `/api/auth`): their URL layout, their metadata documents, and jose-signed tokens with
 * the algorithms they use (ES256, RS256, EdDSA), plus HS256 tokens for the legacy-secret case.
 */
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as jose from "jose"

/** Algorithms the stand-in can publish keys for. */
export type StandInAlgorithm = "ES256" | "RS256" | "EdDSA"

/** How a provider lays out its URLs. */
export interface SelfHostedLayout {
  /** The issuer's path (no trailing slash), e.g. `/auth/v1`. */
  readonly issuerPath: string
  /** The key set's path on the origin. */
  readonly jwksPath: string
  /** The metadata documents by path on the origin. */
  readonly documents: (origin: string, issuer: string) => Readonly<Record<string, Record<string, unknown>>>
}

/** A running stand-in. */
export interface SelfHostedStandIn {
  readonly origin: string
  readonly issuer: string
  readonly jwksUri: string
  readonly documents: Readonly<Record<string, Record<string, unknown>>>
  /** Requests that reached `path`, or all requests. */
  readonly requests: (path?: string) => number
  /** Signs with the published key of `alg` (default the first published); `iat` and `exp` (+5 min) are added when absent. */
  readonly sign: (
    payload: Record<string, unknown>,
    header?: { readonly alg?: StandInAlgorithm; readonly typ?: string; readonly kid?: string }
  ) => Promise<string>
  /** Signs with a shared secret (HS256), as legacy Supabase projects and Keycloak refresh tokens are. */
  readonly signSymmetric: (payload: Record<string, unknown>, alg?: "HS256" | "HS512") => Promise<string>
  /** Signs with a key of the first algorithm that the stand-in does not publish, under a published kid. */
  readonly signWithForeignKey: (payload: Record<string, unknown>) => Promise<string>
  readonly close: () => Promise<void>
}

const generate = (alg: StandInAlgorithm) =>
  alg === "EdDSA" ? jose.generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true }) : jose.generateKeyPair(alg, { extractable: true })

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" })
  res.end(JSON.stringify(body))
}

/** Starts a stand-in for `layout` on a random loopback port, publishing one key per algorithm. */
export const startSelfHostedStandIn = async (
  layout: SelfHostedLayout,
  algorithms: ReadonlyArray<StandInAlgorithm> = ["ES256"]
): Promise<SelfHostedStandIn> => {
  const first = algorithms[0]
  if (first === undefined) throw new TypeError("at least one algorithm")
  const keys = await Promise.all(
    algorithms.map(async (alg, index) => {
      const pair = await generate(alg)
      const kid = `stand-in-${alg.toLowerCase()}-${index}`
      return { alg, kid, privateKey: pair.privateKey, publicJwk: { ...(await jose.exportJWK(pair.publicKey)), kid, alg, use: "sig" } }
    })
  )
  const foreign = await generate(first)
  const secret = new TextEncoder().encode("legacy-jwt-secret-of-at-least-32-bytes!")
  const counts = new Map<string, number>()
  let documents: Readonly<Record<string, Record<string, unknown>>> = {}

  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://stand-in").pathname
    counts.set(path, (counts.get(path) ?? 0) + 1)
    if (req.method !== "GET") return json(res, 405, { error: "method_not_allowed" })
    if (path === layout.jwksPath) return json(res, 200, { keys: keys.map((key) => key.publicJwk) })
    const document = documents[path]
    if (document !== undefined) return json(res, 200, document)
    return json(res, 404, { error: "not_found" })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const issuer = `${origin}${layout.issuerPath}`
  documents = layout.documents(origin, issuer)

  const withTimes = (payload: Record<string, unknown>) => {
    const now = Math.floor(Date.now() / 1000)
    return { iat: now, exp: now + 300, ...payload }
  }

  return {
    origin,
    issuer,
    jwksUri: `${origin}${layout.jwksPath}`,
    documents,
    requests: (path) => (path === undefined ? [...counts.values()].reduce((a, b) => a + b, 0) : (counts.get(path) ?? 0)),
    sign: (payload, header = {}) => {
      const key = keys.find((k) => k.alg === (header.alg ?? first))
      if (key === undefined) throw new TypeError(`no ${header.alg} key published`)
      return new jose.SignJWT(withTimes(payload))
        .setProtectedHeader({ alg: key.alg, kid: header.kid ?? key.kid, typ: header.typ ?? "JWT" })
        .sign(key.privateKey)
    },
    signSymmetric: (payload, alg = "HS256") =>
      new jose.SignJWT(withTimes(payload)).setProtectedHeader({ alg, typ: "JWT", kid: "legacy" }).sign(secret),
    signWithForeignKey: (payload) =>
      new jose.SignJWT(withTimes(payload)).setProtectedHeader({ alg: first, kid: keys[0]!.kid, typ: "JWT" }).sign(foreign.privateKey),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => (error === undefined ? resolve() : reject(error)))
      })
  }
}

/**
 * Supabase's layout: issuer `{project}/auth/v1`, keys at `{issuer}/.well-known/jwks.json`, RFC 8414 metadata at the
 * path-inserted `/.well-known/oauth-authorization-server/auth/v1` and OpenID Connect discovery under the issuer, with
 * the OAuth 2.1 server's endpoints as Supabase documents them.
 */
export const supabaseLayout: SelfHostedLayout = {
  issuerPath: "/auth/v1",
  jwksPath: "/auth/v1/.well-known/jwks.json",
  documents: (_origin, issuer) => {
    const document = {
      issuer,
      authorization_endpoint: `${issuer}/oauth/authorize`,
      token_endpoint: `${issuer}/oauth/token`,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      response_types_supported: ["code"],
      grant_types_supported: ["authorization_code", "refresh_token"],
      code_challenge_methods_supported: ["S256"],
      scopes_supported: ["openid", "email", "profile", "phone"]
    }
    return {
      "/.well-known/oauth-authorization-server/auth/v1": document,
      "/auth/v1/.well-known/openid-configuration": document
    }
  }
}

/**
 * Keycloak's layout for a realm: issuer `{server}{prefix}/realms/{realm}` (prefix `/auth` for Keycloak before 17),
 * keys at `{issuer}/protocol/openid-connect/certs`, OpenID Connect discovery under the issuer only.
 */
export const keycloakLayout = (realm: string, prefix = ""): SelfHostedLayout => {
  const issuerPath = `${prefix}/realms/${realm}`
  return {
    issuerPath,
    jwksPath: `${issuerPath}/protocol/openid-connect/certs`,
    documents: (_origin, issuer) => ({
      [`${issuerPath}/.well-known/openid-configuration`]: {
        issuer,
        authorization_endpoint: `${issuer}/protocol/openid-connect/auth`,
        token_endpoint: `${issuer}/protocol/openid-connect/token`,
        introspection_endpoint: `${issuer}/protocol/openid-connect/token/introspect`,
        userinfo_endpoint: `${issuer}/protocol/openid-connect/userinfo`,
        end_session_endpoint: `${issuer}/protocol/openid-connect/logout`,
        jwks_uri: `${issuer}/protocol/openid-connect/certs`,
        registration_endpoint: `${issuer}/clients-registrations/openid-connect`,
        grant_types_supported: ["authorization_code", "refresh_token", "client_credentials"],
        response_types_supported: ["code"],
        code_challenge_methods_supported: ["plain", "S256"],
        authorization_response_iss_parameter_supported: true,
        scopes_supported: ["openid", "profile", "email", "roles", "web-origins", "acr", "basic", "offline_access"]
      }
    })
  }
}

/**
 * Better Auth's layout with the MCP / OAuth 2.1 Provider plugin: issuer `{baseURL}/api/auth`, keys at
 * `{issuer}/jwks` (or another `jwksPath`), AS metadata at `{issuer}/.well-known/oauth-authorization-server` and at the
 * path-inserted root location, endpoints under `/oauth2/`.
 */
export const betterAuthLayout = (jwksPath = "/jwks"): SelfHostedLayout => ({
  issuerPath: "/api/auth",
  jwksPath: `/api/auth${jwksPath}`,
  documents: (_origin, issuer) => {
    const document = {
      issuer,
      authorization_endpoint: `${issuer}/oauth2/authorize`,
      token_endpoint: `${issuer}/oauth2/token`,
      jwks_uri: `${issuer}${jwksPath}`,
      registration_endpoint: `${issuer}/oauth2/register`,
      introspection_endpoint: `${issuer}/oauth2/introspect`,
      revocation_endpoint: `${issuer}/oauth2/revoke`,
      response_types_supported: ["code"],
      grant_types_supported: ["authorization_code", "client_credentials", "refresh_token"],
      code_challenge_methods_supported: ["S256"],
      authorization_response_iss_parameter_supported: true,
      scopes_supported: ["openid", "profile", "email", "offline_access"]
    }
    return {
      "/.well-known/oauth-authorization-server/api/auth": document,
      "/api/auth/.well-known/oauth-authorization-server": document,
      "/api/auth/.well-known/openid-configuration": { ...document, userinfo_endpoint: `${issuer}/oauth2/userinfo` }
    }
  }
})
