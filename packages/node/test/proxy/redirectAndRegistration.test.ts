/**
 * PROXY-THREATS.md rows: open redirect, registration abuse, registration flood, callback XSS (and the consent page's
 * own escaping). Each test fails on the vulnerable behaviour: a redirect to an unregistered URI, an accepted hostile
 * registration, an unlimited registration rate, unescaped markup.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BrowserDriver, createPkce } from "@mcp-oauth/testing"
import { authorizeUrl, CLIENT_REDIRECT, type ProxyStack, register, startProxyStack } from "./support/proxyStack.js"

const registerRaw = (origin: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${origin}/register`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body })

describe("OAuth proxy: open redirect at /authorize", () => {
  let stack: ProxyStack
  let client: { client_id: string; redirect_uris: Array<string> }
  beforeAll(async () => {
    stack = await startProxyStack()
    client = await register(stack.origin, { redirect_uris: ["https://app.example.com/cb", CLIENT_REDIRECT] })
  })
  afterAll(() => stack?.close())

  const unregistered = [
    "https://evil.example/cb",
    "https://app.example.com@evil.example/cb",
    "https://app.example.com:443@evil.example/cb",
    "https://app.example.com.evil.example/cb",
    "https://app.example.com/cb/../evil",
    "https://app.example.com/cb/extra",
    "https://app.example.com/cbx",
    "https://app.example.com/cb?next=https://evil.example",
    "https://app.example.com/cb#fragment",
    "https://APP.example.com/cb",
    "HTTPS://app.example.com/cb",
    "http://app.example.com/cb",
    "https://app.example.com:8443/cb",
    "https://app.example.com/%63b",
    "https://app.example.com/cb%2F..%2Fevil",
    "https://xn--pp-wka.example.com/cb",
    "https://аpp.example.com/cb",
    "//evil.example/cb",
    "javascript:alert(1)//https://app.example.com/cb",
    "data:text/html,<script>alert(1)</script>",
    "http://localhost:1@evil.com/callback",
    "http://127.0.0.1:65535@evil.com/callback",
    "http://127.0.0.1:65535/callback/../../evil",
    "http://127.0.0.1:65535/callbackx",
    "http://localhost:65535/callback",
    "http://127.0.0.1:4000/other"
  ]

  it.each(unregistered)("refuses %s with a 400 page and no redirect anywhere", async (redirectUri) => {
    const response = await fetch(authorizeUrl(stack, client, createPkce(), { redirect_uri: redirectUri }), { redirect: "manual" })
    expect(response.status).toBe(400)
    expect(response.headers.get("location")).toBeNull()
    expect(response.headers.get("content-type")).toMatch(/^text\/html/)
    const body = await response.text()
    expect(body).not.toContain("evil")
    expect(body).not.toMatch(/<script/i)
  })

  it("refuses an unknown client, a missing or repeated client_id, a repeated redirect_uri, before any redirect", async () => {
    const pkce = createPkce()
    const cases = [
      authorizeUrl(stack, { client_id: "mcp_unknown_client_id_000000000000" }, pkce),
      authorizeUrl(stack, { client_id: "" }, pkce, { client_id: undefined })
    ]
    const repeated = authorizeUrl(stack, client, pkce)
    repeated.searchParams.append("redirect_uri", "https://evil.example/cb")
    const repeatedClient = authorizeUrl(stack, client, pkce)
    repeatedClient.searchParams.append("client_id", client.client_id)
    for (const url of [...cases, repeated, repeatedClient]) {
      const response = await fetch(url, { redirect: "manual" })
      expect(response.status).toBe(400)
      expect(response.headers.get("location")).toBeNull()
    }
  })

  it("allows only the port to vary, and only for a registered loopback redirect URI (RFC 8252 §7.3)", async () => {
    const loopback = await fetch(authorizeUrl(stack, client, createPkce(), { redirect_uri: "http://127.0.0.1:4000/callback" }), { redirect: "manual" })
    expect(loopback.status).toBe(200)
    const exact = await fetch(authorizeUrl(stack, client, createPkce(), { redirect_uri: "https://app.example.com/cb" }), { redirect: "manual" })
    expect(exact.status).toBe(200)
  })

  it("once the redirect URI is trusted, errors go back to it with state and iss", async () => {
    const response = await fetch(authorizeUrl(stack, client, createPkce(), { response_type: "token" }), { redirect: "manual" })
    expect(response.status).toBe(302)
    const location = new URL(response.headers.get("location")!)
    expect(`${location.origin}${location.pathname}`).toBe(CLIENT_REDIRECT)
    expect(location.searchParams.get("error")).toBe("unsupported_response_type")
    expect(location.searchParams.get("state")).toBe("client-state-123")
    expect(location.searchParams.get("iss")).toBe(stack.origin)
  })
})

describe("OAuth proxy: registration abuse", () => {
  let stack: ProxyStack
  beforeAll(async () => {
    stack = await startProxyStack()
  })
  afterAll(() => stack?.close())

  const hostileRedirects = [
    "javascript:alert(1)",
    "JavaScript://app.example.com/%0aalert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "file:///etc/passwd",
    "vbscript:msgbox(1)",
    "http://app.example.com/cb",
    "http://192.168.1.10/cb",
    "https://*.example.com/cb",
    "https://app.example.com/*",
    "https://user:pass@app.example.com/cb",
    "https://app.example.com@evil.example/cb",
    "https://app.example.com/cb#frag",
    "https://app.example.com/a/../cb",
    "https://APP.EXAMPLE.COM/cb",
    "https://app.example.com:443/cb",
    "https:\\\\evil.example\\cb",
    "https://app.example.com/c b",
    "https://app.example.com/\ncb",
    "relative/cb",
    "",
    `https://app.example.com/${"a".repeat(3000)}`
  ]

  it.each(hostileRedirects)("refuses the redirect URI %j with invalid_redirect_uri", async (uri) => {
    const response = await registerRaw(stack.origin, JSON.stringify({ redirect_uris: [uri], token_endpoint_auth_method: "none" }))
    expect(response.status).toBe(400)
    expect(response.headers.get("cache-control")).toBe("no-store")
    expect(((await response.json()) as { error: string }).error).toBe("invalid_redirect_uri")
  })

  it("refuses 1,000 redirect URIs, a 1 MB client_name, a huge body, non-JSON and wrong field types", async () => {
    const many = Array.from({ length: 1000 }, (_, i) => `https://app.example.com/cb${i}`)
    const cases: Array<[string, string, Record<string, string>?]> = [
      // 1,000 URIs exceed the body cap before the count cap; 11 short ones exceed the count cap
      ["invalid_client_metadata", JSON.stringify({ redirect_uris: many })],
      ["invalid_redirect_uri", JSON.stringify({ redirect_uris: many.slice(0, 11) })],
      ["invalid_client_metadata", JSON.stringify({ redirect_uris: [CLIENT_REDIRECT], client_name: "x".repeat(1024 * 1024) })],
      ["invalid_client_metadata", JSON.stringify({ redirect_uris: [CLIENT_REDIRECT], client_name: "x".repeat(201) })],
      ["invalid_client_metadata", JSON.stringify({ redirect_uris: [CLIENT_REDIRECT], padding: "y".repeat(100_000) })],
      ["invalid_client_metadata", "not json"],
      ["invalid_client_metadata", "[]"],
      ["invalid_client_metadata", JSON.stringify({ redirect_uris: [CLIENT_REDIRECT] }), { "content-type": "text/plain" }],
      ["invalid_redirect_uri", JSON.stringify({ redirect_uris: "https://app.example.com/cb" })],
      ["invalid_redirect_uri", JSON.stringify({ redirect_uris: [] })],
      ["invalid_client_metadata", JSON.stringify({ redirect_uris: [CLIENT_REDIRECT], token_endpoint_auth_method: "private_key_jwt" })],
      ["invalid_client_metadata", JSON.stringify({ redirect_uris: [CLIENT_REDIRECT], grant_types: ["client_credentials"] })],
      ["invalid_client_metadata", JSON.stringify({ redirect_uris: [CLIENT_REDIRECT], grant_types: ["implicit"] })],
      ["invalid_client_metadata", JSON.stringify({ redirect_uris: [CLIENT_REDIRECT], response_types: ["token"] })],
      ["invalid_client_metadata", JSON.stringify({ redirect_uris: [CLIENT_REDIRECT], client_name: "Good\u202eevil" })]
    ]
    for (const [error, body, headers] of cases) {
      const response = await registerRaw(stack.origin, body, headers)
      expect(response.status, body.slice(0, 80)).toBe(400)
      expect(((await response.json()) as { error: string }).error, body.slice(0, 80)).toBe(error)
    }
  })

  it("stores and echoes only what it uses, answers no-store, and gives confidential clients a secret", async () => {
    const response = await registerRaw(
      stack.origin,
      JSON.stringify({
        redirect_uris: [CLIENT_REDIRECT],
        client_name: "Confidential",
        token_endpoint_auth_method: "client_secret_basic",
        grant_types: ["authorization_code", "refresh_token"],
        logo_uri: "https://evil.example/logo.png",
        scope: "mcp offline_access"
      })
    )
    expect(response.status).toBe(201)
    expect(response.headers.get("cache-control")).toBe("no-store")
    const body = (await response.json()) as Record<string, unknown>
    expect(body["client_id"]).toMatch(/^mcp_/)
    expect(typeof body["client_secret"]).toBe("string")
    expect(body["logo_uri"]).toBeUndefined()
    expect(body["scope"]).toBe("mcp")
  })
})

describe("OAuth proxy: registration flood", () => {
  let stack: ProxyStack
  beforeAll(async () => {
    stack = await startProxyStack({
      proxy: { rateLimits: { registration: { limit: 5, window: "1 hour" } } }
    })
  })
  afterAll(() => stack?.close())

  it("answers 429 with Retry-After past the per-source cap; spoofed X-Forwarded-For does not reset it", async () => {
    const statuses: Array<number> = []
    let retryAfter: string | null = null
    for (let i = 0; i < 40; i++) {
      const response = await registerRaw(
        stack.origin,
        JSON.stringify({ redirect_uris: [CLIENT_REDIRECT], token_endpoint_auth_method: "none" }),
        { "x-forwarded-for": `203.0.113.${i}` }
      )
      statuses.push(response.status)
      if (response.status === 429) {
        retryAfter = response.headers.get("retry-after")
        expect(((await response.json()) as { error: string }).error).toBe("temporarily_unavailable")
      } else await response.body?.cancel()
    }
    expect(statuses.filter((s) => s === 201)).toHaveLength(5)
    expect(statuses.filter((s) => s === 429)).toHaveLength(35)
    expect(Number(retryAfter)).toBeGreaterThan(0)
  })

  it("forgets a registration that was never used once its TTL passes", async () => {
    const fresh = await startProxyStack({ proxy: { ttl: { unusedClient: "3 seconds" } } })
    try {
      const client = await register(fresh.origin)
      const before = await fetch(authorizeUrl(fresh, client, createPkce()), { redirect: "manual" })
      expect(before.status).toBe(200)
      await new Promise((resolve) => setTimeout(resolve, 3_300))
      const after = await fetch(authorizeUrl(fresh, client, createPkce()), { redirect: "manual" })
      expect(after.status).toBe(400)
      expect(after.headers.get("location")).toBeNull()
    } finally {
      await fresh.close()
    }
  })
})

describe("OAuth proxy: markup injection (callback XSS, consent page)", () => {
  let stack: ProxyStack
  beforeAll(async () => {
    stack = await startProxyStack()
  })
  afterAll(() => stack?.close())

  const strictCsp = (csp: string | null) => {
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).not.toContain("unsafe-inline")
    expect(csp).not.toMatch(/script-src/)
  }

  it("escapes an upstream error_description and error at the callback, under a strict CSP", async () => {
    const payload = `<script>alert(document.cookie)</script><img src=x onerror=alert(1)>`
    const url = new URL(`${stack.origin}/oauth/callback`)
    url.searchParams.set("error", payload)
    url.searchParams.set("error_description", payload)
    url.searchParams.set("state", payload)
    const response = await fetch(url, { redirect: "manual" })
    expect(response.status).toBe(400)
    expect(response.headers.get("location")).toBeNull()
    strictCsp(response.headers.get("content-security-policy"))
    expect(response.headers.get("x-frame-options")).toBe("DENY")
    const body = await response.text()
    expect(body).not.toMatch(/<script>alert/i)
    expect(body).not.toMatch(/<img/i)
    expect(body).not.toContain("onerror=alert")
  })

  it("escapes the client's name on the consent page", async () => {
    const client = await register(stack.origin, { client_name: `"><script>alert(1)</script><img src=x onerror=alert(2)>` })
    const response = await new BrowserDriver().request(authorizeUrl(stack, client, createPkce()))
    expect(response.status).toBe(200)
    strictCsp(response.headers.get("content-security-policy"))
    const body = await response.text()
    expect(body).not.toContain("<script>alert(1)")
    expect(body).not.toMatch(/<img/i)
    expect(body).toContain("&#60;script&#62;alert(1)")
  })
})
