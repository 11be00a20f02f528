import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as jose from "jose"
import { afterAll, beforeAll } from "vitest"
import { ConfigProblem } from "../../src/ConfigProblem.js"
import * as BetterAuth from "../../src/providers/BetterAuth.js"
import { build, buildFromEnv, getJson, protect, refusal, resource, verify } from "./support/harness.js"
import { betterAuthLayout, startSelfHostedStandIn, type SelfHostedStandIn } from "./support/standInIdp.selfHosted.js"

const userId = "hBYVZkVNcFDwkwOzlrzBGZpYqZtcdIPR"
const clientId = "WZrSWqjvYdYXUmAkVqBbQdbDtyTUVmzu"

describe("Better Auth", () => {
  let idp: SelfHostedStandIn
  let custom: SelfHostedStandIn
  beforeAll(async () => {
    // the JWT plugin's default key: EdDSA over Ed25519
    idp = await startSelfHostedStandIn(betterAuthLayout(), ["EdDSA"])
    custom = await startSelfHostedStandIn(betterAuthLayout("/.well-known/jwks.json"), ["ES256"])
  })
  afterAll(async () => {
    await idp.close()
    await custom.close()
  })

  /** An access token as the MCP / OAuth 2.1 Provider plugin issues it for a requested resource. */
  const betterAuthToken = (overrides: Record<string, unknown> = {}, stand: SelfHostedStandIn = idp) =>
    stand.sign(
      {
        iss: stand.issuer,
        sub: userId,
        aud: resource,
        client_id: clientId,
        azp: clientId,
        scope: "openid profile mcp:tools",
        sid: "9kYcJ7xQp2bWmZ3",
        ...overrides
      },
      { typ: "at+jwt" }
    )

  describe("settings", () => {
    it.effect("derives issuer and key set from the app URL as Better Auth does (basePath appended unless the URL has a path)", () =>
      Effect.gen(function* () {
        const bare = yield* build(BetterAuth.make({ url: "app.example.com" }))
        assert.deepStrictEqual(bare.provider.authorizationServers, ["https://app.example.com/api/auth"])
        assert.strictEqual(bare.provider.name, "better-auth")
        const withPath = yield* build(BetterAuth.make({ url: "https://example.com/auth/" }))
        assert.deepStrictEqual(withPath.provider.authorizationServers, ["https://example.com/auth"])
        const basePath = yield* build(BetterAuth.make({ url: "https://app.example.com", basePath: "/auth" }))
        assert.deepStrictEqual(basePath.provider.authorizationServers, ["https://app.example.com/auth"])
        const issuer = yield* build(BetterAuth.make({ url: "https://app.example.com", issuer: "https://auth.example.com" }))
        assert.deepStrictEqual(issuer.provider.authorizationServers, ["https://auth.example.com"])
        assert.deepStrictEqual(issuer.provider.warnings, [])
      })
    )

    it.effect("refuses unusable settings, naming the option", () =>
      Effect.gen(function* () {
        const cases: ReadonlyArray<[BetterAuth.BetterAuthOptions, string]> = [
          [{ url: "http://app.example.com" }, "url"],
          [{ url: "" }, "url"],
          [{ url: "https://app.example.com", basePath: "api/auth" }, "basePath"],
          [{ url: "https://app.example.com", jwksPath: "/../keys" }, "jwksPath"],
          [{ url: "https://app.example.com", jwksUri: "not a url" }, "jwksUri"],
          [{ url: "https://app.example.com", issuer: "https://auth.example.com?x=1" }, "issuer"],
          [{ url: "https://app.example.com", scopes: ["ok", "not ok"] }, "scopes"]
        ]
        for (const [options, setting] of cases) {
          const problem = yield* Effect.flip(build(BetterAuth.make(options)))
          assert.instanceOf(problem, ConfigProblem)
          assert.strictEqual(problem.setting, setting, JSON.stringify(options))
        }
      })
    )

    it.effect("warns when tokens are accepted for an audience other than this server (the app's own base URL)", () =>
      Effect.gen(function* () {
        const built = yield* build(BetterAuth.make({ url: "https://app.example.com", audience: "https://app.example.com/api/auth" }))
        assert.strictEqual(built.provider.warnings.length, 1)
        assert.include(built.provider.warnings[0], "resource")
        assert.include(built.provider.warnings[0], resource)
      })
    )
  })

  describe("verification against a stand-in with Better Auth's URL layout", () => {
    it.live("accepts an EdDSA (Ed25519) access token bound to this server and maps sub, scope and client_id", () =>
      Effect.gen(function* () {
        const built = yield* build(BetterAuth.make({ url: idp.origin }))
        const token = yield* Effect.promise(() => betterAuthToken({ email: "lin@example.com", roles: ["member"] }))
        assert.strictEqual(jose.decodeProtectedHeader(token).alg, "EdDSA")
        const info = yield* verify(built, token)
        assert.strictEqual(info.issuer, `${idp.origin}/api/auth`)
        assert.strictEqual(info.clientId, clientId)
        assert.deepStrictEqual(info.scopes, ["openid", "profile", "mcp:tools"])
        assert.deepStrictEqual(info.user, { userId, email: "lin@example.com", name: undefined, roles: ["member"], permissions: [] })
        // Better Auth before 1.7 wrote only azp
        const older = yield* Effect.promise(() => betterAuthToken({ client_id: undefined }))
        assert.strictEqual((yield* verify(built, older)).clientId, clientId)
      })
    )

    it.live("an RS256-only verifier would refuse these tokens: EdDSA must be accepted", () =>
      Effect.gen(function* () {
        const rsaOnly = yield* build(BetterAuth.make({ url: idp.origin, algorithms: ["RS256"] }))
        assert.strictEqual(yield* refusal(rsaOnly, yield* Effect.promise(() => betterAuthToken())), "algorithm")
      })
    )

    it.live("reads keys from a custom jwksPath and verifies other plugin algorithms (ES256)", () =>
      Effect.gen(function* () {
        const before = custom.requests("/api/auth/.well-known/jwks.json")
        const built = yield* build(BetterAuth.make({ url: custom.origin, jwksPath: "/.well-known/jwks.json" }))
        assert.strictEqual((yield* verify(built, yield* Effect.promise(() => betterAuthToken({}, custom)))).subject, userId)
        assert.strictEqual(custom.requests("/api/auth/.well-known/jwks.json"), before + 1)
      })
    )

    it.live("compares the issuer exactly: the JWT plugin's session tokens (iss = origin) and trailing slashes are refused", () =>
      Effect.gen(function* () {
        const built = yield* build(BetterAuth.make({ url: idp.origin }))
        for (const iss of [idp.origin, `${idp.issuer}/`, "https://other.example.com/api/auth"]) {
          assert.strictEqual(yield* refusal(built, yield* Effect.promise(() => betterAuthToken({ iss }))), "issuer", iss)
        }
      })
    )

    it.live("refuses tokens not bound to this server, DPoP-bound tokens presented as Bearer, and foreign keys", () =>
      Effect.gen(function* () {
        const built = yield* build(BetterAuth.make({ url: idp.origin }))
        const token = (overrides: Record<string, unknown>) => Effect.promise(() => betterAuthToken(overrides))
        // no resource requested: Better Auth falls back to its own base URL as audience
        assert.strictEqual(yield* refusal(built, yield* token({ aud: idp.issuer })), "audience")
        // an ID token: aud is the client
        assert.strictEqual(yield* refusal(built, yield* token({ aud: clientId })), "audience")
        assert.strictEqual(yield* refusal(built, yield* token({ cnf: { jkt: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" } })), "rejected")
        const foreign = yield* Effect.promise(() => idp.signWithForeignKey({ iss: idp.issuer, sub: userId, aud: resource }))
        assert.strictEqual(yield* refusal(built, foreign), "signature")
        // Better Auth 1.7 types its access tokens; requiring it refuses untyped ones
        const strict = yield* build(BetterAuth.make({ url: idp.origin, typ: "at+jwt" }))
        assert.strictEqual((yield* verify(strict, yield* Effect.promise(() => betterAuthToken()))).subject, userId)
        const untyped = yield* Effect.promise(() => idp.sign({ iss: idp.issuer, sub: userId, aud: resource }, { typ: "JWT" }))
        assert.strictEqual(yield* refusal(strict, untyped), "type")
      })
    )
  })

  describe("configuration from the environment", () => {
    it.effect("names each variable at fault", () =>
      Effect.gen(function* () {
        const missing = yield* Effect.flip(buildFromEnv(BetterAuth.layerConfig(), {}))
        assert.strictEqual(missing.setting, "MCP_OAUTH_BETTER_AUTH_URL")
        const cases: ReadonlyArray<[Record<string, string>, string]> = [
          [{ MCP_OAUTH_BETTER_AUTH_URL: "http://app.example.com" }, "MCP_OAUTH_BETTER_AUTH_URL"],
          [{ MCP_OAUTH_BETTER_AUTH_URL: "app.example.com", MCP_OAUTH_BETTER_AUTH_JWKS_PATH: "jwks" }, "MCP_OAUTH_BETTER_AUTH_JWKS_PATH"],
          [{ MCP_OAUTH_BETTER_AUTH_URL: "app.example.com", MCP_OAUTH_BETTER_AUTH_BASE_PATH: "x" }, "MCP_OAUTH_BETTER_AUTH_BASE_PATH"],
          [{ MCP_OAUTH_BETTER_AUTH_URL: "app.example.com", MCP_OAUTH_BETTER_AUTH_ISSUER: "nope" }, "MCP_OAUTH_BETTER_AUTH_ISSUER"],
          [{ MCP_OAUTH_BETTER_AUTH_URL: "app.example.com", MCP_OAUTH_BETTER_AUTH_JWKS_URI: "ftp://x" }, "MCP_OAUTH_BETTER_AUTH_JWKS_URI"]
        ]
        for (const [env, setting] of cases) {
          const problem = yield* Effect.flip(buildFromEnv(BetterAuth.layerConfig(), env))
          assert.strictEqual(problem.setting, setting, JSON.stringify(env))
        }
      })
    )

    it.live("builds from the environment, JWKS path included", () =>
      Effect.gen(function* () {
        yield* buildFromEnv(BetterAuth.layerConfig(), {
          MCP_OAUTH_BETTER_AUTH_URL: custom.origin,
          MCP_OAUTH_BETTER_AUTH_JWKS_PATH: "/.well-known/jwks.json"
        })
        assert.strictEqual(BetterAuth.oauthBetterAuthProvider({ url: custom.origin }).name, "better-auth")
      })
    )
  })

  describe("behind the HTTP surface", () => {
    it("mirrors the app's authorization server metadata, issuer with its base path intact", async () => {
      const auth = await protect(BetterAuth.layer({ url: idp.origin }))
      try {
        assert.deepStrictEqual(auth.warnings, [])
        const mirrored = await getJson(auth, "/.well-known/oauth-authorization-server")
        assert.strictEqual(mirrored.status, 200)
        assert.strictEqual(mirrored.body["issuer"], `${idp.origin}/api/auth`)
        assert.strictEqual(mirrored.body["token_endpoint"], `${idp.origin}/api/auth/oauth2/token`)
        const outcome = await auth.guard({ authorization: [`Bearer ${await betterAuthToken()}`] })
        assert.isTrue(outcome.ok)
      } finally {
        await auth.dispose()
      }
    })
  })
})
