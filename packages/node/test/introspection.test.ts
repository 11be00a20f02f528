/**
 * RFC 7662 introspection against oidc-provider's real introspection endpoint: opaque tokens from a full code flow,
 * revocation by the owning client (RFC 7009), and a node:http MCP server protected with it.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe as effectDescribe, it as effectIt } from "@effect/vitest"
import { Effect, Either, Fiber, Redacted, TestClock } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { McpAuth } from "@mcp-oauth/auth-core"
import type { AuthInfo } from "@mcp-oauth/auth-core/AuthInfo"
import { InvalidToken, type UpstreamUnavailable } from "@mcp-oauth/auth-core/Errors"
import * as IntrospectionVerifier from "@mcp-oauth/auth-core/IntrospectionVerifier"
import * as Introspection from "@mcp-oauth/auth-core/providers/Introspection"
import { getTokens, startTestIdp, type TestIdp } from "@mcp-oauth/testing"
import { listen, type Listening } from "../src/index.js"
import { statelessHandlerV1 } from "../src/sdkV1.js"
import { callTool, createWhoamiServer, freePort } from "./support/harness.js"

const basicClient = {
  client_id: "mcp-resource-server",
  client_secret: "resource-server-secret-0123456789",
  token_endpoint_auth_method: "client_secret_basic" as const
}
const postClient = {
  client_id: "mcp-resource-server-post",
  client_secret: "resource-server-post-secret-9876543210",
  token_endpoint_auth_method: "client_secret_post" as const
}
const noFlows = { redirect_uris: [], response_types: [], grant_types: [] }

let idp: TestIdp
let port: number
/** The MCP server's resource: opaque tokens at the IdP. */
let resource: string
/** Another resource of the same IdP whose tokens are JWTs. */
let jwtResource: string
/** Another opaque resource: its tokens are active but not for this server. */
let otherResource: string

beforeAll(async () => {
  port = await freePort()
  resource = `http://127.0.0.1:${port}/mcp`
  jwtResource = `http://127.0.0.1:${port}/jwt`
  otherResource = `http://127.0.0.1:${port}/other`
  idp = await startTestIdp({
    resource: jwtResource,
    opaqueResources: [resource, otherResource],
    scopes: ["mcp", "admin"],
    staticClients: [
      { ...basicClient, ...noFlows },
      { ...postClient, ...noFlows }
    ]
  })
})
afterAll(() => idp.close())

const introspections = () => idp.requests("/token/introspection")

const opaqueToken = async (forResource = resource) => {
  const tokens = await getTokens({ idp, resource: forResource, scope: "mcp" })
  expect(tokens.access_token.split(".")).toHaveLength(1)
  return tokens
}

/** RFC 7009 revocation by the client the token was issued to (a public client here). */
const revoke = async (token: string, clientId: string) => {
  const response = await fetch(idp.url("/token/revocation"), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token, client_id: clientId, token_type_hint: "access_token" })
  })
  expect(response.status).toBe(200)
}

const verifierFor = (options: Partial<IntrospectionVerifier.IntrospectionVerifierOptions> = {}) =>
  IntrospectionVerifier.make({
    endpoint: idp.url("/token/introspection"),
    issuer: idp.issuer,
    clientId: basicClient.client_id,
    clientSecret: Redacted.make(basicClient.client_secret),
    audience: resource,
    ...options
  }).pipe(Effect.provide(FetchHttpClient.layer))

const outcome = (result: Either.Either<AuthInfo, InvalidToken | UpstreamUnavailable>) =>
  Either.isRight(result)
    ? "accepted"
    : result.left instanceof InvalidToken
      ? `invalid:${result.left.reason}`
      : `upstream:${result.left.reason}`

const verify = (verifier: { verify: (t: Redacted.Redacted<string>) => Effect.Effect<AuthInfo, InvalidToken | UpstreamUnavailable> }, token: string) =>
  Effect.either(verifier.verify(Redacted.make(token)))

// real HTTP, Effect's TestClock for the cache: the clock is set to the real time first so `exp` means what it says
const atRealTime = Effect.suspend(() => TestClock.setTime(Date.now()))

effectDescribe("IntrospectionVerifier against oidc-provider", () => {
  effectIt.effect("accepts an active opaque token and maps the introspection response", () =>
    Effect.gen(function* () {
      yield* atRealTime
      const tokens = yield* Effect.promise(() => opaqueToken())
      const verifier = yield* verifierFor()
      const before = introspections()
      const info = Either.getOrThrow(yield* verify(verifier, tokens.access_token))
      assert.strictEqual(info.subject, "test-user")
      assert.strictEqual(info.issuer, idp.issuer)
      assert.deepStrictEqual(info.audience, [resource])
      assert.strictEqual(info.clientId, tokens.clientId)
      assert.deepStrictEqual(info.scopes, ["mcp"])
      assert.isNumber(info.expiresAt)
      assert.strictEqual(info.user.email, "test-user@example.com")
      assert.strictEqual(info.user.name, "Test User")
      assert.strictEqual(introspections() - before, 1)
    }))

  effectIt.effect("authenticates with client_secret_post too", () =>
    Effect.gen(function* () {
      yield* atRealTime
      const tokens = yield* Effect.promise(() => opaqueToken())
      const verifier = yield* verifierFor({
        clientId: postClient.client_id,
        clientSecret: Redacted.make(postClient.client_secret),
        clientAuthMethod: "client_secret_post"
      })
      assert.strictEqual(outcome(yield* verify(verifier, tokens.access_token)), "accepted")
    }))

  effectIt.effect("finds the endpoint through the issuer's metadata", () =>
    Effect.gen(function* () {
      yield* atRealTime
      const tokens = yield* Effect.promise(() => opaqueToken())
      const verifier = yield* verifierFor({ endpoint: undefined })
      assert.strictEqual(outcome(yield* verify(verifier, tokens.access_token)), "accepted")
    }))

  effectIt.effect("refuses a revoked token once the cache rules allow, and not before", () =>
    Effect.gen(function* () {
      yield* atRealTime
      const tokens = yield* Effect.promise(() => opaqueToken())
      const verifier = yield* verifierFor({ cache: { maxTtl: "30 seconds", negativeTtl: "10 seconds" } })
      const start = introspections()
      assert.strictEqual(outcome(yield* verify(verifier, tokens.access_token)), "accepted")
      yield* Effect.promise(() => revoke(tokens.access_token, tokens.clientId))

      // within maxTtl the cached verdict stands: this is the revocation latency the cache costs
      yield* TestClock.adjust("29 seconds")
      assert.strictEqual(outcome(yield* verify(verifier, tokens.access_token)), "accepted")
      assert.strictEqual(introspections() - start, 1)

      yield* TestClock.adjust("1 second")
      assert.strictEqual(outcome(yield* verify(verifier, tokens.access_token)), "invalid:rejected")
      assert.strictEqual(introspections() - start, 2)

      // the refusal is remembered for the negative TTL, then asked again
      yield* TestClock.adjust("9 seconds")
      assert.strictEqual(outcome(yield* verify(verifier, tokens.access_token)), "invalid:rejected")
      assert.strictEqual(introspections() - start, 2)
      yield* TestClock.adjust("1 second")
      assert.strictEqual(outcome(yield* verify(verifier, tokens.access_token)), "invalid:rejected")
      assert.strictEqual(introspections() - start, 3)
    }))

  effectIt.effect("refuses a JWT, garbage, and an active token for another resource", () =>
    Effect.gen(function* () {
      yield* atRealTime
      const jwt = yield* Effect.promise(() => getTokens({ idp, resource: jwtResource, scope: "mcp" }))
      assert.strictEqual(jwt.access_token.split(".").length, 3)
      const other = yield* Effect.promise(() => opaqueToken(otherResource))
      const verifier = yield* verifierFor()
      // oidc-provider answers 400 unsupported_token_type for JWTs: a refused token, not an outage
      assert.strictEqual(outcome(yield* verify(verifier, jwt.access_token)), "invalid:rejected")
      assert.strictEqual(outcome(yield* verify(verifier, "not-a-token-the-idp-ever-issued")), "invalid:rejected")
      assert.strictEqual(outcome(yield* verify(verifier, other.access_token)), "invalid:audience")
    }))

  effectIt.effect("makes one introspection call for many concurrent requests with one token", () =>
    Effect.gen(function* () {
      yield* atRealTime
      const tokens = yield* Effect.promise(() => opaqueToken())
      const verifier = yield* verifierFor()
      const before = introspections()
      const fibers = yield* Effect.forEach(Array.from({ length: 20 }), () => Effect.fork(verify(verifier, tokens.access_token)))
      const results = yield* Effect.forEach(fibers, Fiber.join)
      assert.isTrue(results.every((r) => outcome(r) === "accepted"))
      assert.strictEqual(introspections() - before, 1)
    }))

  effectIt.effect("reports wrong client credentials as an outage, naming no secret", () =>
    Effect.gen(function* () {
      yield* atRealTime
      const tokens = yield* Effect.promise(() => opaqueToken())
      const verifier = yield* verifierFor({ clientSecret: Redacted.make("wrong-secret-value") })
      const result = yield* verify(verifier, tokens.access_token)
      assert.strictEqual(outcome(result), "upstream:status")
      const error = Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : undefined))
      assert.notInclude(`${String(error)} ${JSON.stringify(error)}`, "wrong-secret-value")
      assert.notInclude(`${String(error)} ${JSON.stringify(error)}`, tokens.access_token)
    }))

  effectIt.effect("does not follow a redirect from the introspection endpoint", () =>
    Effect.gen(function* () {
      yield* atRealTime
      const hits: Array<string> = []
      const server = http.createServer((req, res) => {
        hits.push(req.url ?? "")
        if (req.url === "/introspect") {
          res.writeHead(307, { location: "/elsewhere" }).end()
          return
        }
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ active: true, sub: "x", aud: resource }))
      })
      yield* Effect.promise(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)))
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      const verifier = yield* verifierFor({ endpoint: `${origin}/introspect` })
      assert.strictEqual(outcome(yield* verify(verifier, "token")), "upstream:status")
      assert.deepStrictEqual(hits, ["/introspect"])
      yield* Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
    }))
})

// ---------------------------------------------------------------------------------------------------------------

const toolResult = async (response: Response) => {
  const text = await response.text()
  const body = text.startsWith("{") ? text : (text.split("\n").find((l) => l.startsWith("data:")) ?? "").slice(5)
  return JSON.parse(JSON.parse(body).result.content[0].text)
}

describe("a node MCP server protected by introspection", () => {
  let running: Listening
  let origin: string
  let metadataUrl: string

  beforeAll(async () => {
    origin = `http://127.0.0.1:${port}`
    const auth = await McpAuth.make(
      McpAuth.layer(
        { resource, scopesSupported: ["mcp"], resourceName: "introspected" },
        Introspection.layer({
          issuer: idp.issuer,
          clientId: basicClient.client_id,
          clientSecret: Redacted.make(basicClient.client_secret)
        })
      )
    )
    metadataUrl = auth.metadataUrl
    running = await listen(auth, statelessHandlerV1(createWhoamiServer), { port })
  })
  afterAll(() => running.close())

  it("lists the issuer in its protected resource metadata", async () => {
    const document = await (await fetch(`${origin}/.well-known/oauth-protected-resource/mcp`)).json()
    expect(document).toMatchObject({ resource, authorization_servers: [idp.issuer], scopes_supported: ["mcp"] })
  })

  it("answers 200 for an active opaque token, with the introspected user", async () => {
    const tokens = await opaqueToken()
    const response = await callTool(origin, `Bearer ${tokens.access_token}`)
    expect(response.status).toBe(200)
    const result = await toolResult(response)
    expect(result.user).toMatchObject({ userId: "test-user", email: "test-user@example.com" })
    expect(result.scopes).toEqual(["mcp"])
    expect(result.clientId).toBe(tokens.clientId)
  })

  it("answers 401 invalid_token for garbage, a JWT, another resource's token and a revoked token", async () => {
    const jwt = await getTokens({ idp, resource: jwtResource, scope: "mcp" })
    const other = await opaqueToken(otherResource)
    const revoked = await opaqueToken()
    await revoke(revoked.access_token, revoked.clientId)
    for (const token of ["garbage-token", jwt.access_token, other.access_token, revoked.access_token]) {
      const response = await callTool(origin, `Bearer ${token}`)
      expect(response.status).toBe(401)
      expect(response.headers.get("www-authenticate")).toBe(
        `Bearer resource_metadata="${metadataUrl}", scope="mcp", error="invalid_token", error_description="The access token was ${token === other.access_token ? "not issued for this resource" : "rejected"}"`
      )
    }
  })

  it("answers 401 without an error when there is no token", async () => {
    const response = await callTool(origin, undefined)
    expect(response.status).toBe(401)
    expect(response.headers.get("www-authenticate")).toBe(`Bearer resource_metadata="${metadataUrl}", scope="mcp"`)
  })

  it("answers 503 with Retry-After, not 401, when the introspection endpoint is unreachable", async () => {
    const deadPort = await freePort()
    const downPort = await freePort()
    const down = `http://127.0.0.1:${downPort}/mcp`
    const auth = await McpAuth.make(
      McpAuth.layer(
        { resource: down, scopesSupported: ["mcp"] },
        Introspection.layer({
          issuer: idp.issuer,
          endpoint: `http://127.0.0.1:${deadPort}/token/introspection`,
          clientId: basicClient.client_id,
          clientSecret: Redacted.make(basicClient.client_secret)
        })
      )
    )
    const server = await listen(auth, statelessHandlerV1(createWhoamiServer), { port: downPort })
    try {
      const response = await callTool(`http://127.0.0.1:${downPort}`, "Bearer some-opaque-token")
      expect(response.status).toBe(503)
      expect(response.headers.get("retry-after")).toMatch(/^\d+$/)
      const body = await response.text()
      expect(body).not.toContain(basicClient.client_secret)
    } finally {
      await server.close()
    }
  })
})
