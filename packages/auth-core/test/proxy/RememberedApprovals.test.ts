import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, TestClock } from "effect"
import type { AuthorizationRequest } from "../../src/proxy/internal/records.js"
import * as RememberedApprovals from "../../src/proxy/RememberedApprovals.js"
import * as Sealing from "../../src/proxy/Sealing.js"
import * as Store from "../../src/Store.js"

const request: AuthorizationRequest = {
  client_id: "client-a",
  redirect_uri: "https://app.example.com/cb",
  redirect_uri_sent: true,
  code_challenge: "x".repeat(43),
  scope: ["mcp"],
  resource: "https://mcp.example.com/mcp"
}

const setup = Effect.gen(function* () {
  const store = yield* Store.makeMemory()
  const sealer = yield* Sealing.make(crypto.getRandomValues(new Uint8Array(32)))
  const approvals = RememberedApprovals.make({ sealer, store, keyPrefix: "t:", lifetime: "30 days" })
  const setCookie = yield* approvals.issue({
    browserId: "browser-1",
    clientId: "client-a",
    redirectUri: request.redirect_uri,
    resource: request.resource,
    scope: ["mcp", "admin"],
    subject: "alice"
  })
  const pair = setCookie.split(";")[0]!
  return { store, sealer, approvals, setCookie, pair, value: pair.slice(pair.indexOf("=") + 1) }
})

describe("proxy RememberedApprovals", () => {
  it.effect("sets a sealed __Host- cookie that covers the same client, redirect URI, resource and fewer scopes", () =>
    Effect.gen(function* () {
      const { approvals, setCookie, pair } = yield* setup
      assert.match(setCookie, /^__Host-mcp-oauth-approval-[A-Za-z0-9_-]{16}=v1\./)
      assert.include(setCookie, "; Secure; HttpOnly; SameSite=Lax; Max-Age=2592000")
      // sealed: neither the subject nor the redirect URI can be read from it
      assert.notInclude(pair, "alice")
      const found = yield* approvals.find(pair, request)
      assert.isTrue(Option.isSome(found))
      assert.strictEqual(Option.getOrThrow(found).subject, "alice")
      assert.strictEqual(Option.getOrThrow(found).browserId, "browser-1")
      assert.isTrue(Option.isSome(yield* approvals.find(pair, { ...request, scope: ["admin", "mcp"] })))
      assert.isTrue(Option.isSome(yield* approvals.find(pair, { ...request, scope: [] })))
    }))

  it.effect("does not cover wider scopes, another redirect URI, another resource or another client", () =>
    Effect.gen(function* () {
      const { approvals, pair, value } = yield* setup
      assert.isTrue(Option.isNone(yield* approvals.find(pair, { ...request, scope: ["mcp", "admin", "write"] })))
      assert.isTrue(Option.isNone(yield* approvals.find(pair, { ...request, redirect_uri: "https://app.example.com/cb2" })))
      assert.isTrue(Option.isNone(yield* approvals.find(pair, { ...request, resource: "https://other.example.com/mcp" })))
      // the cookie copied under another client's name does not open (the client id is its associated data)
      const otherName = yield* RememberedApprovals.cookieName("client-b")
      assert.isTrue(Option.isNone(yield* approvals.find(`${otherName}=${value}`, { ...request, client_id: "client-b" })))
    }))

  it.effect("refuses a tampered or foreign-key cookie", () =>
    Effect.gen(function* () {
      const { approvals, pair, value } = yield* setup
      const name = pair.slice(0, pair.indexOf("="))
      const at = value.length - 5
      const flipped = `${value.slice(0, at)}${value[at] === "A" ? "B" : "A"}${value.slice(at + 1)}`
      assert.isTrue(Option.isNone(yield* approvals.find(`${name}=${flipped}`, request)))
      // a well-formed cookie sealed with another key (a forgery) does not open either
      const forger = yield* Sealing.make(crypto.getRandomValues(new Uint8Array(32)))
      const forged = yield* forger.seal(
        JSON.stringify({ b: "b", c: "client-a", r: request.redirect_uri, res: request.resource, s: ["mcp"], sub: "eve", iat: 0, exp: 1e15 }),
        RememberedApprovals.sealContext("client-a")
      )
      assert.isTrue(Option.isNone(yield* approvals.find(`${name}=${forged}`, request)))
    }))

  it.effect("expires after its lifetime", () =>
    Effect.gen(function* () {
      const { approvals, pair } = yield* setup
      yield* TestClock.adjust("29 days")
      assert.isTrue(Option.isSome(yield* approvals.find(pair, request)))
      yield* TestClock.adjust("1 day")
      assert.isTrue(Option.isNone(yield* approvals.find(pair, request)))
    }))

  it.effect("is withdrawn for that client and subject when a grant is revoked; later approvals count again", () =>
    Effect.gen(function* () {
      const { approvals, pair } = yield* setup
      yield* TestClock.adjust("1 second")
      yield* approvals.forget("client-a", "bob")
      assert.isTrue(Option.isSome(yield* approvals.find(pair, request)), "another subject's revocation does not touch it")
      yield* approvals.forget("client-a", "alice")
      assert.isTrue(Option.isNone(yield* approvals.find(pair, request)))
      yield* TestClock.adjust("1 second")
      const again = yield* approvals.issue({
        browserId: "browser-1",
        clientId: "client-a",
        redirectUri: request.redirect_uri,
        resource: request.resource,
        scope: ["mcp"],
        subject: "alice"
      })
      assert.isTrue(Option.isSome(yield* approvals.find(again.split(";")[0], request)))
    }))
})
