import { assert, describe, it } from "@effect/vitest"
import { Context, Effect } from "effect"
import { afterAll, beforeAll } from "vitest"
import { ConfigProblem } from "../../src/ConfigProblem.js"
import { Provider } from "../../src/Provider.js"
import * as Clerk from "../../src/providers/Clerk.js"
import { build, buildFromEnv, getJson, protect, refusal, resource, verify } from "./support/harness.js"
import { clerkLayout, startStandIn, type StandIn } from "./support/standIn.js"

describe("Clerk", () => {
  let idp: StandIn
  beforeAll(async () => {
    idp = await startStandIn(clerkLayout)
  })
  afterAll(() => idp.close())

  /** A Clerk OAuth access token in JWT format: `typ: at+jwt`, `client_id`, `scope`, `jti`, `aud` the registered MCP URL. */
  const oauthToken = (overrides: Record<string, unknown> = {}) =>
    idp.sign(
      {
        iss: idp.issuer,
        sub: "user_2g7np7Hrk0SN6kj5EDMLDaKNL0S",
        aud: resource,
        client_id: "Hd9mWnPKQuESsvf8",
        scope: "profile email",
        jti: "oat_2xKa9ftN1ZOeLN3CFR4QwTgn1pA",
        ...overrides
      },
      { typ: "at+jwt" }
    )

  describe("settings", () => {
    it.effect("takes the Frontend API as a host or an origin; the issuer has no trailing slash", () =>
      Effect.gen(function* () {
        const dev = yield* build(Clerk.make({ domain: "verb-noun-00.clerk.accounts.dev" }))
        assert.deepStrictEqual(dev.provider.authorizationServers, ["https://verb-noun-00.clerk.accounts.dev"])
        assert.strictEqual(dev.provider.name, "clerk")
        assert.deepStrictEqual(dev.provider.warnings, [])
        const prod = yield* build(Clerk.make({ domain: "https://clerk.example.com" }))
        assert.deepStrictEqual(prod.provider.authorizationServers, ["https://clerk.example.com"])
        for (const domain of ["http://clerk.example.com", "clerk.example.com/oauth", ""]) {
          const problem = yield* Effect.flip(build(Clerk.make({ domain })))
          assert.strictEqual(problem.setting, "domain", domain)
        }
        const audience = yield* build(Clerk.make({ domain: "clerk.example.com", audience: "https://api.example.com" }))
        assert.strictEqual(audience.provider.warnings.length, 1)
        assert.include(audience.provider.warnings[0], "MCP server in the Clerk Dashboard")
      })
    )
  })

  describe("verification against a stand-in with Clerk's URL layout", () => {
    it.live("accepts a JWT OAuth access token bound to this server", () =>
      Effect.gen(function* () {
        const built = yield* build(Clerk.make({ domain: idp.origin }))
        const info = yield* verify(built, yield* Effect.promise(() => oauthToken()))
        assert.strictEqual(info.subject, "user_2g7np7Hrk0SN6kj5EDMLDaKNL0S")
        assert.strictEqual(info.clientId, "Hd9mWnPKQuESsvf8")
        assert.deepStrictEqual(info.scopes, ["profile", "email"])
        assert.deepStrictEqual(info.user, { userId: "user_2g7np7Hrk0SN6kj5EDMLDaKNL0S", email: undefined, name: undefined, roles: [], permissions: [] })
        // the RFC 9068 media-type form of typ is accepted too
        const longTyp = yield* Effect.promise(() =>
          idp.sign({ iss: idp.issuer, sub: "user_x", aud: resource, scope: "profile" }, { typ: "application/at+jwt" })
        )
        assert.strictEqual((yield* verify(built, longTyp)).subject, "user_x")
      })
    )

    it.live("reads scopes from an scp array and organization claims when present", () =>
      Effect.gen(function* () {
        const built = yield* build(Clerk.make({ domain: idp.origin }))
        const token = yield* Effect.promise(() =>
          oauthToken({ scope: undefined, scp: ["profile", "email"], org_id: "org_29w9UfBHRq", org_role: "org:admin", org_permissions: ["org:invoices:read"] })
        )
        const info = yield* verify(built, token)
        assert.deepStrictEqual(info.scopes, ["profile", "email"])
        assert.deepStrictEqual(info.user.roles, ["org:admin"])
        assert.deepStrictEqual(info.user.permissions, ["org:invoices:read"])
      })
    )

    it.live("refuses session tokens (typ JWT, no aud), tokens without aud, and opaque oat_ tokens", () =>
      Effect.gen(function* () {
        const built = yield* build(Clerk.make({ domain: idp.origin }))
        const before = idp.requests("/.well-known/jwks.json")
        // a session token: same issuer and keys, typ JWT, azp instead of aud, sid
        const session = yield* Effect.promise(() =>
          idp.sign({ iss: idp.issuer, sub: "user_2g7np7Hrk0SN6kj5EDMLDaKNL0S", azp: "https://app.example.com", sid: "sess_123", v: 2 }, { typ: "JWT" })
        )
        assert.strictEqual(yield* refusal(built, session), "type")
        // a session token that even carries our audience is still not an OAuth access token
        const sessionWithAud = yield* Effect.promise(() =>
          idp.sign({ iss: idp.issuer, sub: "user_1", aud: resource, sid: "sess_123" }, { typ: "JWT" })
        )
        assert.strictEqual(yield* refusal(built, sessionWithAud), "type")
        assert.strictEqual(idp.requests("/.well-known/jwks.json"), before, "refused before any key fetch")
        // an instance without the audience claim issues tokens with no aud: not bound to this server
        assert.strictEqual(yield* refusal(built, yield* Effect.promise(() => oauthToken({ aud: undefined }))), "audience")
        assert.strictEqual(yield* refusal(built, yield* Effect.promise(() => oauthToken({ aud: "https://other.example.com/mcp" }))), "audience")
        assert.strictEqual(yield* refusal(built, "oat_2xKa9ftN1ZOeLN3CFR4QwTgn1pA"), "malformed")
        assert.strictEqual(yield* refusal(built, yield* Effect.promise(() => oauthToken({ iss: `${idp.issuer}/` }))), "issuer")
      })
    )

    it.live("fetches keys from {frontend API}/.well-known/jwks.json", () =>
      Effect.gen(function* () {
        const before = idp.requests("/.well-known/jwks.json")
        const built = yield* build(Clerk.make({ domain: idp.origin }))
        yield* verify(built, yield* Effect.promise(() => oauthToken()))
        assert.strictEqual(idp.requests("/.well-known/jwks.json"), before + 1)
      })
    )
  })

  describe("the protected resource's HTTP surface", () => {
    it("mirrors the Frontend API's authorization server metadata with the issuer intact", async () => {
      const local = await startStandIn(clerkLayout)
      const auth = await protect(Clerk.layer({ domain: local.origin }))
      try {
        const prm = await getJson(auth, "/.well-known/oauth-protected-resource/mcp")
        assert.deepStrictEqual(prm.body["authorization_servers"], [local.issuer])
        const upstream = local.documents["/.well-known/oauth-authorization-server"]!
        for (const path of ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]) {
          const mirrored = await getJson(auth, path)
          assert.strictEqual(mirrored.status, 200)
          assert.deepStrictEqual(mirrored.body, upstream)
        }
        const token = await local.sign({ iss: local.issuer, sub: "user_1", aud: resource, scope: "mcp" }, { typ: "at+jwt" })
        assert.isTrue((await auth.guard({ authorization: [`Bearer ${token}`] })).ok)
        const session = await local.sign({ iss: local.issuer, sub: "user_1", aud: resource }, { typ: "JWT" })
        const refused = await auth.guard({ authorization: [`Bearer ${session}`] })
        assert.isFalse(refused.ok)
        if (!refused.ok) {
          assert.strictEqual(refused.answer.status, 401)
          assert.include(refused.answer.headers["www-authenticate"], 'error="invalid_token"')
        }
      } finally {
        await auth.dispose()
        await local.close()
      }
    })
  })

  describe("layerConfig", () => {
    it.effect("names each variable at fault", () =>
      Effect.gen(function* () {
        const cases: ReadonlyArray<readonly [Record<string, string>, string]> = [
          [{}, "MCP_OAUTH_CLERK_DOMAIN"],
          [{ MCP_OAUTH_CLERK_DOMAIN: "ftp://clerk.example.com" }, "MCP_OAUTH_CLERK_DOMAIN"],
          [{ MCP_OAUTH_CLERK_DOMAIN: "clerk.example.com", MCP_OAUTH_CLERK_AUDIENCE: "," }, "MCP_OAUTH_CLERK_AUDIENCE"],
          [{ MCP_OAUTH_CLERK_DOMAIN: "clerk.example.com", MCP_OAUTH_CLERK_SCOPES: "ok \"quoted\"" }, "MCP_OAUTH_CLERK_SCOPES"]
        ]
        for (const [env, variable] of cases) {
          const problem = yield* Effect.flip(buildFromEnv(Clerk.layerConfig(), env))
          assert.instanceOf(problem, ConfigProblem)
          assert.strictEqual(problem.setting, variable, JSON.stringify(env))
        }
      })
    )

    it.effect("reads the domain, audience and scopes", () =>
      Effect.gen(function* () {
        const provider = Context.get(
          yield* buildFromEnv(Clerk.layerConfig(), {
            MCP_OAUTH_CLERK_DOMAIN: "verb-noun-00.clerk.accounts.dev",
            MCP_OAUTH_CLERK_AUDIENCE: resource,
            MCP_OAUTH_CLERK_SCOPES: "profile email"
          }),
          Provider
        )
        assert.deepStrictEqual(provider.authorizationServers, ["https://verb-noun-00.clerk.accounts.dev"])
        assert.deepStrictEqual(provider.scopesSupported, ["profile", "email"])
        assert.deepStrictEqual(provider.warnings, [])
      })
    )
  })

  it("oauthClerkProvider names the provider", () => {
    assert.strictEqual(Clerk.oauthClerkProvider({ domain: "clerk.example.com" }).name, "clerk")
    assert.strictEqual(Clerk.oauthClerkProvider().name, "clerk")
  })
})
