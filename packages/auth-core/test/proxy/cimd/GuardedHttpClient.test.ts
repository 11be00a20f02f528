import * as HttpBody from "@effect/platform/HttpBody"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { afterAll, beforeAll } from "vitest"
import * as Jwks from "../../../src/Jwks.js"
import * as GuardedHttpClient from "../../../src/proxy/cimd/GuardedHttpClient.js"
import { type LocalServer, sendJson, startServer } from "./localServer.js"

describe("GuardedHttpClient", () => {
  let server: LocalServer
  beforeAll(async () => {
    server = await startServer((request, response) => {
      if (request.target === "/redirect") {
        response.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" })
        return response.end()
      }
      if (request.target === "/jwks") return sendJson(response, 200, { keys: [] })
      sendJson(response, 200, { method: request.method, body: request.body })
    })
  })
  afterAll(() => server.close())

  const resolver = (table: Record<string, ReadonlyArray<string>>): GuardedHttpClient.Resolver => async (hostname) => {
    const answer = table[hostname]
    if (answer === undefined) throw new Error("ENOTFOUND")
    return answer.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }))
  }

  it.effect("vets a URL before anything is sent: scheme, credentials, localhost names, every resolved address", () =>
    Effect.gen(function* () {
      const refuse = (url: string, options: GuardedHttpClient.GuardOptions = {}) =>
        Effect.flip(GuardedHttpClient.vet(new URL(url), options))
      assert.strictEqual((yield* refuse("http://93.184.215.14/x")).reason, "scheme")
      assert.strictEqual((yield* refuse("ftp://93.184.215.14/x")).reason, "scheme")
      assert.strictEqual((yield* refuse("https://u:p@93.184.215.14/x")).reason, "userinfo")
      assert.strictEqual((yield* refuse("https://localhost/x")).reason, "host")
      assert.strictEqual((yield* refuse("https://2130706433/x")).use, "loopback")
      // the test opt-in opens loopback, never link-local
      assert.strictEqual((yield* refuse("http://[fe80::1]/x", { allowPrivateNetworks: true })).use, "link_local")
      const mixed = yield* refuse("https://mixed.test/x", { resolver: resolver({ "mixed.test": ["93.184.215.14", "::ffff:10.0.0.1"] }) })
      assert.deepInclude(mixed, { reason: "address", host: "mixed.test", use: "private" })
      assert.strictEqual((yield* refuse("https://gone.test/x", { resolver: resolver({}) })).reason, "unresolvable")
      assert.strictEqual((yield* refuse("https://empty.test/x", { resolver: resolver({ "empty.test": [] }) })).reason, "unresolvable")
      // the message names the host and the rule, never the path or query
      const message = (yield* refuse("https://localhost/secret-path?token=abc")).message
      assert.notInclude(message, "secret-path")
      assert.notInclude(message, "abc")

      const vetted = yield* GuardedHttpClient.vet(new URL("https://public.test:8443/x"), {
        resolver: resolver({ "public.test": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "93.184.215.14"] })
      })
      assert.deepStrictEqual(vetted, {
        protocol: "https:",
        hostname: "public.test",
        port: 8443,
        addresses: [
          { address: "93.184.215.14", family: 4 },
          { address: "2606:2800:21f:cb07:6820:80da:af6b:8b2c", family: 6 }
        ]
      })
    }))

  it.effect("is an ordinary HttpClient: refusals are RequestErrors carrying SsrfRefused, redirects are returned", () =>
    Effect.gen(function* () {
      const before = server.connections()
      const guarded = GuardedHttpClient.make()
      const refused = yield* Effect.either(guarded.get(`${server.origin}/x`))
      assert.isTrue(Either.isLeft(refused))
      if (Either.isLeft(refused)) {
        assert.strictEqual(refused.left._tag, "RequestError")
        assert.strictEqual(GuardedHttpClient.refusalOf(refused.left)?.reason, "scheme")
      }
      assert.strictEqual(server.connections(), before)

      const testClient = GuardedHttpClient.make({ allowPrivateNetworks: true })
      const posted = yield* testClient.post(`${server.origin}/echo`, { body: HttpBody.text("hi") })
      assert.deepStrictEqual(yield* posted.json, { method: "POST", body: "hi" })
      const redirect = yield* testClient.get(`${server.origin}/redirect`)
      assert.strictEqual(redirect.status, 302)
      assert.strictEqual(redirect.headers["location"], "http://169.254.169.254/latest/meta-data/")
    }).pipe(Effect.scoped))

  it.effect("can stand in for the HttpClient of other fetches of client-chosen URLs (a client's jwks_uri)", () =>
    Effect.gen(function* () {
      const jwks = yield* Jwks.make({ uri: "https://169.254.169.254/keys" }).pipe(Effect.provide(GuardedHttpClient.layer()))
      const error = yield* Effect.flip(jwks.getKey({ alg: "ES256", kid: "k" }))
      assert.strictEqual(error._tag, "UpstreamUnavailable")
      const reachable = yield* Jwks.make({ uri: `${server.origin}/jwks` }).pipe(
        Effect.provide(GuardedHttpClient.layer({ allowPrivateNetworks: true }))
      )
      const unknown = yield* Effect.flip(reachable.getKey({ alg: "ES256", kid: "k" }))
      assert.strictEqual(unknown._tag, "InvalidToken")
      assert.strictEqual(server.received().filter((r) => r.target === "/jwks").length, 1)
    }))
})
