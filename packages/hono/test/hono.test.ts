import { Hono } from "hono"
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest"
import { type AuthInfo, Challenge } from "@mcp-oauth/auth-core"
import { getTokens } from "@mcp-oauth/testing"
import { type McpAuthEnv, mcpAuthMiddleware } from "../src/index.js"
import { statelessMcpHandlerV1 } from "../src/sdkV1.js"
import { createServerV1, freePort, postMcp, rpcMessage, serveApp, startStack, toolCall, toolText } from "./support/harness.js"

type Stack = Awaited<ReturnType<typeof startStack>>

describe("hono adapter", () => {
  let stack: Stack
  let token: string
  beforeAll(async () => {
    stack = await startStack("v1")
    token = (await getTokens({ idp: stack.idp, scope: "mcp", loginHint: "alice" })).access_token
  })
  afterAll(() => stack.close())

  it("serves protected resource metadata at the path-suffixed and root well-known URLs", async () => {
    const expected = {
      resource: stack.resource,
      authorization_servers: [stack.idp.issuer],
      scopes_supported: ["mcp"],
      bearer_methods_supported: ["header"],
      resource_name: "test"
    }
    for (const path of ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]) {
      const response = await fetch(`${stack.origin}${path}`)
      expect(response.status).toBe(200)
      expect(response.headers.get("content-type")).toBe("application/json")
      expect(response.headers.get("access-control-allow-origin")).toBe("*")
      expect(await response.json()).toEqual(expected)
    }
    const head = await fetch(`${stack.origin}/.well-known/oauth-protected-resource/mcp`, { method: "HEAD" })
    expect(head.status).toBe(200)
    const post = await fetch(`${stack.origin}/.well-known/oauth-protected-resource/mcp`, { method: "POST" })
    expect(post.status).toBe(405)
    expect(post.headers.get("allow")).toBe("GET, HEAD, OPTIONS")
  })

  it("answers a request without credentials with a 401 challenge that has no error", async () => {
    const response = await postMcp(stack.origin, undefined, toolCall("whoami"), { origin: "https://app.example" })
    expect(response.status).toBe(401)
    expect(response.headers.get("www-authenticate")).toBe(`Bearer resource_metadata="${stack.auth.metadataUrl}", scope="mcp"`)
    expect(response.headers.get("access-control-allow-origin")).toBe("*")
    expect(response.headers.get("access-control-expose-headers")).toMatch(/WWW-Authenticate/)
  })

  it("answers an invalid token with 401 invalid_token", async () => {
    const response = await postMcp(stack.origin, "Bearer not-a-jwt", toolCall("whoami"))
    expect(response.status).toBe(401)
    expect(Challenge.parse(response.headers.get("www-authenticate")!)?.params.get("error")).toBe("invalid_token")
    expect((await response.json()).error).toBe("invalid_token")
  })

  it("refuses two Authorization headers, which web Headers join with a comma, as invalid_request", async () => {
    const response = await postMcp(stack.origin, [`Bearer ${token}`, `Bearer ${token}`], toolCall("whoami"))
    expect(response.status).toBe(400)
    expect((await response.json()).error).toBe("invalid_request")
  })

  it("guards every path below the MCP endpoint", async () => {
    expect((await fetch(`${stack.origin}/mcp/me`)).status).toBe(401)
  })

  it("answers metadata and MCP endpoint preflights without a token", async () => {
    const metadata = await fetch(`${stack.origin}/.well-known/oauth-protected-resource/mcp`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "GET", "access-control-request-headers": "mcp-protocol-version" }
    })
    expect(metadata.status).toBe(204)
    expect(metadata.headers.get("access-control-allow-headers")).toMatch(/MCP-Protocol-Version/i)
    const mcp = await fetch(`${stack.origin}/mcp`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization, mcp-session-id" }
    })
    expect(mcp.status).toBe(204)
    const allowed = mcp.headers.get("access-control-allow-headers")!.toLowerCase()
    for (const header of ["authorization", "mcp-protocol-version", "mcp-session-id", "last-event-id"]) expect(allowed).toContain(header)
    expect(mcp.headers.get("access-control-allow-methods")).toContain("POST")
    expect(mcp.headers.get("access-control-expose-headers")).toMatch(/WWW-Authenticate/)
  })

  it("sets c.var.auth (typed) and c.var.sdkAuthInfo for routes behind the guard", async () => {
    expectTypeOf<McpAuthEnv["Variables"]["auth"]>().toEqualTypeOf<AuthInfo.AuthInfo>()
    expectTypeOf<McpAuthEnv["Variables"]["sdkAuthInfo"]>().toEqualTypeOf<AuthInfo.SdkAuthInfo>()
    const response = await fetch(`${stack.origin}/mcp/me`, { headers: { authorization: `Bearer ${token}`, origin: "https://app.example" } })
    expect(response.status).toBe(200)
    expect(response.headers.get("access-control-allow-origin")).toBe("*")
    expect(response.headers.get("access-control-expose-headers")).toMatch(/Mcp-Session-Id/)
    const body = await response.json()
    expect(body.subject).toBe("alice")
    expect(body.user.userId).toBe("alice")
    expect(typeof body.sdkClientId).toBe("string")
  })

  it("leaves the body the guard read for the scope check readable by the handler, byte for byte", async () => {
    const sent = JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/list", params: { note: "héllo" } })
    const response = await fetch(`${stack.origin}/mcp/echo`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: sent
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ raw: sent, parsedByGuard: JSON.parse(sent) })
  })

  it("leaves the body readable through Hono's request helpers, and a request replaced after the guard is the one read", async () => {
    const sent = JSON.stringify({ jsonrpc: "2.0", id: 8, method: "tools/list", params: { note: "ünïcode" } })
    const post = (path: string) =>
      fetch(`${stack.origin}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json; charset=utf-8" },
        body: sent
      })
    const viaHelpers = await post("/mcp/echo-hono")
    expect(viaHelpers.status).toBe(200)
    expect(await viaHelpers.json()).toEqual({
      method: "POST",
      contentType: "application/json; charset=utf-8",
      url: `${stack.origin}/mcp/echo-hono`,
      body: JSON.parse(sent)
    })
    const replaced = await post("/mcp/echo-replaced")
    expect(await replaced.json()).toEqual({ replaced: true })
  })

  it("puts the CORS headers on what the error handler answers, and on a response whose headers are immutable", async () => {
    const headers = { authorization: `Bearer ${token}`, origin: "https://app.example" }
    const failed = await fetch(`${stack.origin}/mcp/fails`, { headers })
    expect(failed.status).toBe(502)
    expect(await failed.json()).toEqual({ error: "handled" })
    expect(failed.headers.get("access-control-allow-origin")).toBe("*")
    expect(failed.headers.get("access-control-expose-headers")).toMatch(/WWW-Authenticate/)
    // a response straight from fetch() has immutable headers
    const immutable = await fetch(`${stack.origin}/mcp/immutable`, { headers })
    expect(immutable.status).toBe(200)
    expect(immutable.headers.get("access-control-expose-headers")).toMatch(/WWW-Authenticate/)
    expect((await immutable.json()).resource).toBe(stack.resource)
  })

  it("hands the AuthInfo to a v1 tool as extra.authInfo, with the CORS headers on the MCP response", async () => {
    const response = await postMcp(stack.origin, `Bearer ${token}`, toolCall("whoami"), { origin: "https://app.example" })
    expect(response.status).toBe(200)
    expect(response.headers.get("access-control-expose-headers")).toMatch(/WWW-Authenticate/)
    const { sdk, authInfo } = await toolText(response)
    expect(sdk).toBe("v1")
    expect(authInfo.token).toBe(token)
    expect(authInfo.scopes).toContain("mcp")
    expect(authInfo.resource).toBe(stack.resource)
    expect(authInfo.extra.user.userId).toBe("alice")
  })

  it("requires the scopes of the operations in the body (403 insufficient_scope) and still lets the transport read it", async () => {
    const denied = await postMcp(stack.origin, `Bearer ${token}`, toolCall("admin-report"))
    expect(denied.status).toBe(403)
    const challenge = Challenge.parse(denied.headers.get("www-authenticate")!)
    expect(challenge?.params.get("error")).toBe("insufficient_scope")
    expect(challenge?.params.get("scope")).toContain("admin")
    const batch = await postMcp(stack.origin, `Bearer ${token}`, [toolCall("whoami", 1), toolCall("admin-report", 2)])
    expect(batch.status).toBe(403)
    const admin = (await getTokens({ idp: stack.idp, scope: "mcp admin" })).access_token
    const allowed = await postMcp(stack.origin, `Bearer ${admin}`, toolCall("admin-report"))
    expect(allowed.status).toBe(200)
    expect(await toolText(allowed)).toEqual({ report: "ok" })
  })

  it("leaves an unparsable JSON body to the transport, and refuses an oversized one with 413", async () => {
    const garbled = await postMcp(stack.origin, `Bearer ${token}`, "{not json")
    expect(garbled.status).toBe(400)
    expect(((await rpcMessage(garbled)).error as { code: number }).code).toBe(-32700)
    const huge = await postMcp(stack.origin, `Bearer ${token}`, JSON.stringify({ ...toolCall("whoami"), pad: "x".repeat(5 * 1024 * 1024) }))
    expect(huge.status).toBe(413)
    expect(await huge.text()).toContain("Request body too large")
    // no Content-Length: the clone is read up to the limit and no further
    const chunk = new TextEncoder().encode("x".repeat(1024 * 1024))
    let sent = 0
    const stream = new ReadableStream<Uint8Array>({
      pull: (controller) => (sent++ < 6 ? controller.enqueue(chunk) : controller.close())
    })
    const chunked = await fetch(`${stack.origin}/mcp`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: stream,
      duplex: "half"
    } as RequestInit)
    expect(chunked.status).toBe(413)
  })

  it("answers GET and DELETE on the stateless endpoint with 405, after the guard", async () => {
    expect((await fetch(`${stack.origin}/mcp`, { headers: { accept: "text/event-stream" } })).status).toBe(401)
    for (const method of ["GET", "DELETE"]) {
      const response = await fetch(`${stack.origin}/mcp`, { method, headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" } })
      expect({ method, status: response.status }).toEqual({ method, status: 405 })
    }
  })

  it("refuses to serve when the guard is not mounted in front of the MCP handler", async () => {
    const port = await freePort()
    const app = new Hono<McpAuthEnv>()
    app.onError(() => new Response("misconfigured", { status: 500 }))
    app.all("/mcp", statelessMcpHandlerV1(createServerV1))
    const server = await serveApp(app, port)
    try {
      const response = await postMcp(`http://127.0.0.1:${port}`, `Bearer ${token}`, toolCall("whoami"))
      expect(response.status).toBe(500)
    } finally {
      await server.close()
    }
  })

  it("answers preflights on its own when mounted without the routes", async () => {
    const port = await freePort()
    const app = new Hono<McpAuthEnv>()
    app.use("/mcp", mcpAuthMiddleware(stack.auth))
    app.all("/mcp", statelessMcpHandlerV1(createServerV1))
    const server = await serveApp(app, port)
    try {
      const response = await fetch(`http://127.0.0.1:${port}/mcp`, { method: "OPTIONS", headers: { origin: "https://app.example" } })
      expect(response.status).toBe(204)
      expect(response.headers.get("access-control-allow-headers")).toMatch(/Authorization/)
    } finally {
      await server.close()
    }
  })
})

describe("hono adapter with SDK v2", () => {
  let stack: Stack
  let token: string
  beforeAll(async () => {
    stack = await startStack("v2")
    token = (await getTokens({ idp: stack.idp, scope: "mcp", loginHint: "bob" })).access_token
  })
  afterAll(() => stack.close())

  it("hands the AuthInfo to a v2 tool as ctx.http.authInfo", async () => {
    const response = await postMcp(stack.origin, `Bearer ${token}`, toolCall("whoami"))
    expect(response.status).toBe(200)
    const { sdk, authInfo } = await toolText(response)
    expect(sdk).toBe("v2")
    expect(authInfo.token).toBe(token)
    expect(authInfo.extra.user.userId).toBe("bob")
  })

  it("requires the scopes of the operations in the body", async () => {
    const response = await postMcp(stack.origin, `Bearer ${token}`, toolCall("admin-report"))
    expect(response.status).toBe(403)
  })

  it("answers GET on the stateless endpoint with 405", async () => {
    const response = await fetch(`${stack.origin}/mcp`, { headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" } })
    expect(response.status).toBe(405)
  })
})

describe("hono adapter with SDK v2 on the 2026-07-28 protocol", () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack("v2")
  })
  afterAll(() => stack.close())

  it("hands the AuthInfo to a v2 tool as ctx.http.authInfo on the per-request (modern) leg too", async () => {
    const { Client, StreamableHTTPClientTransport } = await import("@modelcontextprotocol/client")
    const token = (await getTokens({ idp: stack.idp, scope: "mcp", loginHint: "erin" })).access_token
    const client = new Client({ name: "modern", version: "0.0.0" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } })
    await client.connect(new StreamableHTTPClientTransport(new URL(stack.resource), { requestInit: { headers: { authorization: `Bearer ${token}` } } }))
    try {
      const result = await client.callTool({ name: "whoami", arguments: {} })
      const { authInfo } = JSON.parse((result.content as Array<{ text: string }>)[0]!.text)
      expect(authInfo.extra.user.userId).toBe("erin")
      const denied = await client.callTool({ name: "admin-report", arguments: {} }).catch((error: unknown) => error)
      expect(String(denied)).toMatch(/insufficient.?scope/i)
    } finally {
      await client.close()
    }
  })
})
