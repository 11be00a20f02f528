/**
 * PROXY-THREATS.md rows: PKCE downgrade, code injection / replay, resource abuse, token passthrough, refresh abuse,
 * cross-client revoke; and the token endpoint's client authentication and `Cache-Control: no-store`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Store } from "@mcp-oauth/auth-core"
import * as Sealing from "@mcp-oauth/auth-core/proxy/Sealing"
import { BrowserDriver, createPkce, getTokens } from "@mcp-oauth/testing"
import { Effect, Option, Redacted } from "effect"
import {
  authorize,
  authorizeUrl,
  CLIENT_REDIRECT,
  type ProxyStack,
  redeem,
  register,
  startProxyStack,
  type TestClient,
  tokenRequest,
  UPSTREAM_CLIENT_ID,
  UPSTREAM_SECRET,
  whoami
} from "./support/proxyStack.js"

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`

describe("OAuth proxy: PKCE downgrade", () => {
  let stack: ProxyStack
  let client: TestClient
  beforeAll(async () => {
    stack = await startProxyStack()
    client = await register(stack.origin)
  })
  afterAll(() => stack?.close())

  const refusedAtAuthorize = [
    ["plain", { code_challenge_method: "plain" }],
    ["a challenge without a method", { code_challenge_method: undefined }],
    ["an unknown method", { code_challenge_method: "S512" }],
    ["no challenge", { code_challenge: undefined, code_challenge_method: undefined }],
    ["no challenge but S256", { code_challenge: undefined }],
    ["a challenge that is not S256-shaped", { code_challenge: "short" }]
  ] as const

  it.each(refusedAtAuthorize)("refuses %s at /authorize (invalid_request to the client, no consent page)", async (_name, params) => {
    const response = await fetch(authorizeUrl(stack, client, createPkce(), { ...params }), { redirect: "manual" })
    expect(response.status).toBe(302)
    const location = new URL(response.headers.get("location")!)
    expect(location.searchParams.get("error")).toBe("invalid_request")
    expect(response.headers.get("set-cookie")).toBeNull()
  })

  it("refuses a missing, a wrong and a plain (verifier = challenge) code_verifier at /token, and the code is spent", async () => {
    for (const verifier of [undefined, createPkce().verifier, "x"]) {
      const authorized = await authorize(stack, client)
      const plain = verifier === "x" ? authorized.pkce.challenge : verifier
      const response = await redeem(stack, client, authorized, { code_verifier: plain })
      expect(response.status).toBe(400)
      expect(response.body["error"]).toBe("invalid_grant")
      const retry = await redeem(stack, client, authorized)
      expect(retry.body["error"]).toBe("invalid_grant")
    }
  })

  it("runs its own S256 pair with the upstream, not the client's challenge", async () => {
    const pkce = createPkce()
    const browser = new BrowserDriver({ approveConsent: true })
    const upstream = await browser.navigate(authorizeUrl(stack, client, pkce), stack.idp.issuer)
    expect(upstream.searchParams.get("client_id")).toBe(UPSTREAM_CLIENT_ID)
    expect(upstream.searchParams.get("code_challenge_method")).toBe("S256")
    expect(upstream.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(upstream.searchParams.get("code_challenge")).not.toBe(pkce.challenge)
    expect(upstream.searchParams.get("state")).not.toBe("client-state-123")
    expect(upstream.href).not.toContain(UPSTREAM_SECRET)
  })
})

describe("OAuth proxy: code injection and replay", () => {
  let stack: ProxyStack
  let alice: TestClient
  let mallory: TestClient
  beforeAll(async () => {
    stack = await startProxyStack({ proxy: { ttl: { authorizationCode: "3 seconds" } } })
    alice = await register(stack.origin, { client_name: "Alice's client" })
    mallory = await register(stack.origin, { client_name: "Mallory's client" })
  })
  afterAll(() => stack?.close())

  it("redeems a code once, for its own client, redirect URI and verifier; iss is the proxy", async () => {
    const authorized = await authorize(stack, alice, { loginHint: "alice" })
    expect(authorized.callback.searchParams.get("iss")).toBe(stack.origin)
    expect(authorized.callback.searchParams.get("state")).toBe("client-state-123")
    const response = await redeem(stack, alice, authorized)
    expect(response.status).toBe(200)
    expect(response.headers.get("cache-control")).toBe("no-store")
    expect(response.body["token_type"]).toBe("Bearer")
    expect((await whoami(stack.resource, response.body["access_token"] as string)).result?.["user"]).toMatchObject({ userId: "alice" })
  })

  it("refuses client A's code redeemed by client B (and A can no longer redeem it)", async () => {
    const authorized = await authorize(stack, alice)
    const stolen = await redeem(stack, mallory, authorized, { client_id: mallory.client_id })
    expect(stolen.status).toBe(400)
    expect(stolen.body["error"]).toBe("invalid_grant")
    expect((await redeem(stack, alice, authorized)).body["error"]).toBe("invalid_grant")
  })

  it("refuses a code with another redirect_uri, or without the one the request named", async () => {
    for (const redirectUri of ["http://127.0.0.1:65535/other", "http://127.0.0.1:4000/callback", undefined]) {
      const authorized = await authorize(stack, alice)
      const response = await redeem(stack, alice, authorized, { redirect_uri: redirectUri })
      expect(response.status).toBe(400)
      expect(response.body["error"]).toBe("invalid_grant")
    }
  })

  it("refuses a replayed code and revokes what the first redemption produced", async () => {
    const authorized = await authorize(stack, alice, { loginHint: "alice" })
    const first = await redeem(stack, alice, authorized)
    expect(first.status).toBe(200)
    const access = first.body["access_token"] as string
    expect((await whoami(stack.resource, access)).status).toBe(200)
    const replay = await redeem(stack, alice, authorized)
    expect(replay.status).toBe(400)
    expect(replay.body["error"]).toBe("invalid_grant")
    // the access token and the refresh token of the first redemption are dead
    const after = await whoami(stack.resource, access)
    expect(after.status).toBe(401)
    expect(after.wwwAuthenticate).toContain(`error="invalid_token"`)
    const refreshed = await tokenRequest(stack.origin, { grant_type: "refresh_token", refresh_token: first.body["refresh_token"] as string, client_id: alice.client_id })
    expect(refreshed.body["error"]).toBe("invalid_grant")
  })

  it("refuses an expired code", async () => {
    const authorized = await authorize(stack, alice)
    await new Promise((resolve) => setTimeout(resolve, 3_300))
    const response = await redeem(stack, alice, authorized)
    expect(response.status).toBe(400)
    expect(response.body["error"]).toBe("invalid_grant")
  })

  it("refuses an invented code, and a code issued by the upstream", async () => {
    expect((await redeem(stack, alice, { code: "invented", pkce: createPkce() } as never)).body["error"]).toBe("invalid_grant")
  })
})

describe("OAuth proxy: resource abuse", () => {
  let stack: ProxyStack
  let client: TestClient
  beforeAll(async () => {
    stack = await startProxyStack()
    client = await register(stack.origin)
  })
  afterAll(() => stack?.close())

  it("refuses another server's resource, and several resources, with invalid_target", async () => {
    const other = await fetch(authorizeUrl(stack, client, createPkce(), { resource: "https://other.example/mcp" }), { redirect: "manual" })
    expect(new URL(other.headers.get("location")!).searchParams.get("error")).toBe("invalid_target")
    const slash = await fetch(authorizeUrl(stack, client, createPkce(), { resource: `${stack.resource}/` }), { redirect: "manual" })
    expect(new URL(slash.headers.get("location")!).searchParams.get("error")).toBe("invalid_target")
    const several = authorizeUrl(stack, client, createPkce())
    several.searchParams.append("resource", "https://other.example/mcp")
    const both = await fetch(several, { redirect: "manual" })
    expect(new URL(both.headers.get("location")!).searchParams.get("error")).toBe("invalid_target")
  })

  it("refuses another resource at the token endpoint and mints aud = this server only", async () => {
    const authorized = await authorize(stack, client)
    const wrong = await redeem(stack, client, authorized, { resource: "https://other.example/mcp" })
    expect(wrong.body["error"]).toBe("invalid_target")
    const good = await redeem(stack, client, await authorize(stack, client))
    const claims = JSON.parse(Buffer.from((good.body["access_token"] as string).split(".")[1]!, "base64url").toString())
    expect(claims.aud).toBe(stack.resource)
    expect(claims.iss).toBe(stack.origin)
    const refreshed = await tokenRequest(stack.origin, {
      grant_type: "refresh_token",
      refresh_token: good.body["refresh_token"] as string,
      client_id: client.client_id,
      resource: "https://other.example/mcp"
    })
    expect(refreshed.body["error"]).toBe("invalid_target")
  })
})

describe("OAuth proxy: token passthrough", () => {
  let stack: ProxyStack
  let client: TestClient
  const values: Array<string> = []
  beforeAll(async () => {
    // a memory store that records every value written, to look for upstream tokens in clear
    const memory = await Effect.runPromise(Store.makeMemory())
    const recording: Store.Service = {
      ...memory,
      set: (key, value, ttl) => Effect.zipRight(Effect.sync(() => values.push(value)), memory.set(key, value, ttl)),
      compareAndSet: (key, expected, next, ttl) =>
        Effect.zipRight(Effect.sync(() => values.push(next)), memory.compareAndSet(key, expected, next, ttl))
    }
    stack = await startProxyStack({ store: recording })
    client = await register(stack.origin)
  })
  afterAll(() => stack?.close())

  it("refuses an upstream access token at the guard, even one whose audience is this server", async () => {
    const upstream = await getTokens({
      idp: stack.idp,
      clientId: UPSTREAM_CLIENT_ID,
      clientSecret: UPSTREAM_SECRET,
      redirectUri: `${stack.origin}/oauth/callback`,
      resource: stack.resource,
      scope: "openid mcp"
    })
    const claims = JSON.parse(Buffer.from(upstream.access_token.split(".")[1]!, "base64url").toString())
    expect(claims.aud).toBe(stack.resource)
    const response = await whoami(stack.resource, upstream.access_token)
    expect(response.status).toBe(401)
    expect(response.wwwAuthenticate).toContain(`error="invalid_token"`)
  })

  it("never hands the upstream tokens to the client, and keeps them sealed at rest", async () => {
    const authorized = await authorize(stack, client)
    const response = await redeem(stack, client, authorized)
    expect(response.status).toBe(200)
    expect(Object.keys(response.body).sort()).toEqual(["access_token", "expires_in", "refresh_token", "scope", "token_type"])
    // open the sealed grant with the instance's key: the upstream token is there, and nowhere in clear
    const key = Sealing.decodeKey(Redacted.value(stack.keys.encryptionKey))!
    const sealer = await Effect.runPromise(Sealing.make(key))
    const parse = (v: string): Record<string, unknown> => {
      try {
        return JSON.parse(v) as Record<string, unknown>
      } catch {
        return {}
      }
    }
    const grants = values.map(parse).filter((v) => typeof v["upstream"] === "string")
    expect(grants.length).toBeGreaterThan(0)
    const grant = grants.at(-1)!
    const opened = await Effect.runPromise(sealer.open(grant["upstream"] as string, `upstream-tokens:${grant["grant_id"] as string}`))
    const upstream = JSON.parse(Option.getOrThrow(opened)) as { access_token: string; refresh_token?: string }
    expect(upstream.access_token.length).toBeGreaterThan(10)
    for (const value of values) {
      expect(value).not.toContain(upstream.access_token)
      if (upstream.refresh_token !== undefined) expect(value).not.toContain(upstream.refresh_token)
    }
    expect(JSON.stringify(response.body)).not.toContain(upstream.access_token)
    expect((await whoami(stack.resource, upstream.access_token)).status).toBe(401)
    // sealed values do not open under another record's context
    const moved = await Effect.runPromise(sealer.open(grant["upstream"] as string, "upstream-tokens:another-grant"))
    expect(Option.isNone(moved)).toBe(true)
  })
})

describe("OAuth proxy: refresh abuse and revocation", () => {
  let stack: ProxyStack
  let alice: TestClient
  let bob: TestClient
  beforeAll(async () => {
    stack = await startProxyStack()
    alice = await register(stack.origin)
    bob = await register(stack.origin)
  })
  afterAll(() => stack?.close())

  const tokensFor = async (client: TestClient) => {
    const response = await redeem(stack, client, await authorize(stack, client, { loginHint: "alice" }))
    expect(response.status).toBe(200)
    return { access: response.body["access_token"] as string, refresh: response.body["refresh_token"] as string }
  }
  const refresh = (client: TestClient, token: string, extra: Record<string, string> = {}) =>
    tokenRequest(stack.origin, { grant_type: "refresh_token", refresh_token: token, client_id: client.client_id, ...extra })

  it("rotates refresh tokens; reusing a rotated one revokes the whole family", async () => {
    const first = await tokensFor(alice)
    const second = await refresh(alice, first.refresh)
    expect(second.status).toBe(200)
    expect(second.headers.get("cache-control")).toBe("no-store")
    const secondRefresh = second.body["refresh_token"] as string
    expect(secondRefresh).not.toBe(first.refresh)
    const reuse = await refresh(alice, first.refresh)
    expect(reuse.status).toBe(400)
    expect(reuse.body["error"]).toBe("invalid_grant")
    // the newest token of the family and its access token are revoked too
    expect((await refresh(alice, secondRefresh)).body["error"]).toBe("invalid_grant")
    expect((await whoami(stack.resource, second.body["access_token"] as string)).status).toBe(401)
    expect((await whoami(stack.resource, first.access)).status).toBe(401)
  })

  it("refuses client A's refresh token presented by client B", async () => {
    const tokens = await tokensFor(alice)
    const stolen = await refresh(bob, tokens.refresh)
    expect(stolen.status).toBe(400)
    expect(stolen.body["error"]).toBe("invalid_grant")
  })

  it("refuses a refresh token after revocation, and a scope wider than the grant", async () => {
    const tokens = await tokensFor(alice)
    expect((await refresh(alice, tokens.refresh, { scope: "mcp admin" })).body["error"]).toBe("invalid_scope")
    const revoked = await fetch(`${stack.origin}/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: tokens.refresh, client_id: alice.client_id })
    })
    expect(revoked.status).toBe(200)
    expect((await refresh(alice, tokens.refresh)).body["error"]).toBe("invalid_grant")
    expect((await whoami(stack.resource, tokens.access)).status).toBe(401)
  })

  it("refuses cross-client revocation: client B cannot revoke client A's tokens", async () => {
    const tokens = await tokensFor(alice)
    for (const token of [tokens.refresh, tokens.access]) {
      const response = await fetch(`${stack.origin}/revoke`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token, client_id: bob.client_id })
      })
      expect(response.status).toBe(400)
      expect(((await response.json()) as { error: string }).error).toBe("invalid_request")
    }
    expect((await whoami(stack.resource, tokens.access)).status).toBe(200)
    expect((await refresh(alice, tokens.refresh)).status).toBe(200)
  })

  it("lets a client revoke its own access token, which ends the grant", async () => {
    const tokens = await tokensFor(alice)
    const response = await fetch(`${stack.origin}/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: tokens.access, token_type_hint: "access_token", client_id: alice.client_id })
    })
    expect(response.status).toBe(200)
    expect((await whoami(stack.resource, tokens.access)).status).toBe(401)
    expect((await refresh(alice, tokens.refresh)).body["error"]).toBe("invalid_grant")
  })
})

describe("OAuth proxy: client authentication at the token endpoint", () => {
  let stack: ProxyStack
  let confidential: TestClient & { client_secret: string }
  beforeAll(async () => {
    stack = await startProxyStack()
    confidential = (await register(stack.origin, { token_endpoint_auth_method: "client_secret_basic" })) as TestClient & { client_secret: string }
  })
  afterAll(() => stack?.close())

  it("answers 401 invalid_client (with a Basic challenge) for a wrong, missing or misplaced secret and unknown clients", async () => {
    const authorized = await authorize(stack, confidential)
    const params = { grant_type: "authorization_code", code: authorized.code, redirect_uri: CLIENT_REDIRECT, code_verifier: authorized.pkce.verifier }
    const wrong = await tokenRequest(stack.origin, params, { authorization: basic(confidential.client_id, "wrong") })
    expect(wrong.status).toBe(401)
    expect(wrong.body["error"]).toBe("invalid_client")
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Basic /)
    const missing = await tokenRequest(stack.origin, { ...params, client_id: confidential.client_id })
    expect(missing.status).toBe(401)
    const posted = await tokenRequest(stack.origin, { ...params, client_id: confidential.client_id, client_secret: confidential.client_secret })
    expect(posted.status).toBe(401)
    const unknown = await tokenRequest(stack.origin, { ...params, client_id: "mcp_nobody_000000000000000000" })
    expect(unknown.status).toBe(401)
    expect(unknown.body["error"]).toBe("invalid_client")
    // the code survived failed client authentication: authentication comes before the code is touched
    const right = await tokenRequest(stack.origin, params, { authorization: basic(confidential.client_id, confidential.client_secret) })
    expect(right.status).toBe(200)
  })

  it("answers exact OAuth errors for malformed token requests, never a 500", async () => {
    const cases: Array<[Record<string, string>, string, number]> = [
      [{ client_id: confidential.client_id }, "invalid_client", 401],
      [{ grant_type: "password", username: "a", password: "b" }, "invalid_client", 401]
    ]
    for (const [params, error, status] of cases) {
      const response = await tokenRequest(stack.origin, params)
      expect(response.status).toBe(status)
      expect(response.body["error"]).toBe(error)
    }
    const publicClient = await register(stack.origin)
    const unsupported = await tokenRequest(stack.origin, { grant_type: "client_credentials", client_id: publicClient.client_id })
    expect(unsupported.body["error"]).toBe("unsupported_grant_type")
    const repeated = await fetch(`${stack.origin}/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `grant_type=authorization_code&code=a&code=b&client_id=${publicClient.client_id}`
    })
    expect(repeated.status).toBe(400)
    expect(((await repeated.json()) as { error: string }).error).toBe("invalid_request")
    const json = await fetch(`${stack.origin}/token`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })
    expect(json.status).toBe(400)
    const get = await fetch(`${stack.origin}/token`)
    expect(get.status).toBe(405)
  })
})
