import { oauthWorkOSProvider } from "@mcp-oauth/auth-core/providers/WorkOS"
import { connectSdkV1, connectSdkV2, getTokens } from "@mcp-oauth/testing"
import * as jose from "jose"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { getJson, listTools, startProviderStack, whoami, type ProviderStack } from "./support/stack.js"

/** Makes the IdP put another audience into the next access tokens (AuthKit without a resource indicator). */
const tamper: { audience?: string | undefined } = {}
const environmentClientId = "client_01JZM53FW3WYV08AFC4QWQ3BNB"

/**
 * oidc-provider configured like a WorkOS AuthKit domain: the origin as issuer, endpoints under `/oauth2/`, keys at
 * `/oauth2/jwks`, and Connect tokens carrying `org_id` and `sid` but no profile, roles or permissions.
 */
const authKitLike = {
  routes: {
    authorization: "/oauth2/authorize",
    token: "/oauth2/token",
    jwks: "/oauth2/jwks",
    registration: "/oauth2/register",
    userinfo: "/oauth2/userinfo",
    introspection: "/oauth2/introspection"
  },
  users: { "user_01HBEQKA6K4QJAS93VPE39W1JT": { email: "ada@example.com", roles: ["admin"] } },
  customizeAccessToken: ({ payload }: { header: Record<string, unknown>; payload: Record<string, unknown> }) => {
    payload["org_id"] = "org_01HRDMC6CM357W30QMHMQ96Q0S"
    payload["sid"] = "consent_01HQSXZGF8FHF7A9ZZFCW4387R"
    for (const claim of ["email", "name", "roles", "permissions"]) delete payload[claim]
    if (tamper.audience !== undefined) payload["aud"] = tamper.audience
  }
}

describe("WorkOS AuthKit-like identity provider, end to end", () => {
  let stack: ProviderStack
  beforeAll(async () => {
    stack = await startProviderStack(authKitLike, (idp) => oauthWorkOSProvider({ domain: idp.issuer }))
  })
  afterAll(() => stack.close())

  it("lists the AuthKit issuer and mirrors its metadata with the issuer intact", async () => {
    expect(stack.auth.warnings).toEqual([])
    const prm = await getJson(`${stack.origin}/.well-known/oauth-protected-resource/mcp`)
    expect(prm["authorization_servers"]).toEqual([stack.idp.issuer])
    for (const path of ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]) {
      const mirrored = await getJson(`${stack.origin}${path}`)
      expect(mirrored["issuer"]).toBe(stack.idp.issuer)
      expect(mirrored["jwks_uri"]).toBe(`${stack.idp.issuer}/oauth2/jwks`)
      expect(mirrored["registration_endpoint"]).toBe(`${stack.idp.issuer}/oauth2/register`)
    }
  })

  describe.each([
    ["SDK v1 (@modelcontextprotocol/sdk)", connectSdkV1],
    ["SDK v2 (@modelcontextprotocol/client)", connectSdkV2]
  ] as const)("%s", (_name, connect) => {
    it("completes the flow; the tool sees the WorkOS user, its client and its organization", async () => {
      stack.idp.resetRequests()
      const session = await connect({ url: stack.resource, loginHint: "user_01HBEQKA6K4QJAS93VPE39W1JT" })
      try {
        const result = await whoami(session)
        expect(result.user).toEqual({ userId: "user_01HBEQKA6K4QJAS93VPE39W1JT", roles: [], permissions: [] })
        expect(result.clientId).toBe(session.provider.clientInformation()?.client_id)
        const authorization = new URL(session.provider.authorizationUrls[0]!)
        expect(authorization.pathname).toBe("/oauth2/authorize")
        expect(authorization.searchParams.get("resource")).toBe(stack.resource)
        expect(stack.idp.requests("/oauth2/jwks")).toBeLessThanOrEqual(1)
        expect(jose.decodeJwt(session.provider.tokens()!.access_token)["org_id"]).toBe("org_01HRDMC6CM357W30QMHMQ96Q0S")
      } finally {
        await session.close()
      }
    })
  })

  it("refuses tokens whose audience is the environment client id (no resource indicator configured)", async () => {
    tamper.audience = environmentClientId
    try {
      const { access_token } = await getTokens({ idp: stack.idp, scope: "mcp" })
      expect(jose.decodeJwt(access_token).aud).toBe(environmentClientId)
      const response = await listTools(stack.origin, access_token)
      expect(response.status).toBe(401)
      expect(response.headers.get("www-authenticate")).toMatch(/error="invalid_token"/)
    } finally {
      tamper.audience = undefined
    }
  })
})
