import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connectSdkV1, connectSdkV2 } from "@mcp-oauth/testing"
import { type ProxyStack, startProxyStack } from "./support/proxyStack.js"

const clients = [
  ["SDK v1 (@modelcontextprotocol/sdk)", connectSdkV1],
  ["SDK v2 (@modelcontextprotocol/client)", connectSdkV2]
] as const

const whoami = async (session: { callTool: (name: string) => Promise<{ content: ReadonlyArray<{ text?: string }> }> }) =>
  JSON.parse((await session.callTool("whoami")).content[0]?.text ?? "null")

describe("OAuth proxy end to end on the node adapter (oidc-provider upstream without registration)", () => {
  let stack: ProxyStack
  beforeAll(async () => {
    stack = await startProxyStack()
  })
  afterAll(() => stack?.close())

  it("serves its own RFC 8414 metadata at both well-known paths and lists itself in the PRM", async () => {
    for (const path of ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]) {
      const response = await fetch(`${stack.origin}${path}`)
      expect(response.status).toBe(200)
      const metadata = (await response.json()) as Record<string, unknown>
      expect(metadata).toMatchObject({
        issuer: stack.origin,
        authorization_endpoint: `${stack.origin}/authorize`,
        token_endpoint: `${stack.origin}/token`,
        registration_endpoint: `${stack.origin}/register`,
        revocation_endpoint: `${stack.origin}/revoke`,
        code_challenge_methods_supported: ["S256"],
        authorization_response_iss_parameter_supported: true,
        response_types_supported: ["code"]
      })
      expect(metadata["grant_types_supported"]).toEqual(["authorization_code", "refresh_token"])
      expect(metadata["token_endpoint_auth_methods_supported"]).toContain("none")
    }
    const prm = (await (await fetch(`${stack.origin}/.well-known/oauth-protected-resource/mcp`)).json()) as Record<string, unknown>
    expect(prm["authorization_servers"]).toEqual([stack.origin])
  })

  describe.each(clients)("%s", (_name, connect) => {
    it("registers, approves the proxy's consent, signs in upstream, gets the proxy's tokens, calls a tool and refreshes", async () => {
      stack.idp.resetRequests()
      const session = await connect({ url: stack.resource, loginHint: "alice", approveConsent: true })
      try {
        const first = await whoami(session)
        expect(first.user.userId).toBe("alice")
        expect(first.issuer).toBe(stack.origin)
        const tokens = session.provider.tokens()!
        // the proxy's own token: issued by the proxy for this resource, not the upstream's
        const claims = JSON.parse(Buffer.from(tokens.access_token.split(".")[1]!, "base64url").toString())
        expect(claims.iss).toBe(stack.origin)
        expect(claims.aud).toBe(stack.resource)
        expect(typeof tokens.refresh_token).toBe("string")
        const authorization = new URL(session.provider.authorizationUrls[0]!)
        expect(authorization.origin).toBe(stack.origin)
        expect(authorization.searchParams.get("code_challenge_method")).toBe("S256")
        expect(authorization.searchParams.get("resource")).toBe(stack.resource)
        // the upstream saw exactly one code exchange, authenticated as the proxy's static client
        expect(stack.idp.requests("/token")).toBe(1)

        session.provider.expireAccessToken()
        expect((await whoami(session)).user.userId).toBe("alice")
        expect(session.provider.refreshCount).toBe(1)
        expect(session.provider.tokens()!.refresh_token).not.toBe(tokens.refresh_token)
        expect(session.provider.authorizationUrls).toHaveLength(1)
      } finally {
        await session.close()
      }
    })
  })

  it("answers 503, never 500, on its routes when the auth runtime is gone", async () => {
    const gone = await startProxyStack()
    try {
      await gone.auth.dispose()
      for (const [path, init] of [
        ["/token", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "grant_type=refresh_token" }],
        ["/authorize?client_id=x", {}],
        ["/register", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }]
      ] as const) {
        const response = await fetch(`${gone.origin}${path}`, { redirect: "manual", ...init })
        expect(response.status, path).toBe(503)
      }
    } finally {
      await gone.close()
    }
  })
})
