import * as jose from "jose"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Challenge } from "@mcp-oauth/auth-core"
import { getTokens } from "@mcp-oauth/testing"
import { callTool, freePort, startProtected, startStack } from "./support/harness.js"
import { rawRequest } from "./support/rawRequest.js"

type Stack = Awaited<ReturnType<typeof startStack>>

const toolResult = async (response: Response) => {
  const text = await response.text()
  // the SDK answers with JSON or a single SSE event, depending on Accept negotiation
  const json = text.startsWith("{") ? text : (text.split("\n").find((l) => l.startsWith("data:")) ?? "").slice(5)
  return JSON.parse(JSON.parse(json).result.content[0].text)
}

describe("node adapter", () => {
  let stack: Stack
  let token: string
  beforeAll(async () => {
    stack = await startStack()
    token = (await getTokens({ idp: stack.idp, scope: "mcp" })).access_token
  })
  afterAll(() => stack.close())

  it("serves protected resource metadata at the path-suffixed and root well-known URLs", async () => {
    const expected = {
      resource: stack.server.resource,
      authorization_servers: [stack.idp.issuer],
      scopes_supported: ["mcp"],
      bearer_methods_supported: ["header"],
      resource_name: "test"
    }
    for (const path of ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]) {
      const response = await fetch(`${stack.server.origin}${path}`, { headers: { "mcp-protocol-version": "2025-11-25" } })
      expect(response.status).toBe(200)
      expect(response.headers.get("content-type")).toBe("application/json")
      expect(response.headers.get("access-control-allow-origin")).toBe("*")
      expect(await response.json()).toEqual(expected)
    }
    expect(stack.server.metadataUrl).toBe(`${stack.server.origin}/.well-known/oauth-protected-resource/mcp`)
  })

  it("mirrors the identity provider's metadata at both well-known AS paths, fetched once, issuer intact", async () => {
    const upstream = await (await fetch(`${stack.idp.issuer}/.well-known/oauth-authorization-server`)).json()
    stack.idp.resetRequests()
    for (const path of ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"]) {
      const response = await fetch(`${stack.server.origin}${path}`)
      expect(response.status).toBe(200)
      const document = await response.json()
      expect(document.issuer).toBe(stack.idp.issuer)
      expect(document.authorization_endpoint).toBe(upstream.authorization_endpoint)
      expect(document.code_challenge_methods_supported).toContain("S256")
    }
    // three mirrored answers, one upstream fetch: the document is cached, never refetched per request
    expect(stack.idp.requests("/.well-known/oauth-authorization-server") + stack.idp.requests("/.well-known/openid-configuration")).toBe(1)
  })

  it("answers metadata preflights allowing MCP-Protocol-Version", async () => {
    const response = await fetch(`${stack.server.origin}/.well-known/oauth-protected-resource/mcp`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "GET", "access-control-request-headers": "mcp-protocol-version" }
    })
    expect(response.status).toBe(204)
    expect(response.headers.get("access-control-allow-headers")).toMatch(/MCP-Protocol-Version/i)
  })

  it("answers a request without credentials with a 401 challenge that has no error", async () => {
    const response = await callTool(stack.server.origin, undefined)
    expect(response.status).toBe(401)
    expect(response.headers.get("www-authenticate")).toBe(
      `Bearer resource_metadata="${stack.server.metadataUrl}", scope="mcp"`
    )
    expect(response.headers.get("access-control-expose-headers")).toMatch(/WWW-Authenticate/)
    expect(response.headers.get("access-control-expose-headers")).toMatch(/Mcp-Session-Id/)
  })

  it("treats another scheme like no credentials", async () => {
    const response = await callTool(stack.server.origin, "Basic dXNlcjpwYXNz")
    expect(response.status).toBe(401)
    expect(Challenge.parse(response.headers.get("www-authenticate")!)?.params.has("error")).toBe(false)
  })

  it("lets a valid token through and hands the user to the tool", async () => {
    const response = await callTool(stack.server.origin, `Bearer ${token}`)
    expect(response.status).toBe(200)
    const result = await toolResult(response)
    expect(result.user.userId).toBe("test-user")
    expect(result.user.email).toBe("test-user@example.com")
    expect(result.sdkScopes).toContain("mcp")
    expect(result.clientId).toEqual(expect.any(String))
  })

  it("refuses a tampered token with 401 invalid_token", async () => {
    const [h, p, s] = token.split(".")
    const tampered = `${h}.${p}.${s!.slice(0, -4)}AAAA`
    const response = await callTool(stack.server.origin, `Bearer ${tampered}`)
    expect(response.status).toBe(401)
    const challenge = Challenge.parse(response.headers.get("www-authenticate")!)
    expect(challenge?.params.get("error")).toBe("invalid_token")
    expect(challenge?.params.get("resource_metadata")).toBe(stack.server.metadataUrl)
    expect(await response.json()).toMatchObject({ error: "invalid_token" })
  })

  it("refuses two Authorization headers with 400 invalid_request", async () => {
    const port = Number(new URL(stack.server.origin).port)
    const response = await rawRequest(
      port,
      ["POST /mcp HTTP/1.1", `Host: 127.0.0.1:${port}`, `Authorization: Bearer ${token}`, `Authorization: Bearer ${token}`, "Content-Type: application/json", "Accept: application/json, text/event-stream"],
      JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" })
    )
    expect(response.status).toBe(400)
    expect(response.headers.get("www-authenticate")?.[0]).toMatch(/error="invalid_request"/)
  })

  it("never reads a token from the query string or the body", async () => {
    const viaQuery = await fetch(`${stack.server.origin}/mcp?access_token=${token}`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" })
    })
    expect(viaQuery.status).toBe(401)
    const viaBody = await fetch(`${stack.server.origin}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `access_token=${token}`
    })
    expect(viaBody.status).toBe(401)
  })

  it("guards every path below the MCP endpoint", async () => {
    const response = await fetch(`${stack.server.origin}/mcp/anything`)
    expect(response.status).toBe(401)
  })

  it("answers MCP endpoint preflights with the MCP headers allowed and exposed", async () => {
    const response = await fetch(`${stack.server.origin}/mcp`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization, mcp-protocol-version, mcp-session-id" }
    })
    expect(response.status).toBe(204)
    const allowed = response.headers.get("access-control-allow-headers")!.toLowerCase()
    for (const header of ["authorization", "mcp-protocol-version", "mcp-session-id", "last-event-id"]) expect(allowed).toContain(header)
    expect(response.headers.get("access-control-expose-headers")).toMatch(/WWW-Authenticate/)
  })

  it("ignores X-Forwarded-Host when building challenges", async () => {
    const response = await callTool(stack.server.origin, undefined, "whoami", { "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" })
    expect(response.headers.get("www-authenticate")).not.toContain("evil")
  })

  it("answers 403 insufficient_scope naming every required scope", async () => {
    const port = await freePort()
    const strict = await startProtected({ port, provider: { issuer: stack.idp.issuer, audience: stack.server.resource }, requiredScopes: ["mcp", "admin"] })
    try {
      const response = await callTool(strict.origin, `Bearer ${token}`)
      expect(response.status).toBe(403)
      const challenge = Challenge.parse(response.headers.get("www-authenticate")!)
      expect(challenge?.params.get("error")).toBe("insufficient_scope")
      expect(challenge?.params.get("scope")).toBe("mcp admin")
    } finally {
      await strict.close()
    }
  })
})

describe("node adapter with an origin allowlist (DNS rebinding protection)", () => {
  it("refuses browser origins that are not listed and echoes listed ones", async () => {
    const stack = await startStack()
    const port = await freePort()
    const server = await startProtected({ port, provider: { issuer: stack.idp.issuer, audience: stack.server.resource }, allowedOrigins: ["https://app.example"] })
    try {
      const { access_token } = await getTokens({ idp: stack.idp, scope: "mcp" })
      const evil = await callTool(server.origin, `Bearer ${access_token}`, "whoami", { origin: "https://evil.example" })
      expect(evil.status).toBe(403)
      expect(evil.headers.get("access-control-allow-origin")).toBeNull()
      const good = await callTool(server.origin, `Bearer ${access_token}`, "whoami", { origin: "https://app.example" })
      expect(good.status).toBe(200)
      expect(good.headers.get("access-control-allow-origin")).toBe("https://app.example")
      // clients that send no Origin (not browsers) are not affected
      expect((await callTool(server.origin, `Bearer ${access_token}`)).status).toBe(200)
    } finally {
      await server.close()
      await stack.close()
    }
  })
})

describe("node adapter with a failing identity provider", () => {
  it("answers 503 with Retry-After when the key set cannot be fetched, and recovers", async () => {
    const stack = await startStack()
    try {
      const { access_token } = await getTokens({ idp: stack.idp, scope: "mcp" })
      stack.idp.faults.jwks = "500"
      const failing = await callTool(stack.server.origin, `Bearer ${access_token}`)
      expect(failing.status).toBe(503)
      expect(Number(failing.headers.get("retry-after"))).toBeGreaterThan(0)
      expect(await failing.json()).toMatchObject({ error: "temporarily_unavailable" })
    } finally {
      await stack.close()
    }
  })

  it("keeps verifying known keys while the key set endpoint fails", async () => {
    const stack = await startStack()
    try {
      const { access_token } = await getTokens({ idp: stack.idp, scope: "mcp" })
      expect((await callTool(stack.server.origin, `Bearer ${access_token}`)).status).toBe(200)
      stack.idp.faults.jwks = "500"
      expect((await callTool(stack.server.origin, `Bearer ${access_token}`)).status).toBe(200)
    } finally {
      await stack.close()
    }
  })

  it("answers 503 while the issuer cannot be discovered, never 500", async () => {
    const port = await freePort()
    const deadPort = await freePort()
    const server = await startProtected({ port, provider: { issuer: `http://127.0.0.1:${deadPort}` } })
    try {
      // a malformed token is refused without contacting anyone
      expect((await callTool(server.origin, "Bearer a.b.c")).status).toBe(401)
      const { privateKey } = await jose.generateKeyPair("ES256")
      const token = await new jose.SignJWT({ sub: "u", aud: server.resource, scope: "mcp" })
        .setProtectedHeader({ alg: "ES256", kid: "k" })
        .setIssuer(`http://127.0.0.1:${deadPort}`)
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(privateKey)
      const response = await callTool(server.origin, `Bearer ${token}`)
      expect(response.status).toBe(503)
      expect(response.headers.get("retry-after")).toMatch(/^\d+$/)
    } finally {
      await server.close()
    }
  })
})
