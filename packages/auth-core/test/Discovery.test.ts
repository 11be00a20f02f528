import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, TestClock } from "effect"
import { ConfigProblem } from "../src/ConfigProblem.js"
import * as Discovery from "../src/Discovery.js"
import { UpstreamUnavailable } from "../src/Errors.js"

type Reply = Response | "hang"

/** An authorization server answering per URL; it records every URL requested, in order. */
const makeServer = (initial: (url: string) => Reply) => {
  let reply = initial
  let delay: Duration.DurationInput = 0
  const requested: Array<string> = []
  const client = HttpClient.make((request, url) =>
    Effect.suspend(() => {
      requested.push(url.toString())
      const answer = reply(url.toString())
      if (answer === "hang") return Effect.never
      return Effect.as(Effect.sleep(delay), HttpClientResponse.fromWeb(request, answer))
    })
  )
  return {
    client,
    requested,
    answer(next: (url: string) => Reply) {
      reply = next
    },
    delay(next: Duration.DurationInput) {
      delay = next
    }
  }
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } })

const notFound = () => new Response("Not Found", { status: 404 })

const document = (issuer: string, extra: Record<string, unknown> = {}) => ({
  issuer,
  authorization_endpoint: `${issuer}/authorize`,
  token_endpoint: `${issuer}/token`,
  jwks_uri: `${issuer}/jwks`,
  code_challenge_methods_supported: ["S256"],
  ...extra
})

/** Serves `body` at exactly one URL and 404 everywhere else. */
const only = (at: string, body: () => Response) => (url: string) => (url === at ? body() : notFound())

const makeDiscovery = (server: ReturnType<typeof makeServer>, options: Discovery.DiscoveryOptions) =>
  Discovery.make(options).pipe(Effect.provideService(HttpClient.HttpClient, server.client))

const flush = TestClock.adjust(0)

describe("Discovery", () => {
  describe("metadataUrls", () => {
    it("an issuer without a path: RFC 8414, then OpenID Connect", () => {
      assert.deepStrictEqual(Discovery.metadataUrls("https://idp.example"), [
        "https://idp.example/.well-known/oauth-authorization-server",
        "https://idp.example/.well-known/openid-configuration"
      ])
      assert.deepStrictEqual(Discovery.metadataUrls("https://idp.example/"), [
        "https://idp.example/.well-known/oauth-authorization-server",
        "https://idp.example/.well-known/openid-configuration"
      ])
    })

    it("an issuer with a path: inserted RFC 8414, inserted OpenID Connect, appended OpenID Connect", () => {
      const expected = [
        "https://idp.example:8443/.well-known/oauth-authorization-server/tenants/a",
        "https://idp.example:8443/.well-known/openid-configuration/tenants/a",
        "https://idp.example:8443/tenants/a/.well-known/openid-configuration"
      ]
      assert.deepStrictEqual(Discovery.metadataUrls("https://idp.example:8443/tenants/a"), expected)
      assert.deepStrictEqual(Discovery.metadataUrls("https://idp.example:8443/tenants/a/"), expected)
    })
  })

  describe("fetching", () => {
    it.effect("tries the URLs in order for an issuer without a path", () =>
      Effect.gen(function* () {
        const server = makeServer(notFound)
        const discovery = yield* makeDiscovery(server, { issuer: "https://idp.example" })
        const error = yield* Effect.flip(discovery.metadata)
        assert.strictEqual(error.reason, "status")
        assert.strictEqual(error.target, "authorization server metadata")
        assert.deepStrictEqual(server.requested, [
          "https://idp.example/.well-known/oauth-authorization-server",
          "https://idp.example/.well-known/openid-configuration"
        ])
      }))

    it.effect("tries the URLs in order for an issuer with a path, and stops at the first good document", () =>
      Effect.gen(function* () {
        const issuer = "https://idp.example/realms/mcp"
        const server = makeServer(only("https://idp.example/realms/mcp/.well-known/openid-configuration", () => json(document(issuer))))
        const discovery = yield* makeDiscovery(server, { issuer })
        const metadata = yield* discovery.metadata
        assert.strictEqual(metadata.issuer, issuer)
        assert.deepStrictEqual(server.requested, [
          "https://idp.example/.well-known/oauth-authorization-server/realms/mcp",
          "https://idp.example/.well-known/openid-configuration/realms/mcp",
          "https://idp.example/realms/mcp/.well-known/openid-configuration"
        ])

        const first = makeServer(() => json(document(issuer)))
        yield* (yield* makeDiscovery(first, { issuer })).metadata
        assert.deepStrictEqual(first.requested, ["https://idp.example/.well-known/oauth-authorization-server/realms/mcp"])
      }))

    it.effect("moves on past an error status and an HTML fallback page, but not past a timeout", () =>
      Effect.gen(function* () {
        const issuer = "https://idp.example"
        const server = makeServer((url) =>
          url.endsWith("oauth-authorization-server")
            ? new Response("<!doctype html><title>App</title>", { headers: { "content-type": "text/html" } })
            : json(document(issuer))
        )
        assert.strictEqual((yield* (yield* makeDiscovery(server, { issuer })).metadata).issuer, issuer)
        assert.strictEqual(server.requested.length, 2)

        const failing = makeServer((url) => (url.endsWith("oauth-authorization-server") ? json({}, 500) : json(document(issuer))))
        assert.strictEqual((yield* (yield* makeDiscovery(failing, { issuer })).metadata).issuer, issuer)

        const hanging = makeServer(() => "hang")
        const discovery = yield* makeDiscovery(hanging, { issuer, timeout: "3 seconds" })
        const fiber = yield* Effect.fork(Effect.flip(discovery.metadata))
        yield* TestClock.adjust("3 seconds")
        assert.strictEqual((yield* Fiber.join(fiber)).reason, "timeout")
        assert.strictEqual(hanging.requested.length, 1)
      }))

    it.effect("refuses a document whose issuer is not exactly the configured one", () =>
      Effect.gen(function* () {
        const issuer = "https://idp.example/tenant"
        for (const other of ["https://idp.example", "https://idp.example/tenant/", "https://IDP.example/tenant", "https://evil.example/tenant"]) {
          const server = makeServer(() => json(document(other)))
          const error = yield* Effect.flip((yield* makeDiscovery(server, { issuer })).metadata)
          assert.instanceOf(error, UpstreamUnavailable)
          assert.strictEqual(error.reason, "bad_response", other)
          // every candidate was tried before giving up
          assert.strictEqual(server.requested.length, 3)
        }
      }))

    it.effect("uses a later candidate when an earlier one serves another issuer's document", () =>
      Effect.gen(function* () {
        const issuer = "https://idp.example/tenant"
        // a server that ignores the path suffix answers the inserted form with its root metadata
        const server = makeServer((url) =>
          url.startsWith("https://idp.example/.well-known/") ? json(document("https://idp.example")) : json(document(issuer))
        )
        const metadata = yield* (yield* makeDiscovery(server, { issuer })).metadata
        assert.strictEqual(metadata.issuer, issuer)
        assert.strictEqual(server.requested.length, 3)
      }))

    it.effect("keeps unknown members and refuses known members of the wrong type", () =>
      Effect.gen(function* () {
        const issuer = "https://idp.example"
        const rich = document(issuer, {
          client_id_metadata_document_supported: true,
          x_vendor_feature: { nested: [1, 2] },
          dpop_signing_alg_values_supported: ["ES256"]
        })
        const metadata = yield* (yield* makeDiscovery(makeServer(() => json(rich)), { issuer })).metadata
        assert.deepStrictEqual(metadata, rich)
        assert.deepStrictEqual(metadata["x_vendor_feature"], { nested: [1, 2] })

        for (const broken of [{ scopes_supported: "openid profile" }, { client_id_metadata_document_supported: "yes" }]) {
          const server = makeServer(() => json(document(issuer, broken)))
          const error = yield* Effect.flip((yield* makeDiscovery(server, { issuer })).metadata)
          assert.strictEqual(error.reason, "bad_response")
        }
        const noIssuer = makeServer(() => json({ token_endpoint: "https://idp.example/token" }))
        assert.strictEqual((yield* Effect.flip((yield* makeDiscovery(noIssuer, { issuer })).metadata)).reason, "bad_response")
      }))

    it.effect("refuses an issuer that cannot be one, before any request", () =>
      Effect.gen(function* () {
        for (const issuer of ["not a url", "https://idp.example?tenant=a", "https://idp.example#x", "http://idp.example", "ftp://idp.example"]) {
          const server = makeServer(() => json(document(issuer)))
          const error = yield* Effect.flip(makeDiscovery(server, { issuer }))
          assert.instanceOf(error, ConfigProblem, issuer)
          assert.strictEqual(server.requested.length, 0)
        }
        // loopback may use http (development identity providers)
        const local = "http://127.0.0.1:9000"
        const server = makeServer(() => json(document(local)))
        assert.strictEqual((yield* (yield* makeDiscovery(server, { issuer: local })).metadata).issuer, local)
      }))
  })

  describe("caching", () => {
    const issuer = "https://idp.example"

    it.effect("serves the cached document until the TTL, then refreshes it in the background", () =>
      Effect.gen(function* () {
        const server = makeServer(() => json(document(issuer, { scopes_supported: ["v1"] })))
        const discovery = yield* makeDiscovery(server, { issuer })
        assert.deepStrictEqual((yield* discovery.metadata).scopes_supported, ["v1"])
        for (let minute = 0; minute < 59; minute++) {
          yield* TestClock.adjust("1 minute")
          yield* discovery.metadata
        }
        yield* TestClock.adjust("59 seconds")
        yield* discovery.metadata
        yield* flush
        assert.strictEqual(server.requested.length, 1)

        server.answer(() => json(document(issuer, { scopes_supported: ["v2"] })))
        yield* TestClock.adjust("1 second")
        // the caller at the TTL gets the old document at once; the new one arrives in the background
        assert.deepStrictEqual((yield* discovery.metadata).scopes_supported, ["v1"])
        yield* flush
        assert.strictEqual(server.requested.length, 2)
        assert.deepStrictEqual((yield* discovery.metadata).scopes_supported, ["v2"])
        assert.strictEqual(server.requested.length, 2)
      }))

    it.effect("honours a custom TTL", () =>
      Effect.gen(function* () {
        const server = makeServer(() => json(document(issuer)))
        const discovery = yield* makeDiscovery(server, { issuer, ttl: "5 minutes" })
        yield* discovery.metadata
        yield* TestClock.adjust("4 minutes")
        yield* discovery.metadata
        yield* flush
        assert.strictEqual(server.requested.length, 1)
        yield* TestClock.adjust("1 minute")
        yield* discovery.metadata
        yield* flush
        assert.strictEqual(server.requested.length, 2)
      }))

    it.effect("concurrent first requests share one discovery", () =>
      Effect.gen(function* () {
        const server = makeServer(only("https://idp.example/.well-known/openid-configuration", () => json(document(issuer))))
        server.delay("200 millis")
        const discovery = yield* makeDiscovery(server, { issuer })
        const fiber = yield* Effect.fork(Effect.all(Array.from({ length: 50 }, () => discovery.metadata), { concurrency: "unbounded" }))
        yield* TestClock.adjust("400 millis")
        const documents = yield* Fiber.join(fiber)
        assert.strictEqual(documents.length, 50)
        // one discovery: two URLs (the first is a 404), not a hundred
        assert.strictEqual(server.requested.length, 2)
      }))

    it.effect("serves the last good document while the server fails, until max-stale, and recovers", () =>
      Effect.gen(function* () {
        const server = makeServer(() => json(document(issuer)))
        const discovery = yield* makeDiscovery(server, { issuer, maxStale: "6 hours" })
        yield* discovery.metadata
        server.answer(() => json({ error: "down" }, 503))
        for (let hour = 1; hour <= 6; hour++) {
          yield* TestClock.setTime(hour * 3_600_000)
          assert.strictEqual((yield* discovery.metadata).issuer, issuer)
          yield* flush
        }
        // one attempt (two URLs) per hour: failures are not retried on every call
        assert.strictEqual(server.requested.length, 1 + 6 * 2)
        yield* TestClock.adjust("1 millis")
        const error = yield* Effect.flip(discovery.metadata)
        assert.strictEqual(error.reason, "status")
        assert.isAtLeast(error.retryAfterSeconds, 1)

        server.answer(() => json(document(issuer)))
        yield* TestClock.adjust("30 seconds")
        assert.strictEqual((yield* discovery.metadata).issuer, issuer)
      }))
  })

  it.effect("layer provides the service", () =>
    Effect.gen(function* () {
      const server = makeServer(() => json(document("https://idp.example")))
      const metadata = yield* Effect.flatMap(Discovery.Discovery, (d) => d.metadata).pipe(
        Effect.provide(Discovery.layer({ issuer: "https://idp.example" })),
        Effect.provideService(HttpClient.HttpClient, server.client)
      )
      assert.strictEqual(metadata.issuer, "https://idp.example")
    }))
})
