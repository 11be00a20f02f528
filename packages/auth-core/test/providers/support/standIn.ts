import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as jose from "jose"

/** How a hosted identity provider lays out its URLs, for a loopback stand-in. */
export interface StandInLayout {
  /** The issuer identifier for the stand-in's origin (Auth0 appends a slash). */
  readonly issuer: (origin: string) => string
  /** Where the key set is served. */
  readonly jwksPath: string
  /** The metadata documents, by well-known path, for the origin and issuer. */
  readonly documents: (origin: string, issuer: string) => Readonly<Record<string, Record<string, unknown>>>
}

/** A running stand-in: real HTTP on 127.0.0.1, one signing key, request counting. */
export interface StandIn {
  readonly origin: string
  readonly issuer: string
  readonly jwksUri: string
  /** The documents served, by path. */
  readonly documents: Readonly<Record<string, Record<string, unknown>>>
  /** Requests that reached `path`, or all requests. */
  readonly requests: (path?: string) => number
  /** Signs a JWT with the stand-in's key; `iat` and `exp` (5 minutes) are added when absent. */
  readonly sign: (payload: Record<string, unknown>, header?: { readonly typ?: string; readonly kid?: string }) => Promise<string>
  /** Signs with a key the stand-in does not publish. */
  readonly signWithForeignKey: (payload: Record<string, unknown>) => Promise<string>
  readonly close: () => Promise<void>
}

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" })
  res.end(JSON.stringify(body))
}

/** Starts a stand-in for `layout` on a random loopback port. */
export const startStandIn = async (layout: StandInLayout): Promise<StandIn> => {
  const alg = "RS256"
  const kid = "stand-in-key-1"
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true })
  const foreign = await jose.generateKeyPair(alg, { extractable: true })
  const publicJwk = { ...(await jose.exportJWK(publicKey)), kid, alg, use: "sig" }
  const counts = new Map<string, number>()
  let documents: Readonly<Record<string, Record<string, unknown>>> = {}

  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://stand-in").pathname
    counts.set(path, (counts.get(path) ?? 0) + 1)
    if (req.method !== "GET") return json(res, 405, { error: "method_not_allowed" })
    if (path === layout.jwksPath) return json(res, 200, { keys: [publicJwk] })
    const document = documents[path]
    if (document !== undefined) return json(res, 200, document)
    return json(res, 404, { error: "not_found" })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const issuer = layout.issuer(origin)
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
    requests: (path) =>
      path === undefined ? [...counts.values()].reduce((a, b) => a + b, 0) : (counts.get(path) ?? 0),
    sign: (payload, header = {}) =>
      new jose.SignJWT(withTimes(payload))
        .setProtectedHeader({ alg, kid: header.kid ?? kid, ...(header.typ === undefined ? {} : { typ: header.typ }) })
        .sign(privateKey),
    signWithForeignKey: (payload) =>
      new jose.SignJWT(withTimes(payload)).setProtectedHeader({ alg, kid, typ: "JWT" }).sign(foreign.privateKey),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => (error === undefined ? resolve() : reject(error)))
      })
  }
}

/**
 * Auth0's layout: issuer with a trailing slash, keys at `/.well-known/jwks.json`, an OpenID Connect discovery
 * document (endpoints as Auth0 names them: `/authorize`, `/oauth/token`, `/oidc/register`, `/userinfo`).
 */
export const auth0Layout: StandInLayout = {
  issuer: (origin) => `${origin}/`,
  jwksPath: "/.well-known/jwks.json",
  documents: (origin, issuer) => ({
    "/.well-known/openid-configuration": {
      issuer,
      authorization_endpoint: `${origin}/authorize`,
      token_endpoint: `${origin}/oauth/token`,
      device_authorization_endpoint: `${origin}/oauth/device/code`,
      userinfo_endpoint: `${origin}/userinfo`,
      mfa_challenge_endpoint: `${origin}/mfa/challenge`,
      jwks_uri: `${origin}/.well-known/jwks.json`,
      registration_endpoint: `${origin}/oidc/register`,
      revocation_endpoint: `${origin}/oauth/revoke`,
      scopes_supported: ["openid", "profile", "offline_access", "name", "email", "email_verified"],
      response_types_supported: ["code", "token", "id_token", "code token", "code id_token", "token id_token", "code token id_token"],
      code_challenge_methods_supported: ["S256", "plain"],
      response_modes_supported: ["query", "fragment", "form_post"],
      subject_types_supported: ["public"],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "private_key_jwt"],
      id_token_signing_alg_values_supported: ["HS256", "RS256", "PS256"],
      request_uri_parameter_supported: false
    }
  })
}

/** WorkOS AuthKit's layout: issuer without a slash, keys at `/oauth2/jwks`, both well-known documents. */
export const workosLayout: StandInLayout = {
  issuer: (origin) => origin,
  jwksPath: "/oauth2/jwks",
  documents: (origin, issuer) => {
    const common = {
      issuer,
      authorization_endpoint: `${origin}/oauth2/authorize`,
      device_authorization_endpoint: `${origin}/oauth2/device_authorization`,
      introspection_endpoint: `${origin}/oauth2/introspection`,
      jwks_uri: `${origin}/oauth2/jwks`,
      response_types_supported: ["code"],
      scopes_supported: ["email", "offline_access", "openid", "profile"],
      token_endpoint: `${origin}/oauth2/token`
    }
    return {
      "/.well-known/oauth-authorization-server": {
        ...common,
        client_id_metadata_document_supported: true,
        code_challenge_methods_supported: ["S256"],
        grant_types_supported: ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"],
        registration_endpoint: `${origin}/oauth2/register`,
        response_modes_supported: ["query"],
        token_endpoint_auth_methods_supported: ["none", "client_secret_post", "client_secret_basic"]
      },
      "/.well-known/openid-configuration": {
        ...common,
        grant_types_supported: ["authorization_code", "client_credentials", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"],
        id_token_signing_alg_values_supported: ["RS256"],
        subject_types_supported: ["public"],
        token_endpoint_auth_methods_supported: ["none", "client_secret_basic", "client_secret_post"],
        userinfo_endpoint: `${origin}/oauth2/userinfo`
      }
    }
  }
}

/** Clerk's layout: the Frontend API origin as issuer, keys at `/.well-known/jwks.json`, OAuth under `/oauth/`. */
export const clerkLayout: StandInLayout = {
  issuer: (origin) => origin,
  jwksPath: "/.well-known/jwks.json",
  documents: (origin, issuer) => {
    const document = {
      issuer,
      authorization_endpoint: `${origin}/oauth/authorize`,
      token_endpoint: `${origin}/oauth/token`,
      registration_endpoint: `${origin}/oauth/register`,
      introspection_endpoint: `${origin}/oauth/token_info`,
      userinfo_endpoint: `${origin}/oauth/userinfo`,
      jwks_uri: `${origin}/.well-known/jwks.json`,
      scopes_supported: ["openid", "profile", "email", "public_metadata", "private_metadata", "offline_access"],
      response_types_supported: ["code"],
      grant_types_supported: ["authorization_code", "refresh_token"],
      code_challenge_methods_supported: ["S256"],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
      client_id_metadata_document_supported: true
    }
    return { "/.well-known/oauth-authorization-server": document, "/.well-known/openid-configuration": document }
  }
}
