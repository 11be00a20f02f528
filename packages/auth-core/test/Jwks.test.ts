import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Clock, Config, ConfigProvider, Duration, Effect, Either, Exit, FastCheck as fc, Fiber, TestClock } from "effect"
import { ConfigProblem } from "../src/ConfigProblem.js"
import * as jose from "jose"
import { generateKeyPairSync } from "node:crypto"
import { InvalidToken, UpstreamUnavailable } from "../src/Errors.js"
import * as Jwks from "../src/Jwks.js"

// ---------------------------------------------------------------------------------------------------------------
// keys

const pair = async (alg: string, kid: string, options: jose.GenerateKeyPairOptions = {}) => {
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true, ...options })
  const publicJwk = { ...(await jose.exportJWK(publicKey)), kid, alg, use: "sig" }
  return { alg, kid, privateKey, publicJwk, privateJwk: { ...(await jose.exportJWK(privateKey)), kid } }
}

const rsaA = await pair("RS256", "a")
const rsaB = await pair("RS256", "b")
const ec256 = await pair("ES256", "ec")
const ed = await pair("EdDSA", "ed", { crv: "Ed25519" })
const weakRsa = (() => {
  // jose refuses to generate weak keys, which is the point; node:crypto still can
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 1024 })
  return { ...(publicKey.export({ format: "jwk" }) as jose.JWK), kid: "weak" }
})()

const sign = (key: { alg: string; kid: string; privateKey: CryptoKey }, alg = key.alg, kid: string | undefined = key.kid) =>
  new jose.CompactSign(new TextEncoder().encode("payload"))
    .setProtectedHeader(kid === undefined ? { alg } : { alg, kid })
    .sign(key.privateKey)

// ---------------------------------------------------------------------------------------------------------------
// a mock identity provider

type Reply = Response | "hang"

/** A JWKS endpoint whose answer can change during a test; it counts every request it receives. */
const makeIdp = (initial: () => Reply) => {
  let reply = initial
  let delay: Duration.DurationInput = 0
  const state = { fetches: 0 }
  const client = HttpClient.make((request) =>
    Effect.suspend(() => {
      state.fetches++
      const answer = reply()
      if (answer === "hang") return Effect.never
      // a delay (on the TestClock) keeps the fetch in flight while concurrent callers arrive
      return Effect.as(Effect.sleep(delay), HttpClientResponse.fromWeb(request, answer))
    })
  )
  return {
    client,
    get fetches() {
      return state.fetches
    },
    answer(next: () => Reply) {
      reply = next
    },
    delay(next: Duration.DurationInput) {
      delay = next
    }
  }
}

const keySet = (...keys: ReadonlyArray<unknown>) => () =>
  new Response(JSON.stringify({ keys }), { headers: { "content-type": "application/jwk-set+json" } })

const status = (code: number) => () => new Response("{\"error\":\"server_error\"}", { status: code })

const uri = "https://idp.example/.well-known/jwks.json"

const makeJwks = (idp: ReturnType<typeof makeIdp>, options: Partial<Jwks.JwksOptions> = {}) =>
  Jwks.make({ uri, ...options }).pipe(Effect.provideService(HttpClient.HttpClient, idp.client))

const failure = <A, E>(effect: Effect.Effect<A, E>) => Effect.flip(effect)

/** Lets forked fibers (a background refresh) run up to their next suspension, without moving the clock. */
const flush = TestClock.adjust(0)

const reasonOf = (error: InvalidToken | UpstreamUnavailable) =>
  error instanceof InvalidToken ? `invalid:${error.reason}` : `upstream:${error.reason}`

const verifies = (token: string, key: CryptoKey) =>
  Effect.promise(() => jose.compactVerify(token, key).then(() => true, () => false))

// ---------------------------------------------------------------------------------------------------------------

describe("Jwks", () => {
  describe("key selection", () => {
    it.effect("returns keys that verify RS256, PS256, ES256 and EdDSA signatures", () =>
      Effect.gen(function* () {
        const rsaNoAlg = { ...rsaA.publicJwk, alg: undefined, kid: "rsa-any" }
        const idp = makeIdp(keySet(rsaA.publicJwk, ec256.publicJwk, ed.publicJwk, rsaNoAlg))
        const jwks = yield* makeJwks(idp)
        for (const key of [rsaA, ec256, ed]) {
          const token = yield* Effect.promise(() => sign(key))
          assert.isTrue(yield* verifies(token, yield* jwks.getKey({ alg: key.alg, kid: key.kid })))
        }
        // a key without `alg` serves any algorithm of its type
        const pssKey = yield* Effect.promise(() => jose.importJWK(rsaA.privateJwk, "PS256") as Promise<CryptoKey>)
        const pss = yield* Effect.promise(() => sign({ alg: "PS256", kid: "rsa-any", privateKey: pssKey }))
        assert.isTrue(yield* verifies(pss, yield* jwks.getKey({ alg: "PS256", kid: "rsa-any" })))
        assert.strictEqual(idp.fetches, 1)
      }))

    it.effect("imports a key once per kid and algorithm", () =>
      Effect.gen(function* () {
        const jwks = yield* makeJwks(makeIdp(keySet({ ...rsaA.publicJwk, alg: undefined })))
        const first = yield* jwks.getKey({ alg: "RS256", kid: "a" })
        assert.strictEqual(yield* jwks.getKey({ alg: "RS256", kid: "a" }), first)
        assert.notStrictEqual(yield* jwks.getKey({ alg: "PS256", kid: "a" }), first)
      }))

    it.effect("without a kid, uses the only key that fits and refuses to guess among several", () =>
      Effect.gen(function* () {
        const jwks = yield* makeJwks(makeIdp(keySet(rsaA.publicJwk, rsaB.publicJwk, ec256.publicJwk)))
        const token = yield* Effect.promise(() => sign(ec256, "ES256", undefined))
        assert.isTrue(yield* verifies(token, yield* jwks.getKey({ alg: "ES256" })))
        assert.strictEqual(reasonOf(yield* failure(jwks.getKey({ alg: "RS256" }))), "invalid:unknown_key")
      }))

    it.effect("refuses a key whose type, curve, alg or use does not fit the token's algorithm", () =>
      Effect.gen(function* () {
        const encKey = { ...rsaB.publicJwk, use: "enc", kid: "enc" }
        const verifyOnlyNot = { ...rsaB.publicJwk, key_ops: ["encrypt"], kid: "ops" }
        const idp = makeIdp(keySet(rsaA.publicJwk, ec256.publicJwk, ed.publicJwk, encKey, verifyOnlyNot))
        const jwks = yield* makeJwks(idp)
        const cases: ReadonlyArray<[Jwks.KeySelector, string]> = [
          [{ alg: "ES256", kid: "a" }, "invalid:algorithm"], // RSA key, EC algorithm
          [{ alg: "RS256", kid: "ec" }, "invalid:algorithm"], // EC key, RSA algorithm
          [{ alg: "ES384", kid: "ec" }, "invalid:algorithm"], // P-256 key, P-384 algorithm
          [{ alg: "RS512", kid: "a" }, "invalid:algorithm"], // key pinned to RS256
          [{ alg: "EdDSA", kid: "a" }, "invalid:algorithm"],
          [{ alg: "RS256", kid: "ed" }, "invalid:algorithm"],
          [{ alg: "RS256", kid: "enc" }, "invalid:unknown_key"], // encryption keys are not in the signing set
          [{ alg: "RS256", kid: "ops" }, "invalid:unknown_key"]
        ]
        for (const [selector, expected] of cases) {
          assert.strictEqual(reasonOf(yield* failure(jwks.getKey(selector))), expected, JSON.stringify(selector))
        }
        assert.strictEqual(idp.fetches, 1)
      }))

    it.effect("refuses symmetric and unknown algorithms before any fetch", () =>
      Effect.gen(function* () {
        const idp = makeIdp(keySet(rsaA.publicJwk))
        const jwks = yield* makeJwks(idp)
        for (const alg of ["HS256", "none", "RSA-OAEP", "", "rs256"]) {
          assert.strictEqual(reasonOf(yield* failure(jwks.getKey({ alg, kid: "a" }))), "invalid:algorithm")
        }
        assert.strictEqual(idp.fetches, 0)
      }))

    it.effect("refuses an RSA key below the minimum modulus with weak_key", () =>
      Effect.gen(function* () {
        const jwks = yield* makeJwks(makeIdp(keySet(weakRsa, rsaA.publicJwk)))
        assert.strictEqual(reasonOf(yield* failure(jwks.getKey({ alg: "RS256", kid: "weak" }))), "invalid:weak_key")
        // the limit is a setting: a 2048-bit key is weak under a 3072-bit policy
        const strict = yield* makeJwks(makeIdp(keySet(rsaA.publicJwk)), { minRsaModulusBits: 3072 })
        assert.strictEqual(reasonOf(yield* failure(strict.getKey({ alg: "RS256", kid: "a" }))), "invalid:weak_key")
        const lax = yield* makeJwks(makeIdp(keySet(weakRsa)), { minRsaModulusBits: 1024 })
        assert.instanceOf(yield* lax.getKey({ alg: "RS256", kid: "weak" }), CryptoKey)
      }))

    it.effect("refuses keys that carry private material, and skips malformed keys without failing the set", () =>
      Effect.gen(function* () {
        const leakedRsa = { ...rsaB.privateJwk, kid: "leak-rsa", alg: "RS256" }
        const leakedEc = { ...ec256.privateJwk, kid: "leak-ec", alg: "ES256" }
        const hmac = { kty: "oct", k: "c2VjcmV0", kid: "hmac", alg: "HS256" }
        const junk = [null, 42, "key", [], { kty: "RSA", kid: "no-n" }, { kty: "EC", crv: "P-256", kid: "no-xy" }, { kid: "no-kty" }]
        const idp = makeIdp(keySet(...junk, leakedRsa, leakedEc, hmac, rsaA.publicJwk))
        const jwks = yield* makeJwks(idp)
        assert.strictEqual(reasonOf(yield* failure(jwks.getKey({ alg: "RS256", kid: "leak-rsa" }))), "invalid:unknown_key")
        assert.strictEqual(reasonOf(yield* failure(jwks.getKey({ alg: "ES256", kid: "leak-ec" }))), "invalid:unknown_key")
        assert.strictEqual(reasonOf(yield* failure(jwks.getKey({ alg: "RS256", kid: "no-n" }))), "invalid:unknown_key")
        // without a kid, the leaked RSA key does not count as a candidate: the public one is the only fit
        const token = yield* Effect.promise(() => sign(rsaA, "RS256", undefined))
        assert.isTrue(yield* verifies(token, yield* jwks.getKey({ alg: "RS256" })))
        assert.isTrue(yield* verifies(yield* Effect.promise(() => sign(rsaA)), yield* jwks.getKey({ alg: "RS256", kid: "a" })))
      }))
  })

  describe("fetching", () => {
    it.effect("fails with UpstreamUnavailable when the first fetch fails, and does not retry inside the cooldown", () =>
      Effect.gen(function* () {
        const idp = makeIdp(status(503))
        const jwks = yield* makeJwks(idp)
        const first = yield* failure(jwks.getKey({ alg: "RS256", kid: "a" }))
        assert.instanceOf(first, UpstreamUnavailable)
        assert.strictEqual(reasonOf(first), "upstream:status")
        assert.strictEqual(first.target, "jwks")
        assert.strictEqual((first as UpstreamUnavailable).retryAfterSeconds, 30)
        yield* TestClock.adjust("10 seconds")
        const second = yield* failure(jwks.getKey({ alg: "RS256", kid: "a" }))
        assert.strictEqual((second as UpstreamUnavailable).retryAfterSeconds, 20)
        yield* TestClock.adjust("19500 millis")
        assert.strictEqual(((yield* failure(jwks.getKey({ alg: "RS256", kid: "a" }))) as UpstreamUnavailable).retryAfterSeconds, 1)
        assert.strictEqual(idp.fetches, 1)
        idp.answer(keySet(rsaA.publicJwk))
        yield* TestClock.adjust("500 millis")
        assert.instanceOf(yield* jwks.getKey({ alg: "RS256", kid: "a" }), CryptoKey)
        assert.strictEqual(idp.fetches, 2)
      }))

    it.effect("refuses HTML, garbage and bodies that are not a key set as bad_response", () =>
      Effect.gen(function* () {
        const bodies: ReadonlyArray<() => Response> = [
          () => new Response("<html><body>Please sign in</body></html>", { headers: { "content-type": "text/html" } }),
          () => new Response("\u0000\u0001garbage", { headers: { "content-type": "application/json" } }),
          () => new Response("[]", { headers: { "content-type": "application/json" } }),
          () => new Response("{\"keys\":\"none\"}", { headers: { "content-type": "application/json" } }),
          () => new Response("{\"jwks\":[]}", { headers: { "content-type": "application/json" } })
        ]
        for (const body of bodies) {
          const jwks = yield* makeJwks(makeIdp(body))
          assert.strictEqual(reasonOf(yield* failure(jwks.getKey({ alg: "RS256", kid: "a" }))), "upstream:bad_response")
        }
      }))

    it.effect("refuses an oversized key set, whether Content-Length is honest, lying or absent", () =>
      Effect.gen(function* () {
        const padding = Array.from({ length: 3000 }, (_, i) => ({ ...rsaB.publicJwk, kid: `pad-${i}` }))
        const big = JSON.stringify({ keys: [rsaA.publicJwk, ...padding] })
        assert.isAbove(big.length, 512 * 1024)
        const replies: ReadonlyArray<() => Response> = [
          () => new Response(big, { headers: { "content-type": "application/json" } }),
          () => new Response(big, { headers: { "content-type": "application/json", "content-length": "1000" } }),
          () => {
            const bytes = new TextEncoder().encode(big)
            let offset = 0
            return new Response(new ReadableStream<Uint8Array>({
              pull(controller) {
                if (offset >= bytes.length) return controller.close()
                controller.enqueue(bytes.subarray(offset, offset + 16 * 1024))
                offset += 16 * 1024
              }
            }))
          }
        ]
        for (const reply of replies) {
          const jwks = yield* makeJwks(makeIdp(reply))
          assert.strictEqual(reasonOf(yield* failure(jwks.getKey({ alg: "RS256", kid: "a" }))), "upstream:too_large")
        }
        // the cap is a setting
        const roomy = yield* makeJwks(makeIdp(replies[1]!), { maxResponseBytes: 4 * 1024 * 1024 })
        assert.instanceOf(yield* roomy.getKey({ alg: "RS256", kid: "a" }), CryptoKey)
      }))

    it.effect("does not follow a redirect", () =>
      Effect.gen(function* () {
        const idp = makeIdp(() => new Response(null, { status: 302, headers: { location: "https://attacker.example/jwks" } }))
        const jwks = yield* makeJwks(idp)
        assert.strictEqual(reasonOf(yield* failure(jwks.getKey({ alg: "RS256", kid: "a" }))), "upstream:status")
        assert.strictEqual(idp.fetches, 1)
      }))

    it.effect("times out a fetch that never completes", () =>
      Effect.gen(function* () {
        const idp = makeIdp(() => "hang")
        const jwks = yield* makeJwks(idp, { timeout: "2 seconds" })
        const fiber = yield* Effect.fork(failure(jwks.getKey({ alg: "RS256", kid: "a" })))
        yield* TestClock.adjust("2 seconds")
        assert.strictEqual(reasonOf(yield* Fiber.join(fiber)), "upstream:timeout")
      }))
  })

  describe("single flight and cooldown", () => {
    it.effect("100 concurrent lookups of an unknown kid cause exactly one fetch", () =>
      Effect.gen(function* () {
        const idp = makeIdp(keySet(rsaA.publicJwk))
        idp.delay("100 millis")
        const jwks = yield* makeJwks(idp)
        const fiber = yield* Effect.fork(
          Effect.all(Array.from({ length: 100 }, () => Effect.either(jwks.getKey({ alg: "RS256", kid: "unknown" }))), {
            concurrency: "unbounded"
          })
        )
        yield* TestClock.adjust("100 millis")
        const results = yield* Fiber.join(fiber)
        assert.strictEqual(idp.fetches, 1)
        for (const result of results) {
          assert.isTrue(Either.isLeft(result))
          if (Either.isLeft(result)) assert.strictEqual(reasonOf(result.left), "invalid:unknown_key")
        }
      }))

    it.effect("100 concurrent first lookups of a known kid share one fetch", () =>
      Effect.gen(function* () {
        const idp = makeIdp(keySet(rsaA.publicJwk))
        idp.delay("100 millis")
        const jwks = yield* makeJwks(idp)
        const fiber = yield* Effect.fork(
          Effect.all(Array.from({ length: 100 }, () => jwks.getKey({ alg: "RS256", kid: "a" })), { concurrency: "unbounded" })
        )
        yield* TestClock.adjust("100 millis")
        const keys = yield* Fiber.join(fiber)
        assert.strictEqual(idp.fetches, 1)
        assert.strictEqual(new Set(keys).size, 1)
      }))

    it.effect("a caller that gives up does not cancel the fetch others wait on", () =>
      Effect.gen(function* () {
        const idp = makeIdp(keySet(rsaA.publicJwk))
        idp.delay("1 second")
        const jwks = yield* makeJwks(idp)
        const impatient = yield* Effect.fork(jwks.getKey({ alg: "RS256", kid: "a" }))
        yield* TestClock.adjust("10 millis")
        const patient = yield* Effect.fork(jwks.getKey({ alg: "RS256", kid: "a" }))
        yield* TestClock.adjust("10 millis")
        yield* Fiber.interrupt(impatient)
        yield* TestClock.adjust("1 second")
        assert.instanceOf(yield* Fiber.join(patient), CryptoKey)
        assert.strictEqual(idp.fetches, 1)
      }))

    it.effect("unknown kids inside the cooldown cause no further fetch, however many and however concurrent", () =>
      Effect.gen(function* () {
        const idp = makeIdp(keySet(rsaA.publicJwk))
        const jwks = yield* makeJwks(idp)
        yield* jwks.getKey({ alg: "RS256", kid: "a" })
        const kids = fc.sample(fc.string({ minLength: 1, maxLength: 40 }).filter((kid) => kid !== "a"), 300)
        for (let step = 0; step < 29; step++) {
          const batch = kids.slice(step * 10, step * 10 + 10)
          const results = yield* Effect.all(
            batch.map((kid) => Effect.either(jwks.getKey({ alg: "RS256", kid }))),
            { concurrency: "unbounded" }
          )
          for (const result of results) {
            assert.isTrue(Either.isLeft(result) && reasonOf(result.left) === "invalid:unknown_key")
          }
          yield* TestClock.adjust("1 second")
        }
        yield* TestClock.adjust("999 millis")
        assert.strictEqual(reasonOf(yield* failure(jwks.getKey({ alg: "RS256", kid: "zz" }))), "invalid:unknown_key")
        assert.strictEqual(idp.fetches, 1)
        // the cooldown is over: one unknown kid is worth one look
        yield* TestClock.adjust("1 millis")
        assert.strictEqual(reasonOf(yield* failure(jwks.getKey({ alg: "RS256", kid: "zz" }))), "invalid:unknown_key")
        assert.strictEqual(idp.fetches, 2)
        assert.strictEqual(reasonOf(yield* failure(jwks.getKey({ alg: "RS256", kid: "yy" }))), "invalid:unknown_key")
        assert.strictEqual(idp.fetches, 2)
      }))

    it.effect("held: a known key at once, an unknown kid refused at once inside the cooldown, left to getKey after it", () =>
      Effect.gen(function* () {
        const idp = makeIdp(keySet(rsaA.publicJwk))
        const jwks = yield* makeJwks(idp)
        const held = (kid: string) =>
          Effect.map(Clock.currentTimeMillis, (now) => {
            const answer = jwks.held!({ alg: "RS256", kid }, now)
            return answer === undefined ? "none" : Exit.isSuccess(answer) ? "key" : `invalid:${(Cause.squash(answer.cause) as InvalidToken).reason}`
          })
        // nothing fetched yet: only getKey can tell
        assert.strictEqual(yield* held("a"), "none")
        yield* jwks.getKey({ alg: "RS256", kid: "a" })
        assert.strictEqual(yield* held("a"), "key")
        // the same answer getKey gives, and no fetch for it
        assert.strictEqual(yield* held("unknown"), "invalid:unknown_key")
        assert.strictEqual(reasonOf(yield* failure(jwks.getKey({ alg: "RS256", kid: "unknown" }))), "invalid:unknown_key")
        assert.strictEqual(idp.fetches, 1)
        // past the cooldown an unknown kid is worth a look, which only getKey may take
        yield* TestClock.adjust("30 seconds")
        assert.strictEqual(yield* held("unknown"), "none")
        assert.strictEqual(yield* held("a"), "key")
      }))

    it.effect("picks up a rotated key once the cooldown has passed", () =>
      Effect.gen(function* () {
        const idp = makeIdp(keySet(rsaA.publicJwk))
        const jwks = yield* makeJwks(idp)
        yield* jwks.getKey({ alg: "RS256", kid: "a" })
        idp.answer(keySet(rsaA.publicJwk, rsaB.publicJwk))
        yield* TestClock.adjust("5 seconds")
        assert.strictEqual(reasonOf(yield* failure(jwks.getKey({ alg: "RS256", kid: "b" }))), "invalid:unknown_key")
        yield* TestClock.adjust("25 seconds")
        const token = yield* Effect.promise(() => sign(rsaB))
        assert.isTrue(yield* verifies(token, yield* jwks.getKey({ alg: "RS256", kid: "b" })))
        assert.strictEqual(idp.fetches, 2)
        // the old key is still in the set and still served
        assert.instanceOf(yield* jwks.getKey({ alg: "RS256", kid: "a" }), CryptoKey)
        assert.strictEqual(idp.fetches, 2)
      }))

    it.effect("honours a custom cooldown", () =>
      Effect.gen(function* () {
        const idp = makeIdp(keySet(rsaA.publicJwk))
        const jwks = yield* makeJwks(idp, { cooldown: "5 minutes" })
        yield* jwks.getKey({ alg: "RS256", kid: "a" })
        yield* TestClock.adjust("4 minutes")
        yield* Effect.flip(jwks.getKey({ alg: "RS256", kid: "b" }))
        assert.strictEqual(idp.fetches, 1)
        yield* TestClock.adjust("1 minute")
        yield* Effect.flip(jwks.getKey({ alg: "RS256", kid: "b" }))
        assert.strictEqual(idp.fetches, 2)
      }))
  })

  describe("max age", () => {
    it.effect("refreshes an old set in the background while known keys keep answering at once", () =>
      Effect.gen(function* () {
        const idp = makeIdp(keySet(rsaA.publicJwk))
        const jwks = yield* makeJwks(idp)
        const keyA = yield* jwks.getKey({ alg: "RS256", kid: "a" })
        yield* TestClock.adjust("9 minutes")
        yield* jwks.getKey({ alg: "RS256", kid: "a" })
        assert.strictEqual(idp.fetches, 1)

        // the IdP rotated and is slow to answer
        idp.answer(keySet(rsaB.publicJwk))
        idp.delay("3 seconds")
        yield* TestClock.adjust("1 minute")
        const during = yield* Effect.fork(Effect.all(Array.from({ length: 20 }, () => jwks.getKey({ alg: "RS256", kid: "a" }))))
        yield* flush
        // answered without the clock moving, while the refresh is still in flight: nobody waited for it
        const answered = during.unsafePoll()
        assert.isNotNull(answered)
        assert.strictEqual((yield* Fiber.join(during))[0], keyA)
        yield* flush
        assert.strictEqual(idp.fetches, 2)

        yield* TestClock.adjust("3 seconds")
        yield* flush
        assert.instanceOf(yield* jwks.getKey({ alg: "RS256", kid: "b" }), CryptoKey)
        // the new set replaced the old one: the retired key is gone (and, inside the cooldown, not looked for again)
        assert.strictEqual(reasonOf(yield* failure(jwks.getKey({ alg: "RS256", kid: "a" }))), "invalid:unknown_key")
        assert.strictEqual(idp.fetches, 2)
      }))

    it.effect("a set that hangs on refresh keeps serving known keys", () =>
      Effect.gen(function* () {
        const idp = makeIdp(keySet(rsaA.publicJwk))
        const jwks = yield* makeJwks(idp)
        yield* jwks.getKey({ alg: "RS256", kid: "a" })
        idp.answer(() => "hang")
        yield* TestClock.adjust("11 minutes")
        for (let i = 0; i < 10; i++) {
          yield* jwks.getKey({ alg: "RS256", kid: "a" })
          yield* flush
        }
        assert.strictEqual(idp.fetches, 2)
      }))
  })

  describe("stale if error", () => {
    const staleScenario = (fault: () => Reply, expectedReason: string, retryAfterSeconds: number) =>
      Effect.gen(function* () {
        const idp = makeIdp(keySet(rsaA.publicJwk))
        const jwks = yield* makeJwks(idp)
        const token = yield* Effect.promise(() => sign(rsaA))
        yield* jwks.getKey({ alg: "RS256", kid: "a" })
        idp.answer(fault)

        // every hour for 24 hours: the key keeps verifying, and the failing IdP is asked at most once per cooldown
        for (let hour = 1; hour <= 24; hour++) {
          yield* TestClock.setTime(hour === 24 ? (23 * 60 + 59) * 60_000 : hour * 3_600_000)
          assert.isTrue(yield* verifies(token, yield* jwks.getKey({ alg: "RS256", kid: "a" })), `hour ${hour}`)
          // let a hanging refresh reach its timeout
          yield* TestClock.adjust("5 seconds")
        }
        assert.strictEqual(idp.fetches, 1 + 24)
        // an unknown kid during the fault cannot be decided: 503, not 401
        const undecided = yield* failure(jwks.getKey({ alg: "RS256", kid: "b" }))
        assert.strictEqual(reasonOf(undecided), `upstream:${expectedReason}`)
        // the cooldown runs from the end of the last attempt: a timed-out attempt ended 5 seconds after it began
        assert.strictEqual((undecided as UpstreamUnavailable).retryAfterSeconds, retryAfterSeconds)

        // past max-stale the set is dropped
        yield* TestClock.setTime(Duration.toMillis("24 hours") + 1)
        const dropped = yield* Effect.fork(failure(jwks.getKey({ alg: "RS256", kid: "a" })))
        yield* TestClock.adjust("5 seconds")
        const error = yield* Fiber.join(dropped)
        assert.instanceOf(error, UpstreamUnavailable)
        assert.strictEqual(reasonOf(error), `upstream:${expectedReason}`)
        // and stays dropped while the IdP is down, without a fetch per request inside the cooldown
        const fetches = idp.fetches
        assert.strictEqual(reasonOf(yield* failure(jwks.getKey({ alg: "RS256", kid: "a" }))), `upstream:${expectedReason}`)
        assert.strictEqual(idp.fetches, fetches)

        // recovery: the IdP answers again, and after the cooldown the key is back
        idp.answer(keySet(rsaA.publicJwk))
        yield* TestClock.adjust("30 seconds")
        assert.isTrue(yield* verifies(token, yield* jwks.getKey({ alg: "RS256", kid: "a" })))
        assert.strictEqual(idp.fetches, fetches + 1)
      })

    it.effect("serves known keys while the IdP answers 500, until max-stale", () => staleScenario(status(500), "status", 25))

    it.effect("serves known keys while the IdP times out, until max-stale", () => staleScenario(() => "hang", "timeout", 30))

    it.effect("max-stale counts from the last successful fetch and is configurable", () =>
      Effect.gen(function* () {
        const idp = makeIdp(keySet(rsaA.publicJwk))
        const jwks = yield* makeJwks(idp, { maxAge: "1 minute", maxStale: "5 minutes" })
        yield* jwks.getKey({ alg: "RS256", kid: "a" })
        yield* TestClock.adjust("2 minutes")
        // a successful refresh restarts the count
        yield* jwks.getKey({ alg: "RS256", kid: "a" })
        yield* flush
        assert.strictEqual(idp.fetches, 2)
        idp.answer(status(502))
        yield* TestClock.adjust("4 minutes")
        assert.instanceOf(yield* jwks.getKey({ alg: "RS256", kid: "a" }), CryptoKey)
        yield* TestClock.adjust("1 minute")
        assert.instanceOf(yield* jwks.getKey({ alg: "RS256", kid: "a" }), CryptoKey)
        yield* TestClock.adjust("1 millis")
        assert.strictEqual(reasonOf(yield* failure(jwks.getKey({ alg: "RS256", kid: "a" }))), "upstream:status")
      }))
  })

  describe("fromKeySet", () => {
    it.effect("selects from fixed keys with the same rules", () =>
      Effect.gen(function* () {
        const jwks = yield* Jwks.fromKeySet({ keys: [rsaA.publicJwk, weakRsa, rsaB.privateJwk] })
        assert.isTrue(yield* verifies(yield* Effect.promise(() => sign(rsaA)), yield* jwks.getKey({ alg: "RS256", kid: "a" })))
        assert.strictEqual(reasonOf(yield* failure(jwks.getKey({ alg: "RS256", kid: "weak" }))), "invalid:weak_key")
        assert.strictEqual(reasonOf(yield* failure(jwks.getKey({ alg: "RS256", kid: "b" }))), "invalid:unknown_key")
        assert.strictEqual(reasonOf(yield* failure(jwks.getKey({ alg: "ES256", kid: "a" }))), "invalid:algorithm")
      }))
  })

  describe("layers", () => {
    it.effect("layerConfig reads the options from configuration and names a missing variable", () =>
      Effect.gen(function* () {
        const idp = makeIdp(keySet(rsaA.publicJwk))
        const layer = Jwks.layerConfig({ uri: Config.string("JWKS_URI"), cooldown: Config.duration("JWKS_COOLDOWN") })
        const lookup = Effect.flatMap(Jwks.Jwks, (jwks) => jwks.getKey({ alg: "RS256", kid: "a" })).pipe(
          Effect.provide(layer),
          Effect.provideService(HttpClient.HttpClient, idp.client)
        )
        const configured = ConfigProvider.fromMap(new Map([["JWKS_URI", uri], ["JWKS_COOLDOWN", "1 minute"]]))
        assert.instanceOf(yield* Effect.withConfigProvider(lookup, configured), CryptoKey)
        const missing = yield* Effect.flip(Effect.withConfigProvider(lookup, ConfigProvider.fromMap(new Map())))
        assert.instanceOf(missing, ConfigProblem)
        assert.include((missing as ConfigProblem).setting, "JWKS_URI")
      }))
  })
})
