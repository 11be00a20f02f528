import { oauthClerkProvider } from "@mcp-oauth/auth-core/providers/Clerk"
import { connectSdkV1, connectSdkV2, getTokens } from "@mcp-oauth/testing"
import * as jose from "jose"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { getJson, listTools, startProviderStack, whoami, type ProviderStack } from "./support/stack.js"

/** Makes the IdP sign the next access tokens with another `typ` (a session token's `JWT`). */
const tamper: { typ?: string | undefined } = {}

/**
 * oidc-provider configured like a Clerk Frontend API: the origin as issuer, OAuth endpoints under `/oauth/`, keys at
 * `/.well-known/jwks.json`, JWT access tokens typed `at+jwt` with `client_id` and `scope`.
 */
const clerkLike = {
  routes: {
    authorization: "/oauth/authorize",
    token: "/oauth/token",
    jwks: "/.well-known/jwks.json",
    registration: "/oauth/register",
    userinfo: "/oauth/userinfo",
    introspection: "/oauth/token_info"
  },
  users: { user_2g7np7Hrk0SN6kj5EDMLDaKNL0S: { email: "grace@example.com", name: "Grace" } },
  customizeAccessToken: ({ header }: { header: Record<string, unknown>; payload: Record<string, unknown> }) => {
    if (tamper.typ !== undefined) header["typ"] = tamper.typ
  }
}

describe("Clerk-like identity provider, end to end", () => {
  let stack: ProviderStack
  beforeAll(async () => {
    stack = await startProviderStack(clerkLike, (idp) => oauthClerkProvider({ domain: idp.issuer }))
  })
  afterAll(() => stack.close())

  it("lists the Frontend API as issuer and mirrors its metadata with the issuer intact", async () => {
    expect(stack.auth.warnings).toEqual([])
    const prm = await getJson(`${stack.origin}/.well-known/oauth-protected-resource`)
    expect(prm["authorization_servers"]).toEqual([stack.idp.issuer])
    for (const path of ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]) {
      const mirrored = await getJson(`${stack.origin}${path}`)
      expect(mirrored["issuer"]).toBe(stack.idp.issuer)
      expect(mirrored["jwks_uri"]).toBe(`${stack.idp.issuer}/.well-known/jwks.json`)
    }
  })

  describe.each([
    ["SDK v1 (@modelcontextprotocol/sdk)", connectSdkV1],
    ["SDK v2 (@modelcontextprotocol/client)", connectSdkV2]
  ] as const)("%s", (_name, connect) => {
    it("completes the flow with an at+jwt access token bound to this server", async () => {
      const session = await connect({ url: stack.resource, loginHint: "user_2g7np7Hrk0SN6kj5EDMLDaKNL0S" })
      try {
        const result = await whoami(session)
        expect(result.user).toEqual({ userId: "user_2g7np7Hrk0SN6kj5EDMLDaKNL0S", email: "grace@example.com", name: "Grace", roles: [], permissions: [] })
        const token = session.provider.tokens()!.access_token
        expect(jose.decodeProtectedHeader(token).typ).toBe("at+jwt")
        expect(jose.decodeJwt(token).aud).toBe(stack.resource)
      } finally {
        await session.close()
      }
    })
  })

  it("refuses a token from the same issuer and keys that is not typed at+jwt (a session token)", async () => {
    tamper.typ = "JWT"
    try {
      const { access_token } = await getTokens({ idp: stack.idp, scope: "mcp" })
      expect(jose.decodeProtectedHeader(access_token).typ).toBe("JWT")
      const response = await listTools(stack.origin, access_token)
      expect(response.status).toBe(401)
      expect(response.headers.get("www-authenticate")).toMatch(/error="invalid_token"/)
    } finally {
      tamper.typ = undefined
    }
  })
})
