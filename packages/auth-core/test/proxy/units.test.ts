import { createHash } from "node:crypto"
import { assert, describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Option, TestClock } from "effect"
import * as ConsentCookie from "../../src/proxy/ConsentCookie.js"
import * as Grants from "../../src/proxy/Grants.js"
import { contentSecurityPolicy, escapeHtml, page } from "../../src/proxy/internal/html.js"
import * as Pkce from "../../src/proxy/Pkce.js"
import * as RateLimit from "../../src/proxy/RateLimit.js"
import * as RedirectUri from "../../src/proxy/RedirectUri.js"
import * as Sealing from "../../src/proxy/Sealing.js"
import * as Store from "../../src/Store.js"
import type { ProviderRequest } from "../../src/Provider.js"

describe("proxy RedirectUri", () => {
  it("registers https and loopback http URIs written canonically, nothing else", () => {
    for (const ok of ["https://app.example.com/cb", "https://app.example.com", "http://127.0.0.1:3000/cb", "http://[::1]:3000/cb", "http://localhost:8080/cb?x=1"]) {
      expect(RedirectUri.check(ok), ok).toBeUndefined()
    }
    const refused: Array<[string, RedirectUri.Problem]> = [
      ["javascript:alert(1)", "scheme"],
      ["data:text/html,x", "scheme"],
      ["file:///etc/passwd", "scheme"],
      ["http://app.example.com/cb", "insecure"],
      ["https://*.example.com/cb", "wildcard"],
      ["https://a@evil.example/cb", "userinfo"],
      ["https://app.example.com/cb#x", "fragment"],
      ["https://APP.example.com/cb", "not_canonical"],
      ["https://app.example.com/a/../cb", "not_canonical"],
      ["https://app.example.com:443/cb", "not_canonical"],
      ["https://app.example.com/%2e%2e/cb", "not_canonical"]
    ]
    for (const [uri, problem] of refused) expect(RedirectUri.check(uri), uri).toBe(problem)
  })

  it("matches exactly, letting only the port of a loopback URI vary", () => {
    const registered = ["https://app.example.com/cb", "http://127.0.0.1:65535/callback", "http://[::1]/cb"]
    expect(RedirectUri.match(registered, "https://app.example.com/cb")).toBe("https://app.example.com/cb")
    expect(RedirectUri.match(registered, "http://127.0.0.1:4000/callback")).toBe("http://127.0.0.1:65535/callback")
    expect(RedirectUri.match(registered, "http://127.0.0.1/callback")).toBe("http://127.0.0.1:65535/callback")
    expect(RedirectUri.match(registered, "http://[::1]:5000/cb")).toBe("http://[::1]/cb")
    for (const no of [
      "https://app.example.com:8443/cb",
      "https://app.example.com/cb/",
      "http://127.0.0.1:4000/callback/x",
      "http://127.0.0.1:4000/callback?x",
      "http://localhost:4000/callback",
      "http://127.0.0.1:4000@evil.com/callback",
      "http://127.0.0.2:4000/callback",
      "https://127.0.0.1:4000/callback"
    ]) {
      expect(RedirectUri.match(registered, no), no).toBeUndefined()
    }
  })
})

describe("proxy Pkce", () => {
  it.effect("verifies S256 only, in constant time, and refuses malformed verifiers", () =>
    Effect.gen(function* () {
      const pair = yield* Pkce.make
      assert.isTrue(yield* Pkce.verify(pair.verifier, pair.challenge))
      assert.isFalse(yield* Pkce.verify(pair.challenge, pair.challenge))
      assert.isFalse(yield* Pkce.verify("short", pair.challenge))
      assert.isFalse(yield* Pkce.verify(`${pair.verifier}!`, pair.challenge))
      // RFC 7636 Appendix B
      assert.strictEqual(
        yield* Pkce.challengeOf("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
      )
    })
  )
})

describe("proxy Sealing", () => {
  it.effect("opens only what it sealed, for the same context, unaltered", () =>
    Effect.gen(function* () {
      const sealer = yield* Sealing.make(Sealing.decodeKey(Sealing.generateKey())!)
      const other = yield* Sealing.make(Sealing.decodeKey(Sealing.generateKey())!)
      const sealed = yield* sealer.seal("upstream-token", "grant:1")
      assert.notInclude(sealed, "upstream-token")
      assert.deepStrictEqual(yield* sealer.open(sealed, "grant:1"), Option.some("upstream-token"))
      assert.isTrue(Option.isNone(yield* sealer.open(sealed, "grant:2")))
      assert.isTrue(Option.isNone(yield* other.open(sealed, "grant:1")))
      const [v, iv, data] = sealed.split(".")
      // a different character in the middle of the ciphertext (the last one may carry padding bits only)
      const at = Math.floor(data!.length / 2)
      const flipped = `${v}.${iv}.${data!.slice(0, at)}${data![at] === "A" ? "B" : "A"}${data!.slice(at + 1)}`
      assert.isTrue(Option.isNone(yield* sealer.open(flipped, "grant:1")))
      assert.notStrictEqual(yield* sealer.seal("x", "c"), yield* sealer.seal("x", "c"))
    })
  )

  it("reads keys as base64url, base64 or hex, 32 bytes only", () => {
    expect(Sealing.decodeKey("00".repeat(32))).toHaveLength(32)
    expect(Sealing.decodeKey(Buffer.alloc(32, 7).toString("base64"))).toHaveLength(32)
    expect(Sealing.decodeKey(Buffer.alloc(16, 7).toString("base64url"))).toBeUndefined()
    expect(Sealing.decodeKey("not a key")).toBeUndefined()
  })
})

describe("proxy ConsentCookie", () => {
  const secret = new TextEncoder().encode("a".repeat(40))

  it.effect("binds a browser to one client, signed, until it expires", () =>
    Effect.gen(function* () {
      const cookies = yield* ConsentCookie.make(secret, "15 minutes")
      const setCookie = yield* cookies.issue({ browserId: "b1", clientId: "client-a" })
      assert.match(setCookie, /^__Host-mcp-oauth-consent-[\w-]+=[\w-]+\.[\w-]+; Path=\/; Secure; HttpOnly; SameSite=Lax; Max-Age=900$/)
      const pair = setCookie.split(";")[0]!
      assert.deepStrictEqual(yield* cookies.read(`other=1; ${pair}`, "client-a"), Option.some({ browserId: "b1", clientId: "client-a" }))
      // bound to the client: another client's cookie name never finds it, and the value under that name fails
      assert.isTrue(Option.isNone(yield* cookies.read(pair, "client-b")))
      const otherName = yield* ConsentCookie.cookieName("client-b")
      assert.isTrue(Option.isNone(yield* cookies.read(`${otherName}=${pair.split("=")[1]}`, "client-b")))
      // another secret does not verify it
      const foreign = yield* ConsentCookie.make(new TextEncoder().encode("b".repeat(40)), "15 minutes")
      assert.isTrue(Option.isNone(yield* foreign.read(pair, "client-a")))
      yield* TestClock.adjust(Duration.minutes(16))
      assert.isTrue(Option.isNone(yield* cookies.read(pair, "client-a")))
    })
  )

  it.effect("derives a per-rendering CSRF token bound to the browser", () =>
    Effect.gen(function* () {
      const cookies = yield* ConsentCookie.make(secret, "15 minutes")
      const token = yield* cookies.csrfToken("b1", "r1")
      assert.isTrue(yield* cookies.checkCsrf("b1", "r1", token))
      assert.isFalse(yield* cookies.checkCsrf("b2", "r1", token))
      assert.isFalse(yield* cookies.checkCsrf("b1", "r2", token))
    })
  )
})

describe("proxy Grants", () => {
  const make = Effect.gen(function* () {
    const store = yield* Store.makeMemory()
    const sealer = yield* Sealing.make(Sealing.decodeKey(Sealing.generateKey())!)
    const grants = Grants.make({ store, sealer, keyPrefix: "t:", codeTtl: "1 minute", refreshTokenTtl: "1 day", grantTtl: "30 days" })
    const grant = yield* grants.create({
      clientId: "c",
      subject: "s",
      scope: ["mcp"],
      resource: "https://mcp.example.com/mcp",
      claims: {},
      upstream: { access_token: "up", token_type: "Bearer" }
    })
    return { grants, grant }
  })

  it.effect("of two concurrent rotations of one refresh token, one wins and the family is revoked", () =>
    Effect.gen(function* () {
      const { grants, grant } = yield* make
      const token = yield* grants.issueRefreshToken(grant)
      const checked = yield* grants.checkRefreshToken(token, "c")
      const results = yield* Effect.all(
        [Effect.either(grants.rotateRefreshToken(token, checked)), Effect.either(grants.rotateRefreshToken(token, checked))],
        { concurrency: 2 }
      )
      assert.strictEqual(results.filter((r) => r._tag === "Right").length, 1)
      assert.isTrue(Option.isNone(yield* grants.get(grant.grant_id)))
    })
  )

  it.effect("a replayed code revokes its grant; codes are stored by digest only", () =>
    Effect.gen(function* () {
      const { grants, grant } = yield* make
      const code = yield* grants.issueCode({
        grant_id: grant.grant_id,
        client_id: "c",
        redirect_uri: "https://app.example.com/cb",
        redirect_uri_sent: true,
        code_challenge: "x".repeat(43),
        resource: "https://mcp.example.com/mcp"
      })
      assert.strictEqual((yield* grants.redeemCode(code)).grant_id, grant.grant_id)
      const replay = yield* Effect.either(grants.redeemCode(code))
      assert.isTrue(replay._tag === "Left" && replay.left._tag === "InvalidGrant")
      assert.isTrue(Option.isNone(yield* grants.get(grant.grant_id)))
      assert.deepStrictEqual(yield* grants.upstreamTokens(grant), Option.some({ access_token: "up", token_type: "Bearer" }))
    })
  )
})

describe("proxy pages and sources", () => {
  it("allows exactly the page's stylesheet by hash, and escapes every markup character", () => {
    const html = page(200, "t", "").body!
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!
    expect(contentSecurityPolicy).toContain(`'sha256-${createHash("sha256").update(style).digest("base64")}'`)
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).not.toMatch(/[<>"'&](?!#)/)
  })

  const request = (remoteAddress: string, forwarded?: string): ProviderRequest => ({
    method: "POST",
    pathname: "/register",
    query: new URLSearchParams(),
    header: (name) => (name === "x-forwarded-for" ? forwarded : undefined),
    remoteAddress,
    body: () => Effect.fail("unreadable" as const)
  })

  it("counts the peer unless reverse proxies are declared, and IPv6 per /64", () => {
    expect(RateLimit.sourceOf(request("10.0.0.1", "1.2.3.4"), 0)).toBe("10.0.0.1")
    expect(RateLimit.sourceOf(request("10.0.0.1", "6.6.6.6, 1.2.3.4"), 1)).toBe("1.2.3.4")
    expect(RateLimit.sourceOf(request("::ffff:192.0.2.7"), 0)).toBe("192.0.2.7")
    expect(RateLimit.sourceOf(request("2001:db8:1:2:3:4:5:6"), 0)).toBe(RateLimit.sourceOf(request("2001:db8:1:2::9"), 0))
    expect(RateLimit.sourceOf(request("2001:db8:1:2::9"), 0)).not.toBe(RateLimit.sourceOf(request("2001:db8:1:3::9"), 0))
  })
})
