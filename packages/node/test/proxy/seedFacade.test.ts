/**
 * The `MCPServer` facade with the seed framework's `oauthProxy({ authEndpoint, tokenEndpoint, clientId, clientSecret,
 * scopes, verifyToken })`: explicit endpoints, and `verifyToken` finding the user behind the upstream token once per
 * sign-in. The client still gets the proxy's tokens, and an upstream token is still refused at /mcp.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { oauthProxy } from "@mcp-oauth/auth-core"
import { connectSdkV2, getTokens, startTestIdp, type TestIdp } from "@mcp-oauth/testing"
import * as jose from "jose"
import { MCPServer } from "../../src/server.js"
import { freePort } from "../support/harness.js"
import { UPSTREAM_CLIENT_ID, UPSTREAM_SECRET, whoami } from "./support/proxyStack.js"

describe("MCPServer with the seed-shaped oauthProxy", () => {
  let idp: TestIdp
  let server: MCPServer
  let origin: string
  const verified: Array<string> = []
  beforeAll(async () => {
    const port = await freePort()
    origin = `http://127.0.0.1:${port}`
    idp = await startTestIdp({
      resource: `${origin}/mcp`,
      registration: false,
      staticClients: [
        {
          client_id: UPSTREAM_CLIENT_ID,
          client_secret: UPSTREAM_SECRET,
          redirect_uris: [`${origin}/oauth/callback`],
          grant_types: ["authorization_code", "refresh_token"],
          token_endpoint_auth_method: "client_secret_basic"
        }
      ]
    })
    const keys = jose.createRemoteJWKSet(new URL(idp.jwksUri))
    server = new MCPServer({
      name: "seed-shaped",
      version: "0.0.0",
      baseUrl: origin,
      scopes: ["mcp"],
      oauth: oauthProxy({
        authEndpoint: idp.url("/auth"),
        tokenEndpoint: idp.url("/token"),
        clientId: UPSTREAM_CLIENT_ID,
        clientSecret: UPSTREAM_SECRET,
        scopes: ["openid"],
        verifyToken: async (token) => {
          const { payload } = await jose.jwtVerify(token, keys, { issuer: idp.issuer })
          verified.push(String(payload.sub))
          return { subject: String(payload.sub), claims: { email: `${String(payload.sub)}@example.com` } }
        }
      })
    })
    server.tool({ name: "whoami", cb: (_params, context) => ({ user: context.auth.user }) })
    await server.listen(port)
  })
  afterAll(async () => {
    await server?.close()
    await idp?.close()
  })

  it("signs in through the proxy; verifyToken sees the upstream token once, the client never does", async () => {
    const session = await connectSdkV2({ url: `${origin}/mcp`, loginHint: "gina", approveConsent: true })
    try {
      const result = JSON.parse((await session.callTool("whoami")).content[0]?.text ?? "null")
      expect(result.user).toMatchObject({ userId: "gina", email: "gina@example.com" })
      expect(verified).toEqual(["gina"])
      const claims = jose.decodeJwt(session.provider.tokens()!.access_token)
      expect(claims.iss).toBe(origin)
    } finally {
      await session.close()
    }
    const upstream = await getTokens({
      idp,
      clientId: UPSTREAM_CLIENT_ID,
      clientSecret: UPSTREAM_SECRET,
      redirectUri: `${origin}/oauth/callback`,
      scope: "openid mcp"
    })
    expect((await whoami(`${origin}/mcp`, upstream.access_token)).status).toBe(401)
  })
})
