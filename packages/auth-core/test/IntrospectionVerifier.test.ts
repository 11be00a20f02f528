import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Clock, ConfigProvider, Duration, Effect, Either, Exit, Fiber, Layer, Logger, LogLevel, Redacted, TestClock, Tracer } from "effect"
import type { AuthInfo } from "../src/AuthInfo.js"
import { ConfigProblem } from "../src/ConfigProblem.js"
import { InvalidToken, UpstreamUnavailable } from "../src/Errors.js"
import * as IntrospectionVerifier from "../src/IntrospectionVerifier.js"
import { Provider } from "../src/Provider.js"
import * as ResourceServer from "../src/ResourceServer.js"
import { TokenVerifier } from "../src/TokenVerifier.js"
import * as Introspection from "../src/providers/Introspection.js"

// ---------------------------------------------------------------------------------------------------------------
// a mock authorization server

const issuer = "https://as.example"
const endpoint = "https://as.example/oauth/introspect"
const resource = "https://mcp.example/mcp"
// TestClock starts at 0; time is set to this instant (in seconds) at the start of each test
const now = 1_000_000
const secret = "s3cr3t:with/odd&chars é"
const clientId = "resource server:1"

interface Seen {
  readonly method: string
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly form: URLSearchParams
}

type Reply = Response | "hang" | "transport-error"

/** An introspection endpoint answering from a function of the posted form; it records every request. */
const makeAs = (reply: (form: URLSearchParams, seen: Seen) => Reply) => {
  const seen: Array<Seen> = []
  let delay: Duration.DurationInput = 0
  const client = HttpClient.make((request, url) =>
    Effect.suspend(() => {
      const body = request.body
      const form = new URLSearchParams(body._tag === "Uint8Array" ? new TextDecoder().decode(body.body) : "")
      const entry: Seen = { method: request.method, url: url.toString(), headers: request.headers, form }
      seen.push(entry)
      const answer = reply(form, entry)
      if (answer === "hang") return Effect.never
      if (answer === "transport-error") {
        return Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause: new Error("ECONNREFUSED") }))
      }
      // a delay (on the TestClock) keeps the call in flight while concurrent callers arrive
      return Effect.as(Effect.sleep(delay), HttpClientResponse.fromWeb(request, answer))
    })
  )
  return {
    client,
    seen,
    get calls() {
      return seen.length
    },
    delay(next: Duration.DurationInput) {
      delay = next
    }
  }
}

const json = (body: unknown, init: ResponseInit = {}) =>
  new Response(JSON.stringify(body), { ...init, headers: { "content-type": "application/json", ...init.headers } })

/** An active response for `sub`, valid 10 minutes from `now`. */
const active = (overrides: Record<string, unknown> = {}) => ({
  active: true,
  iss: issuer,
  aud: resource,
  sub: "user-1",
  client_id: "mcp-client",
  scope: "mcp read",
  token_type: "Bearer",
  iat: now,
  exp: now + 600,
  ...overrides
})

/** Answers by token: `t-<anything>` active, `inactive` not. */
const byToken = (responses: Record<string, unknown>) => (form: URLSearchParams) =>
  json(responses[form.get("token") ?? ""] ?? { active: false })

const baseOptions: IntrospectionVerifier.IntrospectionVerifierOptions = {
  endpoint,
  issuer,
  clientId,
  clientSecret: Redacted.make(secret),
  audience: resource
}

const makeVerifier = (
  as: ReturnType<typeof makeAs>,
  options: Partial<IntrospectionVerifier.IntrospectionVerifierOptions> = {}
) =>
  Effect.zipRight(
    TestClock.setTime(now * 1000),
    IntrospectionVerifier.make({ ...baseOptions, ...options }).pipe(Effect.provideService(HttpClient.HttpClient, as.client))
  )

const verify = (verifier: { verify: (t: Redacted.Redacted<string>) => Effect.Effect<AuthInfo, InvalidToken | UpstreamUnavailable> }, token: string) =>
  Effect.either(verifier.verify(Redacted.make(token)))

const outcome = (result: Either.Either<AuthInfo, InvalidToken | UpstreamUnavailable>) =>
  Either.isRight(result)
    ? "accepted"
    : result.left instanceof InvalidToken
      ? `invalid:${result.left.reason}`
      : `upstream:${result.left.reason}`

/** Lets forked fibers run up to their next suspension, without moving the clock. */
const flush = TestClock.adjust(0)

// ---------------------------------------------------------------------------------------------------------------

describe("IntrospectionVerifier", () => {
  describe("the request", () => {
    it.effect("POSTs the token form-encoded with client_secret_basic per RFC 6749 §2.3.1", () =>
      Effect.gen(function* () {
        const as = makeAs(() => json(active()))
        const verifier = yield* makeVerifier(as)
        assert.strictEqual(outcome(yield* verify(verifier, "tok+en/=")), "accepted")
        const request = as.seen[0]!
        assert.strictEqual(request.method, "POST")
        assert.strictEqual(request.url, endpoint)
        assert.strictEqual(request.headers["content-type"], "application/x-www-form-urlencoded")
        assert.strictEqual(request.headers["accept"], "application/json")
        assert.deepStrictEqual([...request.form], [["token", "tok+en/="], ["token_type_hint", "access_token"]])
        // both parts form-urlencoded (space as +, ':' '/' '&' and non-ASCII percent-encoded), then joined and base64'd
        const expected = "resource+server%3A1:s3cr3t%3Awith%2Fodd%26chars+%C3%A9"
        assert.strictEqual(request.headers["authorization"], `Basic ${Buffer.from(expected).toString("base64")}`)
        assert.strictEqual(Buffer.from(request.headers["authorization"]!.slice(6), "base64").toString(), expected)
        // the secret travels only in the header, never in the URL or the body
        assert.notInclude(request.url, "s3cr3t")
        assert.isNull(request.form.get("client_secret"))
      }))

    it.effect("sends the credentials in the body with client_secret_post", () =>
      Effect.gen(function* () {
        const as = makeAs(() => json(active()))
        const verifier = yield* makeVerifier(as, { clientAuthMethod: "client_secret_post" })
        assert.strictEqual(outcome(yield* verify(verifier, "token")), "accepted")
        const request = as.seen[0]!
        assert.isUndefined(request.headers["authorization"])
        assert.strictEqual(request.form.get("client_id"), clientId)
        assert.strictEqual(request.form.get("client_secret"), secret)
        assert.strictEqual(request.form.get("token"), "token")
        assert.notInclude(request.url, "s3cr3t")
      }))

    it.effect("refuses an empty or oversized token without a call", () =>
      Effect.gen(function* () {
        const as = makeAs(() => json(active()))
        const verifier = yield* makeVerifier(as, { maxTokenBytes: 64 })
        assert.strictEqual(outcome(yield* verify(verifier, "")), "invalid:malformed")
        assert.strictEqual(outcome(yield* verify(verifier, "x".repeat(65))), "invalid:too_large")
        assert.strictEqual(as.calls, 0)
      }))
  })

  describe("the response", () => {
    it.effect("maps an active token to AuthInfo through the claim mapping", () =>
      Effect.gen(function* () {
        const as = makeAs(() =>
          json(active({ email: "u@example.com", username: "uone", roles: ["admin"], org: { perms: ["p1"] } }))
        )
        const verifier = yield* makeVerifier(as, { claims: { name: "username", permissions: ["org.perms"] } })
        const info = Either.getOrThrow(yield* verify(verifier, "token"))
        assert.strictEqual(Redacted.value(info.token), "token")
        assert.strictEqual(info.subject, "user-1")
        assert.strictEqual(info.issuer, issuer)
        assert.deepStrictEqual(info.audience, [resource])
        assert.strictEqual(info.clientId, "mcp-client")
        assert.deepStrictEqual(info.scopes, ["mcp", "read"])
        assert.strictEqual(info.expiresAt, now + 600)
        assert.deepStrictEqual(info.user, { userId: "user-1", email: "u@example.com", name: "uone", roles: ["admin"], permissions: ["p1"] })
        assert.strictEqual(info.claims["active"], true)
      }))

    it.effect("checks activity, type, issuer, audience, expiry and subject", () =>
      Effect.gen(function* () {
        const cases: ReadonlyArray<[string, unknown, Partial<IntrospectionVerifier.IntrospectionVerifierOptions>?]> = [
          ["invalid:rejected", { active: false }],
          ["invalid:rejected", { active: false, exp: "garbage", sub: 12 }],
          ["accepted", active({ aud: ["https://other.example", resource] })],
          ["invalid:audience", active({ aud: "https://MCP.example/mcp" })], // compared exactly (RFC 7519 §2)
          ["invalid:audience", active({ aud: "https://other.example/mcp" })],
          ["invalid:audience", active({ aud: `${resource}/` })],
          ["invalid:audience", active({ aud: [] })],
          ["invalid:audience", active({ aud: undefined })],
          ["accepted", active({ aud: undefined }), { requireAudience: false }],
          ["invalid:audience", active({ aud: "https://other.example/mcp" }), { requireAudience: false }],
          ["invalid:issuer", active({ iss: "https://as.example/" })],
          ["invalid:issuer", active({ iss: "https://evil.example" })],
          ["accepted", active({ iss: undefined })],
          ["accepted", active({ iss: "https://anyone.example" }), { issuer: undefined }],
          ["accepted", active({ token_type: "bearer" })],
          ["accepted", active({ token_type: "access_token" })],
          ["accepted", active({ token_type: undefined })],
          ["invalid:type", active({ token_type: "refresh_token" })],
          ["invalid:type", active({ token_type: "DPoP" })],
          ["invalid:type", active({ cnf: { "x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2" } })],
          ["invalid:type", active({ cnf: {} })],
          ["invalid:expired", active({ exp: now - 31 })],
          ["accepted", active({ exp: now - 29 })], // inside the 30 s leeway
          ["accepted", active({ exp: undefined })],
          ["invalid:missing_claim", active({ exp: undefined }), { requireExpiry: true }],
          ["invalid:not_yet_valid", active({ nbf: now + 60 })],
          ["invalid:subject", active({ sub: undefined })],
          ["invalid:subject", active({ sub: " " })],
          ["invalid:claim_type", active({ sub: 42 })],
          ["invalid:claim_type", active({ exp: String(now + 600) })],
          ["invalid:claim_type", active({ aud: [resource, 7] })]
        ]
        for (const [expected, body, options] of cases) {
          const as = makeAs(() => json(body))
          const verifier = yield* makeVerifier(as, options)
          assert.strictEqual(outcome(yield* verify(verifier, "token")), expected, JSON.stringify({ body, options }))
        }
      }))

    it.effect("maps a client-credentials token to its client only when allowed", () =>
      Effect.gen(function* () {
        const body = active({ sub: undefined, client_id: "svc-1" })
        const refused = yield* makeVerifier(makeAs(() => json(body)))
        assert.strictEqual(outcome(yield* verify(refused, "token")), "invalid:subject")
        const allowed = yield* makeVerifier(makeAs(() => json(body)), { clientCredentials: true })
        const info = Either.getOrThrow(yield* verify(allowed, "token"))
        assert.strictEqual(info.subject, "svc-1")
        assert.strictEqual(info.user.userId, "svc-1")
        assert.strictEqual(info.clientId, "svc-1")
      }))

    it.effect("treats `unsupported_token_type` (a server that does not introspect JWTs) as a refused token", () =>
      Effect.gen(function* () {
        const as = makeAs(() => json({ error: "unsupported_token_type" }, { status: 400 }))
        const verifier = yield* makeVerifier(as)
        assert.strictEqual(outcome(yield* verify(verifier, "a.b.c")), "invalid:rejected")
      }))
  })

  describe("failures of the authorization server", () => {
    it.effect("become UpstreamUnavailable, never a refused token", () =>
      Effect.gen(function* () {
        const streamedHuge = () => {
          const body = new ReadableStream<Uint8Array>({
            pull(controller) {
              controller.enqueue(new TextEncoder().encode(" ".repeat(1024)))
            }
          })
          return new Response(body, { headers: { "content-type": "application/json" } })
        }
        const cases: ReadonlyArray<[string, () => Reply]> = [
          ["upstream:status", () => json({ error: "server_error" }, { status: 500 })],
          ["upstream:status", () => json({ error: "temporarily_unavailable" }, { status: 503 })],
          ["upstream:status", () => json({ error: "invalid_client" }, { status: 401 })],
          ["upstream:status", () => json({ error: "invalid_request" }, { status: 400 })],
          ["upstream:status", () => new Response(null, { status: 302, headers: { location: "https://evil.example/" } })],
          ["upstream:bad_response", () => new Response("<html>login</html>", { headers: { "content-type": "text/html" } })],
          ["upstream:bad_response", () => new Response("not json", { headers: { "content-type": "application/json" } })],
          ["upstream:bad_response", () => json([{ active: true }])],
          ["upstream:bad_response", () => json({ active: "true", sub: "user-1" })],
          ["upstream:bad_response", () => json({ sub: "user-1" })],
          ["upstream:bad_response", () => json(null)],
          ["upstream:too_large", () => json({ active: true, pad: "x".repeat(70 * 1024) })],
          ["upstream:too_large", streamedHuge],
          ["upstream:unreachable", () => "transport-error"]
        ]
        for (const [expected, reply] of cases) {
          const as = makeAs(reply)
          const verifier = yield* makeVerifier(as)
          assert.strictEqual(outcome(yield* verify(verifier, "token")), expected)
          // one request: a redirect is refused, not followed
          assert.strictEqual(as.calls, 1)
        }
      }))

    it.effect("times out a hanging call", () =>
      Effect.gen(function* () {
        const as = makeAs(() => "hang")
        const verifier = yield* makeVerifier(as, { timeout: "2 seconds" })
        const fiber = yield* Effect.fork(verify(verifier, "token"))
        yield* TestClock.adjust("2 seconds")
        assert.strictEqual(outcome(yield* Fiber.join(fiber)), "upstream:timeout")
      }))

    it.effect("passes a bounded Retry-After on and does not cache the failure", () =>
      Effect.gen(function* () {
        let down = true
        const as = makeAs(() => (down ? json({}, { status: 503, headers: { "retry-after": "99999" } }) : json(active())))
        const verifier = yield* makeVerifier(as)
        const result = yield* verify(verifier, "token")
        assert.isTrue(Either.isLeft(result) && result.left instanceof UpstreamUnavailable)
        down = false
        assert.strictEqual(outcome(yield* verify(verifier, "token")), "accepted")
        assert.strictEqual(as.calls, 2)
      }))

    it.effect("never puts the client secret or the token in an error or a log line", () =>
      Effect.gen(function* () {
        const lines: Array<string> = []
        const capture = Logger.make(({ annotations, cause, message }) => {
          lines.push(JSON.stringify({ message, annotations: Object.fromEntries(annotations), cause: String(cause) }))
        })
        const token = "opaque-token-value-0123456789"
        const replies: ReadonlyArray<() => Reply> = [
          // an upstream that echoes the secret back in its error description
          () => json({ error: "invalid_client", error_description: `bad secret ${secret}` }, { status: 401 }),
          () => json({ error: "invalid_request", error_description: `token ${token}` }, { status: 400 }),
          () => json({ error: `x ${secret}` }, { status: 400 }),
          () => json({ error: "server_error" }, { status: 500 }),
          () => json({ active: true, sub: 7, note: secret }),
          () => new Response(`{"active": tru ${secret}`),
          () => "transport-error"
        ]
        const errors: Array<unknown> = []
        for (const reply of replies) {
          const as = makeAs(reply)
          const verifier = yield* makeVerifier(as)
          const result = yield* verify(verifier, token).pipe(
            Effect.provide(Layer.merge(Logger.replace(Logger.defaultLogger, capture), Logger.minimumLogLevel(LogLevel.All)))
          )
          if (Either.isLeft(result)) errors.push(result.left)
        }
        assert.strictEqual(errors.length, replies.length)
        assert.isAbove(lines.length, 0)
        const texts = [
          ...lines,
          ...errors.map((e) => `${String(e)} ${(e as Error).message} ${JSON.stringify(e)}`)
        ]
        for (const text of texts) {
          assert.notInclude(text, "s3cr3t")
          assert.notInclude(text, token)
          assert.notInclude(text, "as.example/oauth/introspect?")
        }
      }))
    it.effect("keeps the credentials out of trace spans, even with header redaction turned off", () =>
      Effect.gen(function* () {
        const native = yield* Effect.tracer
        const spans: Array<Tracer.Span> = []
        const recording = Tracer.make({
          span: (...args) => {
            const span = native.span(...args)
            spans.push(span)
            return span
          },
          context: native.context
        })
        const as = makeAs(() => json(active()))
        const verifier = yield* makeVerifier(as)
        yield* verify(verifier, "token").pipe(Effect.withTracer(recording), Effect.locally(Headers.currentRedactedNames, []))
        assert.isTrue(spans.some((span) => span.attributes.has("http.request.header.authorization")))
        for (const span of spans) {
          for (const [name, value] of span.attributes) {
            assert.notInclude(String(value), "Basic ", name)
            assert.notInclude(String(value), "s3cr3t", name)
          }
        }
      }))
  })

  describe("the cache", () => {
    it.effect("reuses an active result until the token's exp, then asks again", () =>
      Effect.gen(function* () {
        const as = makeAs(() => json(active({ exp: now + 20 })))
        const verifier = yield* makeVerifier(as, { cache: { maxTtl: "1 minute" } })
        assert.strictEqual(outcome(yield* verify(verifier, "token")), "accepted")
        yield* TestClock.adjust(Duration.millis(20_000 - 1))
        assert.strictEqual(outcome(yield* verify(verifier, "token")), "accepted")
        assert.strictEqual(as.calls, 1)
        yield* TestClock.adjust(Duration.millis(1))
        yield* verify(verifier, "token")
        assert.strictEqual(as.calls, 2)
      }))

    it.effect("reuses an active result no longer than maxTtl", () =>
      Effect.gen(function* () {
        let revoked = false
        const as = makeAs(() => json(revoked ? { active: false } : active()))
        const verifier = yield* makeVerifier(as, { cache: { maxTtl: "30 seconds" } })
        assert.strictEqual(outcome(yield* verify(verifier, "token")), "accepted")
        revoked = true
        yield* TestClock.adjust("29 seconds")
        // the revocation is not seen yet: this is the latency the cache trades for fewer calls
        assert.strictEqual(outcome(yield* verify(verifier, "token")), "accepted")
        assert.strictEqual(as.calls, 1)
        yield* TestClock.adjust("1 second")
        assert.strictEqual(outcome(yield* verify(verifier, "token")), "invalid:rejected")
        assert.strictEqual(as.calls, 2)
      }))

    it.effect("asks on every request with maxTtl 0", () =>
      Effect.gen(function* () {
        const as = makeAs(() => json(active()))
        const verifier = yield* makeVerifier(as, { cache: { maxTtl: 0 } })
        for (let i = 0; i < 3; i++) assert.strictEqual(outcome(yield* verify(verifier, "token")), "accepted")
        assert.strictEqual(as.calls, 3)
      }))

    it.effect("remembers a refused token for the negative TTL only", () =>
      Effect.gen(function* () {
        const responses: Record<string, unknown> = { bad: { active: false }, foreign: active({ aud: "https://other.example" }) }
        const as = makeAs(byToken(responses))
        const verifier = yield* makeVerifier(as)
        for (const token of ["bad", "foreign"]) {
          const before = as.calls
          const first = outcome(yield* verify(verifier, token))
          yield* TestClock.adjust("9 seconds")
          assert.strictEqual(outcome(yield* verify(verifier, token)), first)
          assert.strictEqual(as.calls, before + 1)
          yield* TestClock.adjust("1 second")
          assert.strictEqual(outcome(yield* verify(verifier, token)), first)
          assert.strictEqual(as.calls, before + 2)
        }
      }))

    it.effect("answers what the caches hold at once (immediate), the same as verify, and nothing else", () =>
      Effect.gen(function* () {
        const responses: Record<string, unknown> = { "t-good": active(), bad: { active: false } }
        const as = makeAs(byToken(responses))
        const verifier = yield* makeVerifier(as)
        const immediate = (token: string) =>
          Effect.map(Clock.currentTimeMillis, (at) => {
            const verdict = verifier.immediate!(Redacted.make(token), at)
            return verdict === undefined ? "none" : Exit.isSuccess(verdict) ? "accepted" : `invalid:${(Cause.squash(verdict.cause) as InvalidToken).reason}`
          })
        assert.strictEqual(yield* immediate("t-good"), "none")
        assert.strictEqual(yield* immediate(""), "invalid:malformed")
        for (const token of ["t-good", "bad"]) yield* verify(verifier, token)
        const calls = as.calls
        assert.strictEqual(yield* immediate("t-good"), "accepted")
        assert.strictEqual(yield* immediate("bad"), outcome(yield* verify(verifier, "bad")))
        assert.strictEqual(as.calls, calls)
        // past the negative TTL the refusal is no longer held
        yield* TestClock.adjust("10 seconds")
        assert.strictEqual(yield* immediate("bad"), "none")
      }))

    it.effect("makes one call for many concurrent verifications of one token", () =>
      Effect.gen(function* () {
        const as = makeAs(() => json(active()))
        as.delay("1 second")
        const verifier = yield* makeVerifier(as)
        const fibers = yield* Effect.forEach(Array.from({ length: 25 }), () => Effect.fork(verify(verifier, "token")))
        yield* flush
        yield* TestClock.adjust("1 second")
        const results = yield* Effect.forEach(fibers, Fiber.join)
        assert.isTrue(results.every((r) => outcome(r) === "accepted"))
        assert.strictEqual(as.calls, 1)
        // other tokens are not held up by, or merged with, this one
        yield* Effect.fork(verify(verifier, "other"))
        yield* flush
        assert.strictEqual(as.calls, 2)
      }))

    it.effect("shares one failure among concurrent callers and a caller giving up does not cancel the call", () =>
      Effect.gen(function* () {
        const as = makeAs(() => json({}, { status: 500 }))
        as.delay("1 second")
        const verifier = yield* makeVerifier(as)
        const quitter = yield* Effect.fork(verify(verifier, "token"))
        const waiters = yield* Effect.forEach(Array.from({ length: 5 }), () => Effect.fork(verify(verifier, "token")))
        yield* flush
        yield* Fiber.interrupt(quitter)
        yield* TestClock.adjust("1 second")
        for (const fiber of waiters) assert.strictEqual(outcome(yield* Fiber.join(fiber)), "upstream:status")
        assert.strictEqual(as.calls, 1)
      }))

    it.effect("holds at most maxEntries tokens and forgets the least recently used first", () =>
      Effect.gen(function* () {
        const as = makeAs(() => json(active()))
        const verifier = yield* makeVerifier(as, { cache: { maxEntries: 2 } })
        for (const token of ["t1", "t2", "t3"]) yield* verify(verifier, token)
        assert.strictEqual(as.calls, 3)
        yield* verify(verifier, "t3")
        yield* verify(verifier, "t2")
        assert.strictEqual(as.calls, 3)
        yield* verify(verifier, "t1") // evicted by t3
        assert.strictEqual(as.calls, 4)
      }))

    it.effect("keeps refused tokens apart, so a flood of junk cannot push out active ones", () =>
      Effect.gen(function* () {
        const as = makeAs(byToken({ good: active() }))
        const verifier = yield* makeVerifier(as, { cache: { maxEntries: 2 } })
        yield* verify(verifier, "good")
        for (let i = 0; i < 10; i++) yield* verify(verifier, `junk-${i}`)
        const before = as.calls
        assert.strictEqual(outcome(yield* verify(verifier, "good")), "accepted")
        assert.strictEqual(as.calls, before)
      }))
  })

  describe("the endpoint", () => {
    const metadata = (extra: Record<string, unknown>) =>
      json({ issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, ...extra })

    it.effect("is discovered from the issuer's metadata, fetched once", () =>
      Effect.gen(function* () {
        const as = makeAs(() => json(active()))
        const documents: Array<string> = []
        const client = HttpClient.make((request, url) =>
          url.pathname.startsWith("/.well-known/")
            ? Effect.sync(() => {
                documents.push(url.pathname)
                return HttpClientResponse.fromWeb(request, metadata({ introspection_endpoint: `${issuer}/introspect` }))
              })
            : as.client.execute(request)
        )
        yield* TestClock.setTime(now * 1000)
        const verifier = yield* IntrospectionVerifier.make({ ...baseOptions, endpoint: undefined }).pipe(
          Effect.provideService(HttpClient.HttpClient, client)
        )
        assert.strictEqual(documents.length, 0)
        for (const token of ["a", "b", "c"]) assert.strictEqual(outcome(yield* verify(verifier, token)), "accepted")
        assert.deepStrictEqual(documents, ["/.well-known/oauth-authorization-server"])
        assert.strictEqual(as.seen[0]?.url, `${issuer}/introspect`)
      }))

    it.effect("refuses to send credentials to a missing or insecure discovered endpoint", () =>
      Effect.gen(function* () {
        for (const extra of [{}, { introspection_endpoint: "http://as.example/introspect" }]) {
          const as = makeAs(() => json(active()))
          const client = HttpClient.make((request, url) =>
            url.pathname.startsWith("/.well-known/")
              ? Effect.succeed(HttpClientResponse.fromWeb(request, metadata(extra)))
              : as.client.execute(request)
          )
          const verifier = yield* IntrospectionVerifier.make({ ...baseOptions, endpoint: undefined }).pipe(
            Effect.provideService(HttpClient.HttpClient, client)
          )
          const result = yield* verify(verifier, "token")
          assert.isTrue(Either.isLeft(result) && result.left instanceof UpstreamUnavailable)
          assert.strictEqual(as.calls, 0)
        }
      }))

    it.effect("is validated at start", () =>
      Effect.gen(function* () {
        const as = makeAs(() => json(active()))
        const problems: ReadonlyArray<[Partial<IntrospectionVerifier.IntrospectionVerifierOptions>, string]> = [
          [{ endpoint: undefined, issuer: undefined }, "endpoint"],
          [{ endpoint: "http://as.example/introspect" }, "endpoint"],
          [{ endpoint: "not a url" }, "endpoint"],
          [{ clientId: "" }, "clientId"],
          [{ clientSecret: Redacted.make("") }, "clientSecret"],
          [{ audience: [] }, "audience"],
          [{ issuer: "https://as.example/?q=1" }, "issuer"]
        ]
        for (const [options, setting] of problems) {
          const error = yield* Effect.flip(makeVerifier(as, options))
          assert.instanceOf(error, ConfigProblem)
          assert.strictEqual(error.setting, setting)
        }
        // loopback http is fine for development
        yield* makeVerifier(as, { endpoint: "http://127.0.0.1:8080/introspect" })
      }))
  })

  describe("the provider", () => {
    const resourceLayer = ResourceServer.layer({ resource })

    it.effect("lists the issuer, defaults the audience to the resource, and reads its configuration", () =>
      Effect.gen(function* () {
        const as = makeAs(() => json(active()))
        const env = new Map([
          ["MCP_OAUTH_ISSUER", issuer],
          ["MCP_OAUTH_INTROSPECTION_URL", endpoint],
          ["MCP_OAUTH_INTROSPECTION_CLIENT_ID", "rs"],
          ["MCP_OAUTH_INTROSPECTION_CLIENT_SECRET", secret],
          ["MCP_OAUTH_INTROSPECTION_AUTH_METHOD", "client_secret_post"],
          ["MCP_OAUTH_SCOPES", "mcp read"]
        ])
        const layer = Introspection.layerConfig().pipe(
          Layer.provide(Layer.merge(resourceLayer, Layer.succeed(HttpClient.HttpClient, as.client))),
          Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(env)))
        )
        const { provider, verifier } = yield* Effect.all({ provider: Provider, verifier: TokenVerifier }).pipe(
          Effect.provide(layer)
        )
        assert.deepStrictEqual(provider.authorizationServers, [issuer])
        assert.deepStrictEqual(provider.scopesSupported, ["mcp", "read"])
        assert.strictEqual(provider.name, "introspection")
        assert.deepStrictEqual(provider.warnings, [])
        yield* TestClock.setTime(now * 1000)
        assert.strictEqual(outcome(yield* verify(verifier, "token")), "accepted")
        assert.strictEqual(as.seen[0]?.form.get("client_id"), "rs")
        assert.strictEqual(as.seen[0]?.form.get("client_secret"), secret)
      }))

    it.effect("names the missing variable, never the secret", () =>
      Effect.gen(function* () {
        const run = (env: Map<string, string>) =>
          Effect.flip(
            Effect.provide(
              Provider,
              Introspection.layerConfig().pipe(
                Layer.provide(Layer.merge(resourceLayer, Layer.succeed(HttpClient.HttpClient, makeAs(() => json({})).client))),
                Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(env)))
              )
            )
          )
        const full = [
          ["MCP_OAUTH_ISSUER", issuer],
          ["MCP_OAUTH_INTROSPECTION_CLIENT_ID", "rs"],
          ["MCP_OAUTH_INTROSPECTION_CLIENT_SECRET", secret]
        ] as const
        for (const [name] of full) {
          const error = yield* run(new Map(full.filter(([n]) => n !== name)))
          assert.instanceOf(error, ConfigProblem)
          assert.strictEqual(error.setting, name)
        }
        const bad = yield* run(new Map([...full, ["MCP_OAUTH_INTROSPECTION_URL", "http://as.example/i"]]))
        assert.strictEqual((bad as ConfigProblem).setting, "MCP_OAUTH_INTROSPECTION_URL")
        assert.notInclude(bad.message, "s3cr3t")
        const method = yield* run(new Map([...full, ["MCP_OAUTH_INTROSPECTION_AUTH_METHOD", "private_key_jwt"]]))
        assert.strictEqual((method as ConfigProblem).setting, "MCP_OAUTH_INTROSPECTION_AUTH_METHOD")
      }))

    it.effect("warns when responses without aud are accepted", () =>
      Effect.gen(function* () {
        const provider = yield* Effect.provide(
          Provider,
          Introspection.layer({ ...baseOptions, issuer, requireAudience: false }).pipe(
            Layer.provide(Layer.merge(resourceLayer, Layer.succeed(HttpClient.HttpClient, makeAs(() => json({})).client)))
          )
        )
        assert.strictEqual(provider.warnings.length, 1)
      }))
  })
})
