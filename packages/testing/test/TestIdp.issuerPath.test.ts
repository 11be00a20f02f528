import * as jose from "jose"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { discoverEndpoints, getTokens, refreshTokens, startTestIdp } from "../src/index.js"
import type { TestIdp } from "../src/index.js"

const RESOURCE = "http://127.0.0.1:3999/mcp"

const json = async (url: string): Promise<Record<string, unknown>> => {
  const response = await fetch(url, { headers: { accept: "application/json" } })
  expect(response.status).toBe(200)
  return (await response.json()) as Record<string, unknown>
}

describe("TestIdp issuerPath: a Keycloak-like realm", () => {
  let idp: TestIdp
  beforeAll(async () => {
    idp = await startTestIdp({
      resource: RESOURCE,
      issuerPath: "/realms/test",
      routes: {
        authorization: "/protocol/openid-connect/auth",
        token: "/protocol/openid-connect/token",
        jwks: "/protocol/openid-connect/certs",
        userinfo: "/protocol/openid-connect/userinfo",
        registration: "/clients-registrations/openid-connect"
      }
    })
  })
  afterAll(() => idp.close())

  it("puts the realm path into the issuer and every endpoint", async () => {
    const origin = new URL(idp.issuer).origin
    expect(idp.issuer).toBe(`${origin}/realms/test`)
    expect(idp.jwksUri).toBe(`${origin}/realms/test/protocol/openid-connect/certs`)
    expect(idp.url("/.well-known/openid-configuration")).toBe(`${origin}/realms/test/.well-known/openid-configuration`)
    const metadata = await json(idp.url("/.well-known/openid-configuration"))
    expect(metadata).toMatchObject({
      issuer: idp.issuer,
      jwks_uri: idp.jwksUri,
      authorization_endpoint: `${idp.issuer}/protocol/openid-connect/auth`,
      token_endpoint: `${idp.issuer}/protocol/openid-connect/token`,
      registration_endpoint: `${idp.issuer}/clients-registrations/openid-connect`
    })
    const jwks = (await json(idp.jwksUri)) as unknown as jose.JSONWebKeySet
    expect(jwks.keys).toHaveLength(1)
  })

  it("serves nothing outside the realm (no RFC 8414 path-inserted document, no root discovery)", async () => {
    const origin = new URL(idp.issuer).origin
    for (const path of ["/.well-known/oauth-authorization-server/realms/test", "/.well-known/openid-configuration", "/jwks"]) {
      const response = await fetch(`${origin}${path}`)
      await response.body?.cancel()
      expect(response.status, path).toBe(404)
    }
  })

  it("is found by discoverEndpoints through the OpenID Connect fallback", async () => {
    const endpoints = await discoverEndpoints(idp.issuer)
    expect(endpoints.issuer).toBe(idp.issuer)
    expect(endpoints.token_endpoint).toBe(`${idp.issuer}/protocol/openid-connect/token`)
  })

  it("runs a code flow through the mounted interaction route and signs tokens with the realm issuer", async () => {
    idp.resetRequests()
    const tokens = await getTokens({ idp, loginHint: "alice", scope: "openid mcp" })
    const keySet = jose.createRemoteJWKSet(new URL(idp.jwksUri))
    const { payload } = await jose.jwtVerify(tokens.access_token, keySet, { issuer: idp.issuer, audience: RESOURCE, typ: "at+jwt" })
    expect(payload.sub).toBe("alice")
    expect(payload.iss).toBe(idp.issuer)
    await jose.jwtVerify(tokens.id_token!, keySet, { issuer: idp.issuer, audience: tokens.clientId })
    expect(idp.requests("/realms/test/interaction/*")).toBeGreaterThan(0)
    expect(idp.requests("/interaction/*")).toBe(0)
    const refreshed = await refreshTokens({ idp, clientId: tokens.clientId, refreshToken: tokens.refresh_token! })
    expect(jose.decodeJwt(refreshed.access_token).iss).toBe(idp.issuer)
  })

  it("registers clients at the mounted registration route and faults the mounted key set", async () => {
    const client = await idp.registerClient({ redirect_uris: ["http://127.0.0.1:65535/callback"], token_endpoint_auth_method: "none" })
    expect(client.registration_client_uri).toMatch(new RegExp(`^${idp.issuer}/clients-registrations/openid-connect/`))
    idp.faults.jwks = "500"
    try {
      const response = await fetch(idp.jwksUri)
      await response.body?.cancel()
      expect(response.status).toBe(500)
    } finally {
      idp.faults.jwks = null
    }
    expect(idp.requests("/realms/test/protocol/openid-connect/certs")).toBeGreaterThan(0)
  })
})

describe("TestIdp issuerPath: oidc-provider's routes under a path", () => {
  it("mounts the default routes under the path", async () => {
    const idp = await startTestIdp({ resource: RESOURCE, issuerPath: "/tenant/a" })
    try {
      expect(idp.jwksUri).toBe(`${idp.issuer}/jwks`)
      const metadata = await json(idp.url("/.well-known/oauth-authorization-server"))
      expect(metadata.issuer).toBe(idp.issuer)
      expect(metadata.registration_endpoint).toBe(`${idp.issuer}/reg`)
      const tokens = await getTokens({ idp })
      expect(jose.decodeJwt(tokens.access_token).iss).toBe(idp.issuer)
    } finally {
      await idp.close()
    }
  })
})

describe("TestIdp issuerPath: an Auth0-like trailing-slash issuer", () => {
  let idp: TestIdp
  beforeAll(async () => {
    idp = await startTestIdp({ resource: RESOURCE, issuerPath: "/", algorithm: "ES256" })
  })
  afterAll(() => idp.close())

  it("keeps the trailing slash in the issuer, discovery and tokens", async () => {
    const origin = new URL(idp.issuer).origin
    expect(idp.issuer).toBe(`${origin}/`)
    expect(idp.jwksUri).toBe(`${origin}/jwks`)
    expect(idp.url("/.well-known/openid-configuration")).toBe(`${origin}/.well-known/openid-configuration`)
    const metadata = await json(idp.url("/.well-known/openid-configuration"))
    expect(metadata.issuer).toBe(idp.issuer)
    expect(metadata.jwks_uri).toBe(idp.jwksUri)
    expect(metadata.token_endpoint).toBe(`${origin}/token`)
    expect((await discoverEndpoints(idp.issuer)).issuer).toBe(idp.issuer)

    const tokens = await getTokens({ idp, scope: "openid mcp" })
    const keySet = jose.createRemoteJWKSet(new URL(idp.jwksUri))
    const { payload, protectedHeader } = await jose.jwtVerify(tokens.access_token, keySet, { issuer: idp.issuer, audience: RESOURCE })
    expect(payload.iss).toBe(`${origin}/`)
    expect(protectedHeader.alg).toBe("ES256")
    expect(jose.decodeJwt(tokens.id_token!).iss).toBe(`${origin}/`)
  })

  it("refuses an issuerPath without a leading slash", async () => {
    await expect(startTestIdp({ resource: RESOURCE, issuerPath: "realms/x" })).rejects.toThrow(/issuerPath/)
  })
})
