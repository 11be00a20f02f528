import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Either, Exit, Layer, Redacted, TestClock } from "effect"
import * as jose from "jose"
import type { AuthInfo } from "../src/AuthInfo.js"
import { ConfigProblem } from "../src/ConfigProblem.js"
import { InvalidToken, UpstreamUnavailable } from "../src/Errors.js"
import * as MultiIssuer from "../src/MultiIssuer.js"
import { Provider } from "../src/Provider.js"
import * as ResourceServer from "../src/ResourceServer.js"
import * as TokenVerifier from "../src/TokenVerifier.js"
import * as Custom from "../src/providers/Custom.js"

const resource = "https://mcp.example/mcp"
const issuerA = "https://a.example"
const issuerB = "https://b.example/tenant"
const issuerC = "https://c.example"
const now = 1_000_000

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")
/** A compact JWS with a fake signature: enough to be routed, never to be accepted by a real verifier. */
const unsigned = (payload: Record<string, unknown>, header: Record<string, unknown> = { alg: "RS256", kid: "k" }) =>
  `${b64(header)}.${b64(payload)}.c2ln`

/** A verifier that records the tokens it was asked about and accepts them all. */
const recording = (name: string) => {
  const seen: Array<string> = []
  const service: TokenVerifier.Service = {
    verify: (token) =>
      Effect.sync(() => {
        seen.push(Redacted.value(token))
        const info: AuthInfo = {
          token,
          subject: name,
          issuer: name,
          audience: [],
          scopes: [],
          claims: {},
          user: { userId: name, roles: [], permissions: [] }
        }
        return info
      })
  }
  return { service, seen }
}

const outcome = (result: Either.Either<AuthInfo, InvalidToken | UpstreamUnavailable>) =>
  Either.isRight(result)
    ? `accepted:${result.right.subject}`
    : result.left instanceof InvalidToken
      ? `invalid:${result.left.reason}`
      : `upstream:${result.left.reason}`

const verify = (verifier: TokenVerifier.Service, token: string) => Effect.either(verifier.verify(Redacted.make(token)))

describe("MultiIssuer.make", () => {
  const setup = (withOpaque: boolean) =>
    Effect.gen(function* () {
      const a = recording("a")
      const b = recording("b")
      const opaque = recording("opaque")
      const verifier = yield* MultiIssuer.make({
        issuers: [
          { issuer: issuerA, verifier: a.service },
          { issuer: [issuerB, `${issuerB}/v2`], verifier: b.service }
        ],
        opaque: withOpaque ? opaque.service : undefined,
        maxTokenBytes: 2048
      })
      return { verifier, a, b, opaque, untouched: () => a.seen.length + b.seen.length + opaque.seen.length === 0 }
    })

  it.effect("routes a token to its issuer's verifier by the unverified iss", () =>
    Effect.gen(function* () {
      const { verifier, a, b } = yield* setup(false)
      assert.strictEqual(outcome(yield* verify(verifier, unsigned({ iss: issuerA }))), "accepted:a")
      assert.strictEqual(outcome(yield* verify(verifier, unsigned({ iss: issuerB }))), "accepted:b")
      assert.strictEqual(outcome(yield* verify(verifier, unsigned({ iss: `${issuerB}/v2` }))), "accepted:b")
      assert.strictEqual(a.seen.length, 1)
      assert.strictEqual(b.seen.length, 2)
    }))

  it.effect("gives the immediate verdict of the verifier verify would choose, and the same refusals", () =>
    Effect.gen(function* () {
      const a = recording("a")
      const withImmediate: TokenVerifier.Service = {
        ...a.service,
        immediate: (token) => Exit.succeed({ token, subject: "a-at-once", issuer: "a", audience: [], scopes: [], claims: {}, user: { userId: "a", roles: [], permissions: [] } })
      }
      const b = recording("b")
      const verifier = yield* MultiIssuer.make({
        issuers: [{ issuer: issuerA, verifier: withImmediate }, { issuer: issuerB, verifier: b.service }],
        maxTokenBytes: 2048
      })
      const immediate = (token: string) => verifier.immediate!(Redacted.make(token), now)
      const at = immediate(unsigned({ iss: issuerA }))
      assert.strictEqual(at !== undefined && Exit.isSuccess(at) && at.value.subject, "a-at-once")
      // b has no immediate verdict: only verify can tell
      assert.strictEqual(immediate(unsigned({ iss: issuerB })), undefined)
      for (const token of [unsigned({ iss: issuerC }), unsigned({}), "not-a-jwt", unsigned({ iss: issuerA, pad: "x".repeat(3000) })]) {
        const refused = immediate(token)
        const viaVerify = outcome(yield* verify(verifier, token))
        assert.strictEqual(refused !== undefined && Exit.isFailure(refused) ? `invalid:${(Cause.squash(refused.cause) as InvalidToken).reason}` : "none", viaVerify)
      }
      assert.strictEqual(a.seen.length + b.seen.length, 0)
    }))

  it.effect("refuses unknown, missing or look-alike issuers before any verifier runs", () =>
    Effect.gen(function* () {
      const { verifier, untouched } = yield* setup(true)
      const payloads: ReadonlyArray<Record<string, unknown>> = [
        { iss: issuerC },
        {},
        { iss: 42 },
        { iss: [issuerA] },
        { iss: `${issuerA}/` },
        { iss: "https://A.example" },
        { iss: `${issuerA}.evil.example` },
        { iss: "https://а.example" }, // Cyrillic a
        { iss: "__proto__" },
        { iss: "constructor" }
      ]
      for (const payload of payloads) {
        assert.strictEqual(outcome(yield* verify(verifier, unsigned(payload))), "invalid:issuer", JSON.stringify(payload))
      }
      assert.isTrue(untouched())
    }))

  it.effect("refuses tokens that are not JWTs as malformed when there is no opaque-token verifier", () =>
    Effect.gen(function* () {
      const { verifier, untouched } = yield* setup(false)
      for (const token of ["opaque-token", "ya29.a0AfB_by", "a.b.c", `${b64({ alg: "RS256" })}.${b64([1])}.c2ln`]) {
        assert.strictEqual(outcome(yield* verify(verifier, token)), "invalid:malformed", token)
      }
      assert.isTrue(untouched())
    }))

  it.effect("hands opaque tokens to the opaque-token verifier, but never a JWT or anything JOSE-shaped", () =>
    Effect.gen(function* () {
      const { verifier, opaque } = yield* setup(true)
      assert.strictEqual(outcome(yield* verify(verifier, "opaque-token")), "accepted:opaque")
      assert.strictEqual(outcome(yield* verify(verifier, "ya29.a0AfB_by")), "accepted:opaque")
      const joseShaped = [
        `${b64({ alg: "RS256" })}.${b64([1])}.c2ln`, // payload not an object
        `${b64({ alg: "RS256" })}.${b64({ iss: issuerA })}.`, // alg none shape: empty signature
        `${b64({ alg: "RSA-OAEP", enc: "A256GCM" })}.a.b.c.d` // JWE
      ]
      for (const token of joseShaped) assert.strictEqual(outcome(yield* verify(verifier, token)), "invalid:malformed", token)
      assert.strictEqual(outcome(yield* verify(verifier, unsigned({ iss: issuerC }))), "invalid:issuer")
      assert.deepStrictEqual(opaque.seen, ["opaque-token", "ya29.a0AfB_by"])
    }))

  it.effect("checks the size first", () =>
    Effect.gen(function* () {
      const { verifier, untouched } = yield* setup(true)
      assert.strictEqual(outcome(yield* verify(verifier, unsigned({ iss: issuerA, pad: "x".repeat(2048) }))), "invalid:too_large")
      assert.strictEqual(outcome(yield* verify(verifier, "x".repeat(2049))), "invalid:too_large")
      assert.isTrue(untouched())
    }))

  it.effect("refuses an issuer listed twice, or none", () =>
    Effect.gen(function* () {
      const a = recording("a").service
      for (const issuers of [[], [{ issuer: issuerA, verifier: a }, { issuer: [issuerB, issuerA], verifier: a }], [{ issuer: "", verifier: a }]]) {
        const error = yield* Effect.flip(MultiIssuer.make({ issuers }))
        assert.instanceOf(error, ConfigProblem)
        assert.strictEqual(error.setting, "issuers")
      }
    }))
})

// ---------------------------------------------------------------------------------------------------------------
// the layer composition, with real JWT verifiers over a mock network that counts every request

const keyFor = async (kid: string) => {
  const { publicKey, privateKey } = await jose.generateKeyPair("RS256", { extractable: true })
  return { kid, privateKey, jwk: { ...(await jose.exportJWK(publicKey)), kid, alg: "RS256", use: "sig" } }
}
const keyA = await keyFor("a-1")
const keyB = await keyFor("b-1")
const keyC = await keyFor("c-1")

const sign = (key: Awaited<ReturnType<typeof keyFor>>, claims: Record<string, unknown>) =>
  new jose.SignJWT({ aud: resource, sub: `user-of-${key.kid}`, iat: now, exp: now + 600, scope: "mcp", ...claims })
    .setProtectedHeader({ alg: "RS256", kid: key.kid, typ: "at+jwt" })
    .sign(key.privateKey)

const network = () => {
  const requests: Array<string> = []
  const documents: Record<string, unknown> = {
    [`${issuerA}/jwks`]: { keys: [keyA.jwk] },
    [`${issuerB}/jwks`]: { keys: [keyB.jwk] },
    [`${issuerC}/jwks`]: { keys: [keyC.jwk] },
    [`${issuerA}/.well-known/oauth-authorization-server`]: { issuer: issuerA, authorization_endpoint: `${issuerA}/authorize` },
    ["https://b.example/.well-known/oauth-authorization-server/tenant"]: {
      issuer: issuerB,
      authorization_endpoint: `${issuerB}/authorize`,
      jwks_uri: `${issuerB}/jwks`
    }
  }
  const client = HttpClient.make((request, url) =>
    Effect.sync(() => {
      requests.push(url.toString())
      const document = documents[url.toString()]
      return HttpClientResponse.fromWeb(
        request,
        document === undefined ? new Response("not found", { status: 404 }) : Response.json(document)
      )
    })
  )
  return { client, requests }
}

const compose = <E>(
  net: ReturnType<typeof network>,
  providers: ReadonlyArray<Layer.Layer<Provider | TokenVerifier.TokenVerifier, E, ResourceServer.ResourceServer | HttpClient.HttpClient>>,
  options: MultiIssuer.MultiIssuerLayerOptions = {}
) =>
  Effect.all({ provider: Provider, verifier: TokenVerifier.TokenVerifier }).pipe(
    Effect.provide(
      MultiIssuer.layer(providers, options).pipe(
        Layer.provide(Layer.merge(ResourceServer.layer({ resource }), Layer.succeed(HttpClient.HttpClient, net.client)))
      )
    )
  )

const customA = Custom.layer({ issuer: issuerA, jwksUri: `${issuerA}/jwks`, scopes: ["mcp", "a:read"], warnings: ["from a"] })
const customB = Custom.layer({ issuer: issuerB, scopes: ["mcp", "b:read"], warnings: ["from b"] })

describe("MultiIssuer.layer", () => {
  it.effect("merges the providers and verifies each issuer's tokens with its own keys", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(now * 1000)
      const net = network()
      const { provider, verifier } = yield* compose(net, [customA, customB])
      assert.deepStrictEqual(provider.authorizationServers, [issuerA, issuerB])
      assert.deepStrictEqual(provider.scopesSupported, ["mcp", "a:read", "b:read"])
      assert.deepStrictEqual(provider.warnings, ["from a", "from b"])
      assert.strictEqual(provider.name, "custom+custom")
      assert.deepStrictEqual(net.requests, [])

      const fromA = Either.getOrThrow(yield* verify(verifier, yield* Effect.promise(() => sign(keyA, { iss: issuerA }))))
      assert.strictEqual(fromA.subject, "user-of-a-1")
      assert.strictEqual(fromA.issuer, issuerA)
      const fromB = Either.getOrThrow(yield* verify(verifier, yield* Effect.promise(() => sign(keyB, { iss: issuerB }))))
      assert.strictEqual(fromB.issuer, issuerB)
      // B's key set is found through B's metadata; A's was configured
      assert.deepStrictEqual(net.requests, [
        `${issuerA}/jwks`,
        "https://b.example/.well-known/oauth-authorization-server/tenant",
        `${issuerB}/jwks`
      ])

      // the mirrored metadata is the first provider's
      const mirrored = yield* provider.metadata!
      assert.strictEqual(mirrored.issuer, issuerA)
    }))

  it.effect("refuses a third issuer's token, and a token signed by B claiming A, with no request for it", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(now * 1000)
      const net = network()
      const { verifier } = yield* compose(net, [customA, customB])
      const third = yield* Effect.promise(() => sign(keyC, { iss: issuerC }))
      assert.strictEqual(outcome(yield* verify(verifier, third)), "invalid:issuer")
      assert.deepStrictEqual(net.requests, [])
      // routed to A, which does not know B's key
      const spliced = yield* Effect.promise(() => sign(keyB, { iss: issuerA }))
      assert.strictEqual(outcome(yield* verify(verifier, spliced)), "invalid:unknown_key")
      assert.isFalse(net.requests.some((u) => u.startsWith(issuerB) || u.startsWith("https://b.example")))
    }))

  it.effect("hands opaque tokens to the provider named by `opaque`, or to a verifier layer", () =>
    Effect.gen(function* () {
      const net = network()
      const opaqueA = Layer.merge(
        Layer.succeed(Provider, { name: "opaque-a", authorizationServers: [issuerC], warnings: [] }),
        Layer.succeed(TokenVerifier.TokenVerifier, recording("c").service)
      )
      const byIssuer = yield* compose(net, [customA, opaqueA], { opaque: issuerC })
      assert.strictEqual(outcome(yield* verify(byIssuer.verifier, "opaque-token")), "accepted:c")
      const separate = yield* Effect.all({ verifier: TokenVerifier.TokenVerifier }).pipe(
        Effect.provide(
          MultiIssuer.layer([customA], { opaque: TokenVerifier.layerFunction(() => ({ subject: "fn" })) }).pipe(
            Layer.provide(Layer.merge(ResourceServer.layer({ resource }), Layer.succeed(HttpClient.HttpClient, net.client)))
          )
        )
      )
      assert.strictEqual(outcome(yield* verify(separate.verifier, "opaque-token")), "accepted:fn")
      assert.deepStrictEqual(net.requests, [])
    }))

  it.effect("keeps the routes and mirrors the metadata of a provider serving its own routes (the OAuth proxy)", () =>
    Effect.gen(function* () {
      const routes = { paths: ["/authorize"], handle: () => Effect.succeed({ status: 204, headers: {} }) }
      const proxyMetadata = Effect.succeed({ issuer: "https://mcp.example" })
      const proxy = { name: "proxy", authorizationServers: ["https://mcp.example"], warnings: [], metadata: proxyMetadata, routes }
      const plain = { name: "plain", authorizationServers: [issuerA], warnings: [], metadata: Effect.succeed({ issuer: issuerA }) }
      const merged = MultiIssuer.mergeProviders([plain, proxy] as unknown as ReadonlyArray<typeof Provider.Service>)
      assert.strictEqual((merged as unknown as { routes: unknown }).routes, routes)
      assert.strictEqual(merged.metadata, proxyMetadata)
      const layerOf = (p: object) =>
        Layer.merge(
          Layer.succeed(Provider, p as typeof Provider.Service),
          Layer.succeed(TokenVerifier.TokenVerifier, recording("x").service)
        )
      const error = yield* Effect.flip(
        compose(network(), [layerOf(proxy), layerOf({ ...proxy, authorizationServers: ["https://other.example"] })])
      )
      assert.instanceOf(error, ConfigProblem)
      assert.strictEqual(error.setting, "providers")
    }))

  it.effect("reports configuration problems", () =>
    Effect.gen(function* () {
      const net = network()
      const cases: ReadonlyArray<[ReadonlyArray<typeof customA>, MultiIssuer.MultiIssuerLayerOptions, string]> = [
        [[], {}, "providers"],
        [[customA, Custom.layer({ issuer: issuerA })], {}, "issuers"],
        [[customA, customB], { opaque: issuerC }, "opaque"],
        [[customA, Custom.layer({ issuer: "http://insecure.example" })], {}, "issuer"]
      ]
      for (const [providers, options, setting] of cases) {
        const error = yield* Effect.flip(compose(net, providers, options))
        assert.instanceOf(error, ConfigProblem)
        assert.strictEqual(error.setting, setting)
      }
    }))
})
