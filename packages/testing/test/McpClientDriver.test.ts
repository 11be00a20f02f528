import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js"
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js"
import * as jose from "jose"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connectSdkV1, connectSdkV2, startTestIdp } from "../src/index.js"
import type { DriverDiscoveryState, McpClientSession, TestIdp } from "../src/index.js"

/** A minimal protected MCP server: PRM, a bearer check against the IdP's JWKS, and a `whoami` tool. */
interface ProtectedServer {
  readonly url: string
  readonly origin: string
  /** Responses by outcome, to see 401s and refreshes. */
  readonly stats: { ok: number; missing: number; invalid: number }
  attach(idp: TestIdp): void
  close(): Promise<void>
}

const startProtectedServer = async (): Promise<ProtectedServer> => {
  let idp: TestIdp | undefined
  let jwks: ReturnType<typeof jose.createRemoteJWKSet> | undefined
  const stats = { ok: 0, missing: 0, invalid: 0 }
  let origin = ""
  const prmUrl = () => `${origin}/.well-known/oauth-protected-resource/mcp`

  const server = http.createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", origin).pathname
    if (path === "/.well-known/oauth-protected-resource/mcp" || path === "/.well-known/oauth-protected-resource") {
      res.writeHead(200, { "content-type": "application/json" })
      res.end(
        JSON.stringify({
          resource: `${origin}/mcp`,
          authorization_servers: [idp!.issuer],
          scopes_supported: ["mcp"],
          bearer_methods_supported: ["header"]
        })
      )
      return
    }
    if (path !== "/mcp") {
      res.writeHead(404).end()
      return
    }
    const header = req.headers.authorization
    if (header === undefined || !header.startsWith("Bearer ")) {
      stats.missing++
      res.writeHead(401, { "www-authenticate": `Bearer resource_metadata="${prmUrl()}"` }).end()
      return
    }
    const token = header.slice("Bearer ".length)
    let payload: jose.JWTPayload
    try {
      ;({ payload } = await jose.jwtVerify(token, jwks!, {
        issuer: idp!.issuer,
        audience: `${origin}/mcp`,
        typ: "at+jwt",
        algorithms: ["RS256"]
      }))
    } catch {
      stats.invalid++
      res
        .writeHead(401, { "www-authenticate": `Bearer error="invalid_token", resource_metadata="${prmUrl()}"` })
        .end()
      return
    }
    stats.ok++
    const auth: AuthInfo = {
      token,
      clientId: String(payload.client_id),
      scopes: typeof payload.scope === "string" ? payload.scope.split(" ") : [],
      ...(payload.exp === undefined ? {} : { expiresAt: payload.exp }),
      extra: { sub: payload.sub }
    }
    const mcp = new McpServer({ name: "protected", version: "1.0.0" })
    mcp.registerTool("whoami", { description: "The caller's subject" }, (extra) => ({
      content: [{ type: "text", text: String(extra.authInfo?.extra?.sub) }]
    }))
    const transport = new StreamableHTTPServerTransport({}) // stateless: no session ids
    res.on("close", () => {
      void transport.close()
      void mcp.close()
    })
    await mcp.connect(transport)
    await transport.handleRequest(Object.assign(req, { auth }), res)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url: `${origin}/mcp`,
    origin,
    stats,
    attach: (value) => {
      idp = value
      jwks = jose.createRemoteJWKSet(new URL(value.jwksUri))
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}

const textOf = (result: { content: ReadonlyArray<{ text?: string }> }) => result.content[0]?.text

const drivers = { v1: connectSdkV1, v2: connectSdkV2 } as const

describe("MCP SDK client drivers against a protected server and the test IdP", () => {
  let server: ProtectedServer
  let idp: TestIdp
  const sessions = new Map<string, McpClientSession<unknown, DriverDiscoveryState>>()
  const session = (version: string) => sessions.get(version)!

  beforeAll(async () => {
    server = await startProtectedServer()
    idp = await startTestIdp({ resource: server.url, accessTokenTtlSeconds: 2 })
    server.attach(idp)
  })
  afterAll(async () => {
    for (const s of sessions.values()) await s.close()
    await server.close()
    await idp.close()
  })

  for (const [version, connect] of Object.entries(drivers)) {
    it(`${version}: discovery → DCR → authorize (S256 + resource) → token → tool call`, async () => {
      const registrations = idp.requests("/reg")
      const s = await connect({ url: server.url, loginHint: `alice-${version}` })
      sessions.set(version, s)
      const [authorizationUrl] = s.provider.authorizationUrls
      expect(authorizationUrl?.origin).toBe(idp.issuer)
      expect(authorizationUrl?.searchParams.get("code_challenge_method")).toBe("S256")
      expect(authorizationUrl?.searchParams.get("resource")).toBe(server.url)
      expect(authorizationUrl?.searchParams.get("state")).toBeTruthy()
      expect(s.provider.clientInformation()?.client_id).toBeTypeOf("string")
      expect(idp.requests("/reg")).toBe(registrations + 1)

      const tokens = s.provider.tokens()!
      expect(jose.decodeProtectedHeader(tokens.access_token).typ).toBe("at+jwt")
      expect(jose.decodeJwt(tokens.access_token)).toMatchObject({ sub: `alice-${version}`, aud: server.url, iss: idp.issuer })
      expect(tokens.refresh_token).toBeTypeOf("string")

      expect(textOf(await s.callTool("whoami"))).toBe(`alice-${version}`)
    })

    it(`${version}: refreshes when the server rejects the access token (no waiting)`, async () => {
      const s = session(version)
      const before = s.provider.refreshCount
      const invalidBefore = server.stats.invalid
      s.provider.expireAccessToken()
      expect(textOf(await s.callTool("whoami"))).toBe(`alice-${version}`)
      expect(server.stats.invalid).toBe(invalidBefore + 1)
      expect(s.provider.refreshCount).toBe(before + 1)
      expect(s.provider.authorizationUrls).toHaveLength(1)
    })
  }

  it("both refresh after real expiry (2 s access-token lifetime, one wait)", async () => {
    const before = new Map([...sessions].map(([v, s]) => [v, s.provider.refreshCount]))
    const expiries = [...sessions.values()].map((s) => jose.decodeJwt(s.provider.tokens()!.access_token).exp!)
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.max(...expiries) * 1000 - Date.now()) + 150))
    for (const [version, s] of sessions) {
      expect(textOf(await s.callTool("whoami"))).toBe(`alice-${version}`)
      expect(s.provider.refreshCount).toBe(before.get(version)! + 1)
      expect(s.provider.authorizationUrls).toHaveLength(1)
    }
  })
})
