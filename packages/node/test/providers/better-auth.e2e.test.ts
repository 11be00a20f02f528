import * as BetterAuth from "@mcp-oauth/auth-core/providers/BetterAuth"
import { connectSdkV1, connectSdkV2, getTokens } from "@mcp-oauth/testing"
import * as jose from "jose"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { getJson, startProviderStack, whoami, type ProviderStack } from "./support/providerStack.js"

const clients = [
  ["SDK v1 (@modelcontextprotocol/sdk)", connectSdkV1],
  ["SDK v2 (@modelcontextprotocol/client)", connectSdkV2]
] as const

describe("Better Auth provider end to end (oidc-provider laid out as a Better Auth app with the MCP plugin)", () => {
  let stack: ProviderStack
  beforeAll(async () => {
    stack = await startProviderStack(
      {
        issuerPath: "/api/auth",
        routes: {
          jwks: "/jwks",
          authorization: "/oauth2/authorize",
          token: "/oauth2/token",
          registration: "/oauth2/register",
          userinfo: "/oauth2/userinfo",
          introspection: "/oauth2/introspect",
          revocation: "/oauth2/revoke"
        },
        // the JWT plugin's default key pair
        algorithm: "EdDSA",
        scopes: ["mcp:tools"],
        users: { lin: { email: "lin@example.com", name: "Lin" } },
        customizeAccessToken: ({ header, payload }) => {
          header["typ"] = "at+jwt"
          payload["azp"] = payload["client_id"]
        }
      },
      (idp) => BetterAuth.layer({ url: new URL(idp.issuer).origin }),
      ["mcp:tools"]
    )
  })
  afterAll(() => stack.close())

  it("plays Better Auth's layout: issuer {baseURL}/api/auth, EdDSA keys at /api/auth/jwks", async () => {
    const origin = new URL(stack.idp.issuer).origin
    expect(stack.idp.issuer).toBe(`${origin}/api/auth`)
    expect(stack.idp.jwksUri).toBe(`${origin}/api/auth/jwks`)
    const tokens = await getTokens({ idp: stack.idp, loginHint: "lin", scope: "mcp:tools" })
    expect(jose.decodeProtectedHeader(tokens.access_token)).toMatchObject({ alg: "EdDSA", typ: "at+jwt" })
    expect(jose.decodeJwt(tokens.access_token)).toMatchObject({ iss: stack.idp.issuer, aud: stack.resource })
  })

  it("starts without warnings and mirrors the app's metadata, issuer intact", async () => {
    expect(stack.warnings).toEqual([])
    const { status, body } = await getJson(`${stack.origin}/.well-known/oauth-authorization-server`)
    expect(status).toBe(200)
    expect(body["issuer"]).toBe(stack.idp.issuer)
    expect(body["registration_endpoint"]).toBe(`${stack.idp.issuer}/oauth2/register`)
  })

  describe.each(clients)("%s", (_name, connect) => {
    it("discovers, registers, authorizes with resource, and the tool sees the Better Auth user", async () => {
      const session = await connect({ url: stack.resource, loginHint: "lin", scope: "mcp:tools" })
      try {
        const result = await whoami(session)
        expect(result.user).toEqual({ userId: "lin", email: "lin@example.com", name: "Lin", roles: [], permissions: [] })
        expect(result.scopes).toContain("mcp:tools")
        expect(new URL(session.provider.authorizationUrls[0]!).pathname).toBe("/api/auth/oauth2/authorize")
      } finally {
        await session.close()
      }
    })
  })
})
