import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Logger, LogLevel, TestClock } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { UpstreamUnavailable } from "../src/Errors.js"
import { fetchJson } from "../src/internal/fetchJson.js"

type Reply = Response | "hang" | "transport-error"

/** An HttpClient answering from a function, counting the requests it sees. */
const mockClient = (reply: (url: URL) => Reply) => {
  const seen: Array<{ readonly url: string; readonly accept: string | undefined }> = []
  const client = HttpClient.make((request, url) =>
    Effect.suspend(() => {
      seen.push({ url: url.toString(), accept: request.headers["accept"] })
      const answer = reply(url)
      if (answer === "hang") return Effect.never
      if (answer === "transport-error") {
        return Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause: new Error("ECONNRESET") }))
      }
      return Effect.succeed(HttpClientResponse.fromWeb(request, answer))
    })
  )
  return { client, seen }
}

const json = (body: unknown, init: ResponseInit = {}) =>
  new Response(JSON.stringify(body), { ...init, headers: { "content-type": "application/json", ...init.headers } })

const options = { target: "test document", timeout: "5 seconds", maxResponseBytes: 1024 } as const

const run = (client: HttpClient.HttpClient, url = "https://idp.example/doc", opts: Parameters<typeof fetchJson>[1] = options) =>
  fetchJson(url, opts).pipe(Effect.provideService(HttpClient.HttpClient, client))

const failureOf = (client: HttpClient.HttpClient, url?: string, opts?: Parameters<typeof fetchJson>[1]) =>
  Effect.flip(run(client, url, opts))

/** A body delivered in chunks by a stream, so no Content-Length is known in advance. */
const streamed = (chunks: number, chunkBytes: number, headers: HeadersInit = { "content-type": "application/json" }) => {
  let sent = 0
  const pulled = { count: 0 }
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled.count++
      if (sent >= chunks) return controller.close()
      sent++
      controller.enqueue(new TextEncoder().encode(" ".repeat(chunkBytes)))
    }
  })
  return { response: new Response(body, { headers }), pulled }
}

describe("fetchJson", () => {
  it.effect("returns the parsed document and asks for JSON", () =>
    Effect.gen(function* () {
      const { client, seen } = mockClient(() => json({ hello: ["world"] }))
      const document = yield* run(client)
      assert.deepStrictEqual(document, { hello: ["world"] })
      assert.strictEqual(seen.length, 1)
      assert.strictEqual(seen[0]?.accept, "application/json")
    }))

  it.effect("fails with status on a non-2xx answer", () =>
    Effect.gen(function* () {
      for (const status of [404, 500, 503, 204 + 200]) {
        const error = yield* failureOf(mockClient(() => json({ error: "x" }, { status })).client)
        assert.instanceOf(error, UpstreamUnavailable)
        assert.strictEqual(error.reason, "status")
        assert.strictEqual(error.target, "test document")
      }
    }))

  it.effect("treats a redirect as a failure and does not follow it", () =>
    Effect.gen(function* () {
      const { client, seen } = mockClient((url) =>
        url.pathname === "/doc"
          ? new Response(null, { status: 302, headers: { location: "https://evil.example/doc" } })
          : json({ followed: true })
      )
      const error = yield* failureOf(client)
      assert.strictEqual(error.reason, "status")
      assert.deepStrictEqual(seen.map((s) => s.url), ["https://idp.example/doc"])
    }))

  it.effect("takes a Retry-After from the upstream, bounded", () =>
    Effect.gen(function* () {
      const withHeader = (value: string) => mockClient(() => json({}, { status: 503, headers: { "retry-after": value } })).client
      assert.strictEqual((yield* failureOf(withHeader("17"))).retryAfterSeconds, 17)
      assert.strictEqual((yield* failureOf(withHeader("999999"))).retryAfterSeconds, 3600)
      assert.strictEqual((yield* failureOf(withHeader("Wed, 21 Oct 2015 07:28:00 GMT"))).retryAfterSeconds, 1)
    }))

  it.effect("refuses HTML, garbage, empty and non-UTF-8 bodies as bad_response", () =>
    Effect.gen(function* () {
      const bodies: ReadonlyArray<Response> = [
        new Response("<!doctype html><html><body>Sign in</body></html>", { headers: { "content-type": "text/html; charset=utf-8" } }),
        // HTML is refused by its type even when it happens to parse as JSON
        new Response("\"<html>\"", { headers: { "content-type": "text/html" } }),
        new Response("{\"keys\": [", { headers: { "content-type": "application/json" } }),
        new Response("not json at all", { headers: { "content-type": "application/json" } }),
        new Response("", { headers: { "content-type": "application/json" } }),
        new Response(null, { status: 200 }),
        new Response(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), { headers: { "content-type": "application/json" } })
      ]
      for (const body of bodies) {
        const error = yield* failureOf(mockClient(() => body).client)
        assert.strictEqual(error.reason, "bad_response")
      }
    }))

  it.effect("accepts a JSON body served without a content type or as text/plain", () =>
    Effect.gen(function* () {
      const plain = new Response("{\"a\":1}", { headers: { "content-type": "text/plain" } })
      assert.deepStrictEqual(yield* run(mockClient(() => plain).client), { a: 1 })
      const bare = new Response(new TextEncoder().encode("{\"a\":2}"))
      assert.deepStrictEqual(yield* run(mockClient(() => bare).client), { a: 2 })
    }))

  it.effect("refuses a body over the cap announced by Content-Length without reading it", () =>
    Effect.gen(function* () {
      const { response, pulled } = streamed(100, 100, { "content-type": "application/json", "content-length": "10000" })
      const error = yield* failureOf(mockClient(() => response).client)
      assert.strictEqual(error.reason, "too_large")
      // a ReadableStream pulls once to fill its queue on creation; the body was never consumed beyond that
      assert.isAtMost(pulled.count, 1)
    }))

  it.effect("refuses a body over the cap when Content-Length lies", () =>
    Effect.gen(function* () {
      const body = JSON.stringify({ padding: "x".repeat(5000) })
      const lying = new Response(body, { headers: { "content-type": "application/json", "content-length": "20" } })
      const error = yield* failureOf(mockClient(() => lying).client)
      assert.strictEqual(error.reason, "too_large")
    }))

  it.effect("refuses a streamed body over the cap and stops reading it", () =>
    Effect.gen(function* () {
      const { response, pulled } = streamed(1000, 100)
      const error = yield* failureOf(mockClient(() => response).client)
      assert.strictEqual(error.reason, "too_large")
      assert.isBelow(pulled.count, 20)
    }))

  it.effect("accepts a body of exactly the cap", () =>
    Effect.gen(function* () {
      const body = `"${"x".repeat(1022)}"`
      assert.strictEqual(body.length, 1024)
      const document = yield* run(mockClient(() => new Response(body)).client)
      assert.strictEqual(document, "x".repeat(1022))
    }))

  it.effect("times out when the upstream never answers", () =>
    Effect.gen(function* () {
      const fiber = yield* Effect.fork(failureOf(mockClient(() => "hang").client))
      yield* TestClock.adjust("4999 millis")
      assert.isNull(fiber.unsafePoll())
      yield* TestClock.adjust("1 millis")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error.reason, "timeout")
    }))

  it.effect("times out when the body never completes", () =>
    Effect.gen(function* () {
      const trickle = new Response(new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new TextEncoder().encode("{")) }))
      const fiber = yield* Effect.fork(failureOf(mockClient(() => trickle).client))
      yield* TestClock.adjust("5 seconds")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error.reason, "timeout")
    }))

  it.effect("reports a transport error as unreachable", () =>
    Effect.gen(function* () {
      const error = yield* failureOf(mockClient(() => "transport-error").client)
      assert.strictEqual(error.reason, "unreachable")
    }))

  it.effect("never puts the query or a secret into errors or logs", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const logger = Logger.make(({ annotations, message }) => {
        lines.push(JSON.stringify({ message, annotations: Object.fromEntries(annotations) }))
      })
      const url = "https://idp.example/doc?client_secret=s3cr3t-value&token=tok3n"
      for (const reply of [json({}, { status: 500 }), new Response("<html>", { headers: { "content-type": "text/html" } })]) {
        const error = yield* failureOf(mockClient(() => reply).client, url).pipe(
          Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
          Logger.withMinimumLogLevel(LogLevel.All)
        )
        const rendered = `${error.message} ${JSON.stringify(error)} ${String(error)}`
        assert.notInclude(rendered, "s3cr3t")
        assert.notInclude(rendered, "tok3n")
      }
      assert.isAbove(lines.length, 0)
      for (const line of lines) {
        assert.notInclude(line, "s3cr3t")
        assert.notInclude(line, "tok3n")
      }
      assert.include(lines.join("\n"), "https://idp.example/doc")
    }))

  describe("over real HTTP with FetchHttpClient", () => {
    const withServer = <A, E>(
      handler: http.RequestListener,
      use: (base: string, requests: Array<string>) => Effect.Effect<A, E, HttpClient.HttpClient>
    ) =>
      Effect.acquireRelease(
        Effect.async<{ server: http.Server; requests: Array<string> }>((resume) => {
          const requests: Array<string> = []
          const server = http.createServer((req, res) => {
            requests.push(req.url ?? "")
            handler(req, res)
          })
          server.listen(0, "127.0.0.1", () => resume(Effect.succeed({ server, requests })))
        }),
        ({ server }) => Effect.async<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
      ).pipe(
        Effect.flatMap(({ server, requests }) =>
          use(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests)
        ),
        Effect.scoped,
        Effect.provide(FetchHttpClient.layer)
      )

    it.live("does not follow a redirect even though fetch would", () =>
      withServer(
        (req, res) => {
          if (req.url === "/start") {
            res.writeHead(302, { location: "/target" }).end()
          } else {
            res.writeHead(200, { "content-type": "application/json" }).end("{\"followed\":true}")
          }
        },
        (base, requests) =>
          Effect.gen(function* () {
            const error = yield* Effect.flip(fetchJson(`${base}/start`, options))
            assert.strictEqual(error.reason, "status")
            assert.deepStrictEqual(requests, ["/start"])
          })
      ))

    it.live("cuts off a chunked body over the cap", () =>
      withServer(
        (_req, res) => {
          res.writeHead(200, { "content-type": "application/json" })
          // no Content-Length: Node sends it chunked, and keeps writing until the client goes away
          const chunk = " ".repeat(256)
          const timer = setInterval(() => {
            if (!res.write(chunk) && res.destroyed) clearInterval(timer)
          }, 1)
          res.on("close", () => clearInterval(timer))
        },
        (base) =>
          Effect.gen(function* () {
            const error = yield* Effect.flip(fetchJson(`${base}/big`, options))
            assert.strictEqual(error.reason, "too_large")
          })
      ))

    it.live("reads a real document", () =>
      withServer(
        (_req, res) => res.writeHead(200, { "content-type": "application/json" }).end("{\"keys\":[]}"),
        (base) =>
          Effect.gen(function* () {
            assert.deepStrictEqual(yield* fetchJson(`${base}/jwks`, options), { keys: [] })
          })
      ))
  })
})
