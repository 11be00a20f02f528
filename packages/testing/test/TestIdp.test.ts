import * as jose from "jose"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BrowserDriver, DEFAULT_REDIRECT_URI, getTokens, refreshTokens, startTestIdp } from "../src/index.js"
import type { TestIdp } from "../src/index.js"

const RESOURCE = "http://127.0.0.1:3999/mcp"

describe("TestIdp", () => {
  let idp: TestIdp
  beforeAll(async () => {
    idp = await startTestIdp({ resource: RESOURCE })
  })
  afterAll(() => idp.close())

  it("serves discovery and JWKS", async () => {
    const metadata = (await (await fetch(idp.url("/.well-known/oauth-authorization-server"))).json()) as Record<string, unknown>
    expect(metadata.issuer).toBe(idp.issuer)
    expect(metadata.jwks_uri).toBe(idp.jwksUri)
    expect(metadata.code_challenge_methods_supported).toEqual(["S256"])
    expect(metadata.registration_endpoint).toBe(idp.url("/reg"))
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true)
    const jwks = (await (await fetch(idp.jwksUri)).json()) as jose.JSONWebKeySet
    expect(jwks.keys).toHaveLength(1)
    expect(jwks.keys[0]).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig" })
    expect(jwks.keys[0]).not.toHaveProperty("d")
  })

  it("issues an at+jwt for the resource through a full code flow", async () => {
    const tokens = await getTokens({ idp, loginHint: "alice" })
    const { payload, protectedHeader } = await jose.jwtVerify(tokens.access_token, jose.createRemoteJWKSet(new URL(idp.jwksUri)), {
      issuer: idp.issuer,
      audience: RESOURCE,
      typ: "at+jwt"
    })
    expect(protectedHeader.alg).toBe("RS256")
    expect(payload.sub).toBe("alice")
    expect(payload.aud).toBe(RESOURCE)
    expect(payload.scope).toBe("mcp")
    expect(payload.client_id).toBe(tokens.clientId)
    expect(tokens.refresh_token).toBeTypeOf("string")
    expect(tokens.expires_in).toBeGreaterThan(200)
  })

  it("refreshes", async () => {
    const first = await getTokens({ idp })
    const second = await refreshTokens({ idp, clientId: first.clientId, refreshToken: first.refresh_token! })
    expect(second.access_token).not.toBe(first.access_token)
    const claims = jose.decodeJwt(second.access_token)
    expect(claims.aud).toBe(RESOURCE)
    expect(claims.sub).toBe("test-user")
  })
})

describe("TestIdp options", () => {
  it.each(["ES256", "EdDSA", "PS256", "Ed25519"] as const)("signs access tokens with %s", async (algorithm) => {
    const idp = await startTestIdp({ resource: RESOURCE, algorithm })
    try {
      const tokens = await getTokens({ idp, scope: "openid mcp" })
      const keySet = jose.createRemoteJWKSet(new URL(idp.jwksUri))
      const { protectedHeader } = await jose.jwtVerify(tokens.access_token, keySet, { issuer: idp.issuer, audience: RESOURCE })
      expect(protectedHeader.alg).toBe(algorithm)
      expect(jose.decodeProtectedHeader(tokens.id_token!).alg).toBe(algorithm)
      await jose.jwtVerify(tokens.id_token!, keySet, { issuer: idp.issuer, audience: tokens.clientId })
    } finally {
      await idp.close()
    }
  })

  it("injects JWKS faults on demand and counts key-set fetches", async () => {
    const idp = await startTestIdp({ resource: RESOURCE })
    try {
      idp.faults.jwks = "500"
      expect((await fetch(idp.jwksUri)).status).toBe(500)
      idp.faults.jwks = "html"
      const html = await fetch(idp.jwksUri)
      expect(html.headers.get("content-type")).toContain("text/html")
      await html.body?.cancel()
      idp.faults.jwks = "empty"
      expect(await (await fetch(idp.jwksUri)).json()).toEqual({ keys: [] })
      idp.faults.jwks = "timeout"
      await expect(fetch(idp.jwksUri, { signal: AbortSignal.timeout(150) })).rejects.toThrow()
      idp.faults.jwks = null
      expect(((await (await fetch(idp.jwksUri)).json()) as jose.JSONWebKeySet).keys).toHaveLength(1)
      expect(idp.requests("/jwks")).toBe(5)
      idp.resetRequests()
      expect(idp.requests("/jwks")).toBe(0)
    } finally {
      await idp.close()
    }
  })

  it("lets tests customize IdP-signed access tokens", async () => {
    const idp = await startTestIdp({
      resource: RESOURCE,
      customizeAccessToken: ({ header, payload }) => {
        header.typ = "JWT"
        payload.aud = ["https://other.example", RESOURCE]
        delete payload.client_id
      }
    })
    try {
      const { access_token } = await getTokens({ idp })
      expect(jose.decodeProtectedHeader(access_token).typ).toBe("JWT")
      const claims = jose.decodeJwt(access_token)
      expect(claims.aud).toEqual(["https://other.example", RESOURCE])
      expect(claims).not.toHaveProperty("client_id")
      await jose.jwtVerify(access_token, jose.createRemoteJWKSet(new URL(idp.jwksUri)), { audience: RESOURCE })
    } finally {
      await idp.close()
    }
  })

  it("plays a non-DCR upstream with a static confidential client, and auto-approves within a session", async () => {
    const idp = await startTestIdp({
      resource: [RESOURCE, "http://127.0.0.1:3999/other"],
      scopes: ["mcp", "mcp:admin"],
      registration: false,
      staticClients: [
        {
          client_id: "upstream-client",
          client_secret: "upstream-secret-with-enough-entropy",
          redirect_uris: [DEFAULT_REDIRECT_URI],
          grant_types: ["authorization_code", "refresh_token"],
          token_endpoint_auth_method: "client_secret_basic"
        }
      ],
      users: { carol: { email: "carol@example.com", name: "Carol" } }
    })
    try {
      const metadata = (await (await fetch(idp.url("/.well-known/openid-configuration"))).json()) as Record<string, unknown>
      expect(metadata).not.toHaveProperty("registration_endpoint")
      await expect(getTokens({ idp })).rejects.toThrow(/no dynamic client registration/)
      await expect(idp.registerClient({ redirect_uris: [DEFAULT_REDIRECT_URI] })).rejects.toThrow()

      const browser = new BrowserDriver()
      const options = { idp, clientId: "upstream-client", clientSecret: "upstream-secret-with-enough-entropy", browser }
      const first = await getTokens({ ...options, loginHint: "carol", scope: "openid email mcp mcp:admin" })
      expect(jose.decodeJwt(first.access_token)).toMatchObject({ sub: "carol", scope: "mcp mcp:admin", client_id: "upstream-client" })
      expect(jose.decodeJwt(first.id_token!)).toMatchObject({ sub: "carol" })
      const interactions = idp.requests("/interaction/*")
      expect(interactions).toBe(2) // login, then consent

      const second = await getTokens({ ...options, scope: "openid email mcp mcp:admin" })
      expect(jose.decodeJwt(second.access_token).sub).toBe("carol")
      expect(idp.requests("/interaction/*")).toBe(interactions)

      const other = await getTokens({ ...options, resource: "http://127.0.0.1:3999/other", loginHint: "carol" })
      expect(jose.decodeJwt(other.access_token).aud).toBe("http://127.0.0.1:3999/other")
      await expect(getTokens({ ...options, resource: "http://127.0.0.1:3999/unknown" })).rejects.toThrow(/invalid_target/)
    } finally {
      await idp.close()
    }
  })

  it("issues opaque tokens for opaque resources, introspectable and revocable (RFC 7662, RFC 7009)", async () => {
    const opaque = "http://127.0.0.1:3999/opaque"
    const rs = { client_id: "resource-server", client_secret: "resource-server-secret-0123456789" }
    const idp = await startTestIdp({
      resource: RESOURCE,
      opaqueResources: [opaque],
      staticClients: [{ ...rs, redirect_uris: [], response_types: [], grant_types: [] }]
    })
    try {
      const tokens = await getTokens({ idp, resource: opaque, loginHint: "dave" })
      expect(tokens.access_token.split(".")).toHaveLength(1)
      const basic = `Basic ${Buffer.from(`${rs.client_id}:${rs.client_secret}`).toString("base64")}`
      const introspect = async () =>
        (await (
          await fetch(idp.url("/token/introspection"), {
            method: "POST",
            headers: { authorization: basic, "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({ token: tokens.access_token })
          })
        ).json()) as Record<string, unknown>
      expect(await introspect()).toMatchObject({ active: true, sub: "dave", aud: opaque, scope: "mcp", client_id: tokens.clientId })

      const revoked = await fetch(idp.url("/token/revocation"), {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token: tokens.access_token, client_id: tokens.clientId })
      })
      expect(revoked.status).toBe(200)
      expect(await introspect()).toEqual({ active: false })
    } finally {
      await idp.close()
    }
  })
})
