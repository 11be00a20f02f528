import { oauthAuth0Provider } from "@mcp-oauth/auth-core/providers/Auth0"
import { connectSdkV1, connectSdkV2, getTokens } from "@mcp-oauth/testing"
import * as jose from "jose"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { getJson, listTools, startProviderStack, whoami, type ProviderStack } from "./support/stack.js"

const rolesClaim = "https://mcp-oauth.test/roles"

/** Makes the IdP sign the next access tokens with another `iss`. */
const tamper: { issuer?: string | undefined } = {}

/**
 * oidc-provider configured like an Auth0 tenant: issuer with a trailing slash, keys at `/.well-known/jwks.json`,
 * Auth0's endpoint paths, and access tokens in Auth0's default profile (`typ: JWT`, `aud` with the userinfo URL,
 * `azp` instead of `client_id`, RBAC `permissions`, roles in a namespaced claim as an Action sets it, no profile claims).
 */
const auth0Like = {
  scopes: ["mcp", "read:reports"],
  issuerPath: "/",
  routes: {
    authorization: "/authorize",
    token: "/oauth/token",
    jwks: "/.well-known/jwks.json",
    registration: "/oidc/register",
    userinfo: "/userinfo",
    revocation: "/oauth/revoke"
  },
  users: {
    alice: { email: "alice@example.com", name: "Alice", roles: ["admin"], permissions: ["read:reports", "write:reports"] },
    bob: { email: "bob@example.com", roles: ["viewer"], permissions: ["read:reports"] }
  },
  customizeAccessToken: ({ header, payload }: { header: Record<string, unknown>; payload: Record<string, unknown> }) => {
    header["typ"] = "JWT"
    const issuer = String(payload["iss"])
    payload["aud"] = [payload["aud"], `${issuer}userinfo`]
    payload["azp"] = payload["client_id"]
    delete payload["client_id"]
    if (payload["roles"] !== undefined) payload[rolesClaim] = payload["roles"]
    delete payload["roles"]
    delete payload["email"]
    delete payload["name"]
    if (tamper.issuer !== undefined) payload["iss"] = tamper.issuer
  }
}

describe("Auth0-like identity provider, end to end", () => {
  let stack: ProviderStack
  beforeAll(async () => {
    stack = await startProviderStack(auth0Like, (idp) => oauthAuth0Provider({ domain: new URL(idp.issuer).origin, rolesClaim }))
  })
  afterAll(() => stack.close())

  it("plays Auth0: trailing-slash issuer and keys at /.well-known/jwks.json", async () => {
    expect(stack.idp.issuer.endsWith("/")).toBe(true)
    const metadata = await getJson(`${stack.idp.issuer}.well-known/openid-configuration`)
    expect(metadata["issuer"]).toBe(stack.idp.issuer)
    expect(metadata["jwks_uri"]).toBe(`${stack.idp.issuer}.well-known/jwks.json`)
    expect(stack.auth.warnings).toEqual([])
  })

  it("names the trailing-slash issuer in the protected resource metadata and mirrors its document intact", async () => {
    const prm = await getJson(`${stack.origin}/.well-known/oauth-protected-resource/mcp`)
    expect(prm["authorization_servers"]).toEqual([stack.idp.issuer])
    const upstream = await getJson(`${stack.idp.issuer}.well-known/openid-configuration`)
    for (const path of ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]) {
      const mirrored = await getJson(`${stack.origin}${path}`)
      expect(mirrored["issuer"]).toBe(stack.idp.issuer)
      expect(mirrored["authorization_endpoint"]).toBe(upstream["authorization_endpoint"])
      expect(mirrored["registration_endpoint"]).toBe(`${stack.idp.issuer}oidc/register`)
    }
  })

  describe.each([
    ["SDK v1 (@modelcontextprotocol/sdk)", connectSdkV1],
    ["SDK v2 (@modelcontextprotocol/client)", connectSdkV2]
  ] as const)("%s", (_name, connect) => {
    it("discovers, registers, authorizes with resource, and a tool reads the user's roles and permissions", async () => {
      stack.idp.resetRequests()
      const session = await connect({ url: stack.resource, loginHint: "alice" })
      try {
        const result = await whoami(session)
        expect(result.user).toEqual({ userId: "alice", roles: ["admin"], permissions: ["read:reports", "write:reports"] })
        expect(result.scopes).toContain("mcp")
        // Auth0's default profile has no client_id: the verifier takes azp
        expect(result.clientId).toBe(session.provider.clientInformation()?.client_id)

        const authorization = new URL(session.provider.authorizationUrls[0]!)
        expect(`${authorization.origin}${authorization.pathname}`).toBe(`${stack.idp.issuer}authorize`)
        expect(authorization.searchParams.get("resource")).toBe(stack.resource)
        expect(authorization.searchParams.get("code_challenge_method")).toBe("S256")
        expect(stack.idp.requests("/oidc/register")).toBe(1)

        const claims = jose.decodeJwt(session.provider.tokens()!.access_token)
        expect(claims.iss).toBe(stack.idp.issuer)
        expect(claims.aud).toEqual([stack.resource, `${stack.idp.issuer}userinfo`])
        expect(claims[rolesClaim]).toEqual(["admin"])
      } finally {
        await session.close()
      }
    })

    it("keeps users apart: another account sees its own roles and permissions", async () => {
      const session = await connect({ url: stack.resource, loginHint: "bob" })
      try {
        expect((await whoami(session)).user).toEqual({ userId: "bob", roles: ["viewer"], permissions: ["read:reports"] })
      } finally {
        await session.close()
      }
    })
  })

  it("refuses a token the tenant signed under the slash-less issuer", async () => {
    const good = await getTokens({ idp: stack.idp, loginHint: "alice", scope: "mcp" })
    expect((await listTools(stack.origin, good.access_token)).status).toBe(200)
    tamper.issuer = stack.idp.issuer.replace(/\/$/, "")
    try {
      const slashless = await getTokens({ idp: stack.idp, loginHint: "alice", scope: "mcp" })
      // signed by the IdP's own key: only the issuer string differs
      await jose.jwtVerify(slashless.access_token, jose.createRemoteJWKSet(new URL(stack.idp.jwksUri)))
      expect(jose.decodeJwt(slashless.access_token).iss).toBe(tamper.issuer)
      const response = await listTools(stack.origin, slashless.access_token)
      expect(response.status).toBe(401)
      expect(response.headers.get("www-authenticate")).toMatch(/error="invalid_token"/)
    } finally {
      tamper.issuer = undefined
    }
  })
})
