import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import type * as http from "node:http"
import { afterAll, beforeAll } from "vitest"
import { UpstreamUnavailable } from "../../../src/Errors.js"
import * as ClientMetadataCache from "../../../src/proxy/cimd/ClientMetadataCache.js"
import {
  type ClientMetadataDocument,
  fetchClientMetadataDocument,
  type FetchOptions,
  InvalidClientMetadataDocument,
  isClientIdUrl
} from "../../../src/proxy/cimd/ClientMetadataDocument.js"
import type { Resolver } from "../../../src/proxy/cimd/GuardedHttpClient.js"
import { type LocalServer, type Received, selfSignedCertificate, sendJson, startServer } from "./localServer.js"

/** A resolver stub answering from a table, recording every name it is asked about. */
const stubResolver = (table: Record<string, ReadonlyArray<string> | ((call: number) => ReadonlyArray<string>)>) => {
  const asked: Array<string> = []
  const resolver: Resolver = async (hostname) => {
    asked.push(hostname)
    const entry = table[hostname]
    if (entry === undefined) throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: "ENOTFOUND" })
    const addresses = typeof entry === "function" ? entry(asked.filter((h) => h === hostname).length) : entry
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }))
  }
  return { resolver, asked }
}

const documentFor = (clientId: string, overrides: Record<string, unknown> = {}) => ({
  client_id: clientId,
  client_name: "Example MCP Client",
  client_uri: "https://client.example/",
  redirect_uris: ["http://127.0.0.1:3334/callback", "https://client.example/oauth/callback"],
  token_endpoint_auth_method: "none",
  grant_types: ["authorization_code", "refresh_token"],
  response_types: ["code"],
  ...overrides
})

const refusal = (clientId: string, options: FetchOptions) => Effect.flip(fetchClientMetadataDocument(clientId, options))

describe("Client ID Metadata Documents", () => {
  // one server for everything: the path picks the behaviour, so every test can count connections and requests
  let server: LocalServer
  let routes: Map<string, (request: Received, response: http.ServerResponse) => void>
  beforeAll(async () => {
    routes = new Map()
    server = await startServer((request, response) => {
      const route = routes.get(request.target.split("?")[0] ?? "")
      if (route === undefined) return sendJson(response, 404, { error: "not_found" })
      route(request, response)
    })
  })
  afterAll(() => server.close())

  /** Registers a route serving `body` for `path`, and the URL a client would use as client_id for it. */
  const serve = (path: string, reply: (clientId: string, response: http.ServerResponse) => void, host = "127.0.0.1") => {
    const clientId = `http://${host}:${server.port}${path}`
    routes.set(path, (_request, response) => reply(clientId, response))
    return clientId
  }
  const requestsTo = (path: string) => server.received().filter((r) => r.target.split("?")[0] === path).length
  const testOptions = { allowPrivateNetworks: true } as const

  describe("SSRF guards: refused before any connection", () => {
    it.effect("refuses loopback, private, link-local and other special addresses written as literals, in every form", () =>
      Effect.gen(function* () {
        const { resolver, asked } = stubResolver({})
        const before = server.connections()
        const port = server.port
        const literals = [
          `https://127.0.0.1:${port}/client`,
          `https://2130706433:${port}/client`,
          `https://0x7f.1:${port}/client`,
          `https://0x7f000001:${port}/client`,
          `https://017700000001:${port}/client`,
          `https://0177.0.0.1:${port}/client`,
          `https://127.1:${port}/client`,
          `https://[::1]:${port}/client`,
          `https://[::ffff:127.0.0.1]:${port}/client`,
          `https://[::ffff:7f00:1]:${port}/client`,
          `https://[64:ff9b::7f00:1]:${port}/client`,
          `https://[2002:7f00:1::1]:${port}/client`,
          `https://0.0.0.0:${port}/client`,
          "https://169.254.169.254/latest/meta-data/",
          "https://[::ffff:169.254.169.254]/latest/meta-data/",
          "https://[fe80::1]/client",
          "https://10.0.0.1/client",
          "https://172.16.0.1/client",
          "https://192.168.1.1/client",
          "https://100.64.0.1/client",
          "https://[fc00::1]/client",
          "https://[fd00::1]/client",
          "https://224.0.0.1/client",
          "https://255.255.255.255/client"
        ]
        for (const clientId of literals) {
          const error = yield* refusal(clientId, { resolver })
          assert.instanceOf(error, InvalidClientMetadataDocument, clientId)
          assert.strictEqual(error.reason, "blocked_host", clientId)
        }
        // localhost names never reach the resolver
        for (const clientId of [`https://localhost:${port}/client`, `https://app.localhost:${port}/client`, `https://LOCALHOST.:${port}/client`]) {
          const error = yield* refusal(clientId, { resolver })
          assert.strictEqual(error.reason, "blocked_host", clientId)
        }
        assert.strictEqual(server.connections(), before)
        assert.deepStrictEqual(asked, [])
      }))

    it.effect("refuses plain http and a client_id that is not a client identifier URL, without resolving anything", () =>
      Effect.gen(function* () {
        const { resolver, asked } = stubResolver({ "client.example": ["93.184.215.14"] })
        const before = server.connections()
        for (const clientId of [
          `http://127.0.0.1:${server.port}/client`,
          "http://client.example/client",
          "http://2130706433/client",
          "http://0x7f.1/client",
          "https://client.example",
          "https://client.example?x=1",
          "https://client.example/a/../client",
          "https://client.example/./client",
          "https://client.example/a/%2e%2e/client",
          "https://client.example/a/%2E/client",
          "https://client.example/client/..",
          "https://client.example/client#frag",
          "https://user@client.example/client",
          "https://user:pw@client.example/client",
          "https://client.example\\@evil.example/client",
          "https://client.example/cli ent",
          "https://client.example/cli\tent",
          "https://client.example/client?a=b~c",
          "https://client.example/client?a",
          "ftp://client.example/client",
          "javascript:alert(1)//",
          "client",
          "",
          `https://client.example/${"a".repeat(2100)}`
        ]) {
          const error = yield* refusal(clientId, { resolver })
          assert.instanceOf(error, InvalidClientMetadataDocument, clientId)
          assert.strictEqual(error.reason, "client_id", clientId)
          assert.isFalse(isClientIdUrl(clientId), clientId)
        }
        assert.isTrue(isClientIdUrl("https://client.example/client"))
        assert.isTrue(isClientIdUrl("https://client.example/"))
        assert.isTrue(isClientIdUrl("https://client.example/client.json?v=2"))
        assert.deepStrictEqual(asked, [])
        assert.strictEqual(server.connections(), before)
      }))

    it.effect("refuses host names that resolve to special addresses, checking every address of the answer", () =>
      Effect.gen(function* () {
        const port = server.port
        const { resolver, asked } = stubResolver({
          "loopback.test": ["127.0.0.1"],
          "private.test": ["10.1.2.3"],
          "metadata.test": ["169.254.169.254"],
          "mapped.test": ["::ffff:127.0.0.1"],
          "nat64.test": ["64:ff9b::a9fe:a9fe"],
          "v6-loopback.test": ["::1"],
          "link-local.test": ["fe80::1"],
          // one public answer does not launder a private one, in either order
          "mixed.test": ["93.184.215.14", "192.168.0.10"],
          "mixed-first.test": ["127.0.0.1", "93.184.215.14"],
          "mixed-v6.test": ["2606:4700:4700::1111", "fd00::1"]
        })
        const before = server.connections()
        for (const host of Object.keys({
          "loopback.test": 0,
          "private.test": 0,
          "metadata.test": 0,
          "mapped.test": 0,
          "nat64.test": 0,
          "v6-loopback.test": 0,
          "link-local.test": 0,
          "mixed.test": 0,
          "mixed-first.test": 0,
          "mixed-v6.test": 0
        })) {
          const error = yield* refusal(`https://${host}:${port}/client`, { resolver })
          assert.instanceOf(error, InvalidClientMetadataDocument, host)
          assert.strictEqual(error.reason, "blocked_host", host)
        }
        assert.strictEqual(asked.length, 10)
        assert.strictEqual(server.connections(), before)

        const unknown = yield* refusal(`https://nowhere.test:${port}/client`, { resolver })
        assert.strictEqual(unknown.reason, "unresolvable")
      }))

    it.effect("keeps link-local (cloud metadata) refused even under the test opt-in", () =>
      Effect.gen(function* () {
        const { resolver } = stubResolver({ "metadata.test": ["169.254.169.254"], "v6.test": ["fe80::a9fe:a9fe"] })
        for (const clientId of ["http://169.254.169.254/latest/meta-data/", "http://metadata.test/client", "http://v6.test/client"]) {
          const error = yield* refusal(clientId, { ...testOptions, resolver })
          assert.strictEqual(error.reason, "blocked_host", clientId)
        }
      }))
  })

  describe("the fetch", () => {
    it.effect("does not follow a redirect, not even to the metadata address", () =>
      Effect.gen(function* () {
        const toMetadata = serve("/redirect-metadata", (_id, response) => {
          response.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/iam/security-credentials/" })
          response.end()
        })
        const error = yield* refusal(toMetadata, testOptions)
        assert.instanceOf(error, InvalidClientMetadataDocument)
        assert.strictEqual(error.reason, "redirect")
        assert.strictEqual(requestsTo("/redirect-metadata"), 1)

        // a redirect to a name: the resolver is never asked about it
        const { resolver, asked } = stubResolver({ "cimd.test": ["127.0.0.1"], "next.test": ["127.0.0.1"] })
        routes.set("/redirect-name", (_request, response) => {
          response.writeHead(307, { location: `http://next.test:${server.port}/valid` })
          response.end()
        })
        const named = yield* refusal(`http://cimd.test:${server.port}/redirect-name`, { ...testOptions, resolver })
        assert.strictEqual(named.reason, "redirect")
        assert.deepStrictEqual(asked, ["cimd.test"])
      }))

    it.effect("accepts a valid document and applies the defaults", () =>
      Effect.gen(function* () {
        const clientId = serve("/valid", (id, response) => sendJson(response, 200, documentFor(id, { grant_types: undefined })))
        const document = yield* fetchClientMetadataDocument(clientId, testOptions)
        const expected: ClientMetadataDocument = {
          client_id: clientId,
          client_name: "Example MCP Client",
          client_uri: "https://client.example/",
          redirect_uris: ["http://127.0.0.1:3334/callback", "https://client.example/oauth/callback"],
          token_endpoint_auth_method: "none",
          grant_types: ["authorization_code"],
          response_types: ["code"]
        }
        assert.deepStrictEqual(document, expected)
        const sent = server.received().find((r) => r.target === "/valid")
        assert.strictEqual(sent?.method, "GET")
        assert.strictEqual(sent?.headers["accept"], "application/json")

        // a missing auth method means a public client; JSON subtypes are JSON
        const minimal = serve("/minimal", (id, response) => {
          const text = JSON.stringify({ client_id: id, redirect_uris: ["https://client.example/cb"] })
          response.writeHead(200, { "content-type": "application/client-metadata+json; charset=utf-8" })
          response.end(text)
        })
        const fromMinimal = yield* fetchClientMetadataDocument(minimal, testOptions)
        assert.strictEqual(fromMinimal.token_endpoint_auth_method, "none")
        assert.isUndefined(fromMinimal.client_name)

        const keyed = serve("/private-key-jwt", (id, response) =>
          sendJson(response, 200, documentFor(id, { token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://client.example/jwks.json" }))
        )
        // a query (discouraged, allowed) is part of the identifier and fetched exactly
        const withQuery = `${server.origin}/with-query?version=2&client=mcp`
        routes.set("/with-query", (request, response) =>
          sendJson(response, 200, documentFor(request.target === "/with-query?version=2&client=mcp" ? withQuery : "unexpected"))
        )
        assert.strictEqual((yield* fetchClientMetadataDocument(withQuery, testOptions)).client_id, withQuery)

        const fromKeyed = yield* fetchClientMetadataDocument(keyed, testOptions)
        assert.strictEqual(fromKeyed.token_endpoint_auth_method, "private_key_jwt")
        assert.strictEqual(fromKeyed.jwks_uri, "https://client.example/jwks.json")
      }))

    it.effect("refuses oversized documents, whether or not Content-Length says so", () =>
      Effect.gen(function* () {
        const padding = "x".repeat(6 * 1024)
        const declared = serve("/large-declared", (id, response) => sendJson(response, 200, documentFor(id, { padding })))
        assert.strictEqual((yield* refusal(declared, testOptions)).reason, "too_large")

        const chunked = serve("/large-chunked", (id, response) => {
          response.writeHead(200, { "content-type": "application/json" })
          response.write(`{"client_id":${JSON.stringify(id)},"padding":"`)
          const timer = setInterval(() => response.write("y".repeat(1024)), 5)
          response.on("close", () => clearInterval(timer))
        })
        assert.strictEqual((yield* refusal(chunked, testOptions)).reason, "too_large")

        // the cap is configurable, up to a hard limit
        const document = yield* fetchClientMetadataDocument(declared, { ...testOptions, maxResponseBytes: 16 * 1024 })
        assert.strictEqual(document.client_id, declared)
      }))

    it.effect("refuses a body that is not a JSON object or not served as JSON", () =>
      Effect.gen(function* () {
        const html = serve("/html", (id, response) => {
          response.writeHead(200, { "content-type": "text/html" })
          response.end(JSON.stringify(documentFor(id)))
        })
        assert.strictEqual((yield* refusal(html, testOptions)).reason, "content_type")
        const untyped = serve("/untyped", (id, response) => {
          response.writeHead(200)
          response.end(JSON.stringify(documentFor(id)))
        })
        assert.strictEqual((yield* refusal(untyped, testOptions)).reason, "content_type")
        for (const [path, text] of [["/not-json", "{client_id:"], ["/array", "[]"], ["/string", '"x"'], ["/latin1", "\u00ff"]] as const) {
          const id = serve(path, (_id, response) => {
            response.writeHead(200, { "content-type": "application/json" })
            response.end(path === "/latin1" ? Buffer.from([0xff, 0xfe]) : text)
          })
          assert.strictEqual((yield* refusal(id, testOptions)).reason, "malformed", path)
        }
      }))

    it.effect("refuses a document whose client_id is not exactly its URL", () =>
      Effect.gen(function* () {
        for (const [path, other] of [
          ["/mismatch-host", (id: string) => id.replace("127.0.0.1", "localhost")],
          ["/mismatch-slash", (id: string) => `${id}/`],
          ["/mismatch-case", (id: string) => id.toUpperCase()],
          ["/mismatch-missing", () => undefined],
          ["/mismatch-type", () => ["x"]]
        ] as const) {
          const id = serve(path, (clientId, response) => sendJson(response, 200, documentFor(clientId, { client_id: other(clientId) })))
          const error = yield* refusal(id, testOptions)
          assert.strictEqual(error.reason, "client_id_mismatch", path)
        }
      }))

    it.effect("refuses invalid redirect URIs", () =>
      Effect.gen(function* () {
        const bad: ReadonlyArray<unknown> = [
          ["javascript:alert(document.cookie)"],
          ["data:text/html,hello"],
          ["file:///etc/passwd"],
          ["http://evil.example/callback"],
          ["https://good.example@evil.example/callback"],
          ["http://localhost:1@evil.example/cb"],
          ["https://client.example/callback#fragment"],
          ["https://*.client.example/callback"],
          ["https:client.example/callback"],
          ["https://client.example\\@evil.example/cb"],
          ["com.example.app:/callback"],
          [42],
          [],
          "https://client.example/callback",
          undefined,
          Array.from({ length: 21 }, (_, i) => `https://client.example/cb${i}`)
        ]
        let n = 0
        for (const redirect_uris of bad) {
          const id = serve(`/bad-redirect-${n++}`, (clientId, response) => sendJson(response, 200, documentFor(clientId, { redirect_uris })))
          const error = yield* refusal(id, testOptions)
          assert.strictEqual(error.reason, "redirect_uris", JSON.stringify(redirect_uris))
        }
      }))

    it.effect("refuses shared-secret client authentication and private key material", () =>
      Effect.gen(function* () {
        const cases: ReadonlyArray<readonly [Record<string, unknown>, string, string?]> = [
          [{ token_endpoint_auth_method: "client_secret_basic" }, "auth_method"],
          [{ token_endpoint_auth_method: "client_secret_post" }, "auth_method"],
          [{ token_endpoint_auth_method: "client_secret_jwt" }, "auth_method"],
          [{ token_endpoint_auth_method: "tls_client_auth" }, "auth_method"],
          [{ client_secret: "shh" }, "auth_method"],
          [{ client_secret_expires_at: 0 }, "auth_method"],
          [{ token_endpoint_auth_method: "private_key_jwt" }, "metadata", "jwks_uri"],
          [{ jwks: { keys: [{ kty: "EC", crv: "P-256", x: "x", y: "y", d: "private" }] } }, "metadata", "jwks"],
          [{ jwks: { keys: [{ kty: "oct", k: "secret" }] } }, "metadata", "jwks"],
          [{ jwks: { keys: [{ kty: "EC" }] }, jwks_uri: "https://client.example/jwks" }, "metadata", "jwks"],
          [{ jwks_uri: "http://client.example/jwks" }, "metadata", "jwks_uri"],
          [{ logo_uri: "javascript:alert(1)" }, "metadata", "logo_uri"],
          [{ client_uri: "data:text/html,x" }, "metadata", "client_uri"],
          [{ client_name: "Good\u202eevil" }, "metadata", "client_name"],
          [{ client_name: "x".repeat(201) }, "metadata", "client_name"],
          [{ client_name: 7 }, "metadata", "client_name"],
          [{ scope: "read \"write\"" }, "metadata", "scope"],
          [{ grant_types: "authorization_code" }, "metadata", "grant_types"]
        ]
        let n = 0
        for (const [overrides, reason, field] of cases) {
          const id = serve(`/auth-${n++}`, (clientId, response) => sendJson(response, 200, documentFor(clientId, overrides)))
          const error = yield* refusal(id, testOptions)
          assert.instanceOf(error, InvalidClientMetadataDocument)
          if (!(error instanceof InvalidClientMetadataDocument)) return
          assert.strictEqual(error.reason, reason, JSON.stringify(overrides))
          assert.strictEqual(error.field, field, JSON.stringify(overrides))
          // fixed descriptions: nothing from the document is echoed
          assert.notInclude(error.description, "shh")
          assert.notInclude(error.description, "evil")
        }
      }))

    it.effect("maps statuses: 4xx is the client's fault, 5xx and silence are the host's", () =>
      Effect.gen(function* () {
        const missing = `${server.origin}/does-not-exist`
        assert.strictEqual((yield* refusal(missing, testOptions)).reason, "status")
        const created = serve("/created", (id, response) => sendJson(response, 201, documentFor(id)))
        assert.strictEqual((yield* refusal(created, testOptions)).reason, "status")
        const broken = serve("/broken", (_id, response) => sendJson(response, 503, { error: "down" }))
        const unavailable = yield* refusal(broken, testOptions)
        assert.instanceOf(unavailable, UpstreamUnavailable)
        assert.strictEqual(unavailable.reason, "status")
        assert.strictEqual(unavailable.target, "client metadata document")
      }))

    it.live("times out on a host that never answers", () =>
      Effect.gen(function* () {
        const silent = serve("/silent", () => undefined)
        const error = yield* refusal(silent, { ...testOptions, timeout: "200 millis" })
        assert.instanceOf(error, UpstreamUnavailable)
        assert.strictEqual(error.reason, "timeout")
      }))

    it.live("connects only to the vetted address: the socket never resolves the name again", () =>
      Effect.gen(function* () {
        // a second server on another loopback address, same port: where a re-resolution would lead
        const evil = yield* Effect.promise(() =>
          startServer((_request, response) => sendJson(response, 200, { pwned: true }), { host: "127.0.0.2", port: server.port })
        )
        yield* Effect.addFinalizer(() => Effect.promise(() => evil.close()))
        // the stub answers the check with 127.0.0.1 and any later question with 127.0.0.2; `rebind.test` does not
        // exist in real DNS either, so the fetch can only succeed if the connection used the vetted answer
        const { resolver, asked } = stubResolver({ "rebind.test": (call) => (call === 1 ? ["127.0.0.1"] : ["127.0.0.2"]) })
        const clientId = `http://rebind.test:${server.port}/rebind`
        routes.set("/rebind", (_request, response) => sendJson(response, 200, documentFor(clientId)))
        const document = yield* fetchClientMetadataDocument(clientId, { ...testOptions, resolver })
        assert.strictEqual(document.client_id, clientId)
        assert.deepStrictEqual(asked, ["rebind.test"])
        assert.strictEqual(evil.connections(), 0)
        // the name still travels in Host (and, over TLS, in SNI and the certificate check)
        assert.strictEqual(server.received().find((r) => r.target === "/rebind")?.headers["host"], `rebind.test:${server.port}`)
      }).pipe(Effect.scoped))

    const certificate = selfSignedCertificate("cimd.test")
    it.live.skipIf(certificate === undefined)("fetches over https from the pinned address, verifying the certificate for the name", () =>
      Effect.gen(function* () {
        const tls = certificate!
        const secure = yield* Effect.promise(() =>
          startServer((request, response) => sendJson(response, 200, documentFor(`https://cimd.test:${request.headers["host"]?.split(":")[1]}/client`)), { tls })
        )
        yield* Effect.addFinalizer(() => Effect.promise(() => secure.close()))
        const { resolver } = stubResolver({ "cimd.test": ["127.0.0.1"], "other.test": ["127.0.0.1"] })
        const clientId = `https://cimd.test:${secure.port}/client`
        const document = yield* fetchClientMetadataDocument(clientId, { ...testOptions, resolver, ca: tls.cert })
        assert.strictEqual(document.client_id, clientId)
        // the same address under a name the certificate does not cover fails TLS: the name, not the address, is checked
        const wrongName = yield* refusal(`https://other.test:${secure.port}/client`, { ...testOptions, resolver, ca: tls.cert })
        assert.instanceOf(wrongName, UpstreamUnavailable)
        // and without the test trust anchor, the self-signed certificate is refused
        const untrusted = yield* refusal(clientId, { ...testOptions, resolver })
        assert.instanceOf(untrusted, UpstreamUnavailable)
      }).pipe(Effect.scoped))
  })

  describe("ClientMetadataCache", () => {
    it.effect("reuses a document for its max-age, capped at one hour, and shares one fetch between concurrent requests", () =>
      Effect.gen(function* () {
        const cached = serve("/cached", (id, response) => sendJson(response, 200, documentFor(id), { "cache-control": "public, max-age=60" }))
        const cache = yield* ClientMetadataCache.make(testOptions)
        const fibers = yield* Effect.forEach([1, 2, 3, 4], () => Effect.fork(cache.get(cached)))
        for (const fiber of fibers) assert.strictEqual((yield* Fiber.join(fiber)).client_id, cached)
        assert.strictEqual(requestsTo("/cached"), 1)
        yield* TestClock.adjust("59 seconds")
        yield* cache.get(cached)
        assert.strictEqual(requestsTo("/cached"), 1)
        yield* TestClock.adjust("2 seconds")
        yield* cache.get(cached)
        assert.strictEqual(requestsTo("/cached"), 2)

        const long = serve("/cached-long", (id, response) => sendJson(response, 200, documentFor(id), { "cache-control": "max-age=31536000" }))
        yield* cache.get(long)
        yield* TestClock.adjust("59 minutes")
        yield* cache.get(long)
        assert.strictEqual(requestsTo("/cached-long"), 1)
        yield* TestClock.adjust("2 minutes")
        yield* cache.get(long)
        assert.strictEqual(requestsTo("/cached-long"), 2)

        yield* cache.invalidate(long)
        yield* cache.get(long)
        assert.strictEqual(requestsTo("/cached-long"), 3)
      }))

    it.effect("does not keep a no-store document, error responses or invalid documents", () =>
      Effect.gen(function* () {
        const cache = yield* ClientMetadataCache.make(testOptions)
        const noStore = serve("/no-store", (id, response) => sendJson(response, 200, documentFor(id), { "cache-control": "no-store" }))
        yield* cache.get(noStore)
        yield* cache.get(noStore)
        assert.strictEqual(requestsTo("/no-store"), 2)

        let fixed = false
        const flaky = serve("/flaky", (id, response) =>
          fixed ? sendJson(response, 200, documentFor(id)) : sendJson(response, 200, documentFor(id, { redirect_uris: ["javascript:x"] }))
        )
        assert.strictEqual((yield* Effect.flip(cache.get(flaky))).reason, "redirect_uris")
        fixed = true
        // the client fixed its document: picked up at once
        assert.strictEqual((yield* cache.get(flaky)).client_id, flaky)
        assert.strictEqual(requestsTo("/flaky"), 2)

        const gone = `${server.origin}/gone`
        yield* Effect.flip(cache.get(gone))
        yield* Effect.flip(cache.get(gone))
        assert.strictEqual(requestsTo("/gone"), 2)
      }))

    it.effect("remembers refusals decided before any connection for a short while", () =>
      Effect.gen(function* () {
        const { resolver, asked } = stubResolver({ "internal.test": ["10.0.0.8"] })
        const cache = yield* ClientMetadataCache.make({ resolver, cache: { negativeTtl: "30 seconds" } })
        const clientId = "https://internal.test/client"
        for (let i = 0; i < 5; i++) assert.strictEqual((yield* Effect.flip(cache.get(clientId))).reason, "blocked_host")
        assert.deepStrictEqual(asked, ["internal.test"])
        yield* TestClock.adjust("31 seconds")
        yield* Effect.flip(cache.get(clientId))
        assert.deepStrictEqual(asked, ["internal.test", "internal.test"])
      }))
  })
})
