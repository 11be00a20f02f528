import { assert, describe, it } from "@effect/vitest"
import { Context, Effect } from "effect"
import { afterAll, beforeAll } from "vitest"
import { ConfigProblem } from "../../src/ConfigProblem.js"
import { Provider } from "../../src/Provider.js"
import * as Auth0 from "../../src/providers/Auth0.js"
import { build, buildFromEnv, getJson, protect, refusal, resource, verify } from "./support/harness.js"
import { auth0Layout, startStandIn, type StandIn } from "./support/standIn.js"

const rolesClaim = "https://example.com/roles"

describe("Auth0", () => {
  let idp: StandIn
  beforeAll(async () => {
    idp = await startStandIn(auth0Layout)
  })
  afterAll(() => idp.close())

  /** An access token in Auth0's default profile: `aud` with the userinfo URL, `azp`, `permissions`, `typ: JWT`. */
  const auth0Token = (overrides: Record<string, unknown> = {}) =>
    idp.sign(
      {
        iss: idp.issuer,
        sub: "auth0|6553da60a54af58e29493993",
        aud: [resource, `${idp.origin}/userinfo`],
        azp: "K1AUPhZq8mRi0Q0pjhkfu1D7y6KjDQja",
        scope: "openid profile read:reports",
        permissions: ["read:reports", "write:reports"],
        [rolesClaim]: ["admin", "auditor"],
        ...overrides
      },
      { typ: "JWT" }
    )

  describe("settings", () => {
    it.effect("derives the issuer with Auth0's trailing slash from a bare host or an origin URL", () =>
      Effect.gen(function* () {
        const bare = yield* build(Auth0.make({ domain: "your-tenant.us.auth0.com" }))
        assert.deepStrictEqual(bare.provider.authorizationServers, ["https://your-tenant.us.auth0.com/"])
        assert.strictEqual(bare.provider.name, "auth0")
        assert.deepStrictEqual(bare.provider.warnings, [])
        const origin = yield* build(Auth0.make({ domain: "https://Login.Example.com/" }))
        assert.deepStrictEqual(origin.provider.authorizationServers, ["https://login.example.com/"])
        assert.strictEqual(Auth0.issuerOf("https://login.example.com"), "https://login.example.com/")
      })
    )

    it.effect("refuses a domain that is not an https origin, naming the option", () =>
      Effect.gen(function* () {
        for (const domain of ["http://tenant.auth0.com", "https://tenant.auth0.com/api", "tenant.auth0.com?x=1", "", "https://user:pw@tenant.auth0.com"]) {
          const problem = yield* Effect.flip(build(Auth0.make({ domain })))
          assert.instanceOf(problem, ConfigProblem)
          assert.strictEqual(problem.setting, "domain", domain)
        }
        const roles = yield* Effect.flip(build(Auth0.make({ domain: "tenant.auth0.com", rolesClaim: " " })))
        assert.strictEqual(roles.setting, "rolesClaim")
        const audience = yield* Effect.flip(build(Auth0.make({ domain: "tenant.auth0.com", audience: [] })))
        assert.strictEqual(audience.setting, "audience")
      })
    )

    it.effect("warns loudly when the accepted audience is not this server's resource URL", () =>
      Effect.gen(function* () {
        const built = yield* build(Auth0.make({ domain: "tenant.auth0.com", audience: "https://api.example.com" }))
        assert.strictEqual(built.provider.warnings.length, 1)
        assert.include(built.provider.warnings[0], "https://api.example.com")
        assert.include(built.provider.warnings[0], resource)
        const bound = yield* build(Auth0.make({ domain: "tenant.auth0.com", audience: resource }))
        assert.deepStrictEqual(bound.provider.warnings, [])
        // an extra audience next to this server's still lets tokens for it in
        const extra = yield* build(Auth0.make({ domain: "tenant.auth0.com", audience: [resource, "https://api.example.com"] }))
        assert.strictEqual(extra.provider.warnings.length, 1)
        assert.include(extra.provider.warnings[0], "https://api.example.com")
      })
    )
  })

  describe("verification against a stand-in with Auth0's URL layout", () => {
    it.live("accepts an Auth0 access token and maps permissions, the namespaced roles claim and scopes", () =>
      Effect.gen(function* () {
        const built = yield* build(Auth0.make({ domain: idp.origin, rolesClaim }))
        const info = yield* verify(built, yield* Effect.promise(() => auth0Token()))
        assert.strictEqual(info.issuer, idp.issuer)
        assert.deepStrictEqual(info.audience, [resource, `${idp.origin}/userinfo`])
        assert.strictEqual(info.clientId, "K1AUPhZq8mRi0Q0pjhkfu1D7y6KjDQja")
        assert.deepStrictEqual(info.scopes, ["openid", "profile", "read:reports"])
        assert.deepStrictEqual(info.user, {
          userId: "auth0|6553da60a54af58e29493993",
          email: undefined,
          name: undefined,
          roles: ["admin", "auditor"],
          permissions: ["read:reports", "write:reports"]
        })
      })
    )

    it.live("accepts the RFC 9068 token profile (typ at+jwt, client_id) and can require it", () =>
      Effect.gen(function* () {
        const rfc9068 = yield* Effect.promise(() =>
          idp.sign({ iss: idp.issuer, sub: "auth0|u1", aud: resource, client_id: "cid", scope: "read:reports" }, { typ: "at+jwt" })
        )
        const lenient = yield* build(Auth0.make({ domain: idp.origin }))
        assert.strictEqual((yield* verify(lenient, rfc9068)).clientId, "cid")
        const strict = yield* build(Auth0.make({ domain: idp.origin, typ: "at+jwt" }))
        assert.strictEqual((yield* verify(strict, rfc9068)).subject, "auth0|u1")
        assert.strictEqual(yield* refusal(strict, yield* Effect.promise(() => auth0Token())), "type")
      })
    )

    it.live("without rolesClaim, roles stay empty: Auth0 puts none in access tokens by itself", () =>
      Effect.gen(function* () {
        const built = yield* build(Auth0.make({ domain: idp.origin }))
        const info = yield* verify(built, yield* Effect.promise(() => auth0Token({ roles: ["not-from-auth0"] })))
        assert.deepStrictEqual(info.user.roles, [])
        assert.deepStrictEqual(info.user.permissions, ["read:reports", "write:reports"])
      })
    )

    it.live("fetches the key set from /.well-known/jwks.json and never needs the discovery document to verify", () =>
      Effect.gen(function* () {
        const before = { jwks: idp.requests("/.well-known/jwks.json"), discovery: idp.requests("/.well-known/openid-configuration") }
        const built = yield* build(Auth0.make({ domain: idp.origin, rolesClaim }))
        yield* verify(built, yield* Effect.promise(() => auth0Token()))
        assert.strictEqual(idp.requests("/.well-known/jwks.json"), before.jwks + 1)
        assert.strictEqual(idp.requests("/.well-known/openid-configuration"), before.discovery)
      })
    )

    it.live("refuses a token whose iss lacks the trailing slash, before fetching any key", () =>
      Effect.gen(function* () {
        const built = yield* build(Auth0.make({ domain: idp.origin }))
        const before = idp.requests("/.well-known/jwks.json")
        const token = yield* Effect.promise(() => auth0Token({ iss: idp.origin }))
        assert.strictEqual(yield* refusal(built, token), "issuer")
        assert.strictEqual(idp.requests("/.well-known/jwks.json"), before)
      })
    )

    it.live("refuses tokens for another API, for /userinfo only, or signed by another key", () =>
      Effect.gen(function* () {
        const built = yield* build(Auth0.make({ domain: idp.origin }))
        const otherApi = yield* Effect.promise(() => auth0Token({ aud: ["https://billing.example.com", `${idp.origin}/userinfo`] }))
        assert.strictEqual(yield* refusal(built, otherApi), "audience")
        const userinfoOnly = yield* Effect.promise(() => auth0Token({ aud: `${idp.origin}/userinfo` }))
        assert.strictEqual(yield* refusal(built, userinfoOnly), "audience")
        const trailingSlash = yield* Effect.promise(() => auth0Token({ aud: `${resource}/` }))
        assert.strictEqual(yield* refusal(built, trailingSlash), "audience")
        const forged = yield* Effect.promise(() =>
          idp.signWithForeignKey({ iss: idp.issuer, sub: "auth0|x", aud: resource, permissions: ["admin"] })
        )
        assert.strictEqual(yield* refusal(built, forged), "signature")
      })
    )

    it.live("accepts tokens for a configured API identifier (with the warning)", () =>
      Effect.gen(function* () {
        const built = yield* build(Auth0.make({ domain: idp.origin, audience: "https://api.example.com" }))
        assert.strictEqual(built.provider.warnings.length, 1)
        const token = yield* Effect.promise(() => auth0Token({ aud: ["https://api.example.com", `${idp.origin}/userinfo`] }))
        assert.strictEqual((yield* verify(built, token)).subject, "auth0|6553da60a54af58e29493993")
        assert.strictEqual(yield* refusal(built, yield* Effect.promise(() => auth0Token())), "audience")
      })
    )
  })

  describe("the protected resource's HTTP surface", () => {
    it("lists the trailing-slash issuer and mirrors Auth0's discovery document with the issuer intact", async () => {
      const local = await startStandIn(auth0Layout)
      const auth = await protect(Auth0.layer({ domain: local.origin, rolesClaim }))
      try {
        const prm = await getJson(auth, "/.well-known/oauth-protected-resource/mcp")
        assert.deepStrictEqual(prm.body["authorization_servers"], [local.issuer])
        assert.isTrue(local.issuer.endsWith("/"))
        const upstream = local.documents["/.well-known/openid-configuration"]!
        for (const path of ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]) {
          const mirrored = await getJson(auth, path)
          assert.strictEqual(mirrored.status, 200)
          assert.deepStrictEqual(mirrored.body, upstream)
        }
        // Auth0 publishes the OpenID Connect document: the RFC 8414 URL is tried first, then that one, once
        assert.strictEqual(local.requests("/.well-known/oauth-authorization-server"), 1)
        assert.strictEqual(local.requests("/.well-known/openid-configuration"), 1)

        const token = await local.sign({ iss: local.issuer, sub: "auth0|u2", aud: [resource, `${local.origin}/userinfo`], scope: "mcp", [rolesClaim]: ["viewer"] })
        const outcome = await auth.guard({ authorization: [`Bearer ${token}`] })
        assert.isTrue(outcome.ok)
        if (outcome.ok) assert.deepStrictEqual(outcome.authInfo.user.roles, ["viewer"])
      } finally {
        await auth.dispose()
        await local.close()
      }
    })

    it("fails at start with a ConfigProblem naming the option", async () => {
      const failure = await protect(Auth0.layer({ domain: "http://tenant.auth0.com" })).then(
        () => undefined,
        (error: unknown) => error
      )
      assert.instanceOf(failure, ConfigProblem)
      assert.strictEqual((failure as ConfigProblem).setting, "domain")
    })
  })

  describe("layerConfig", () => {
    const problemFor = (env: Record<string, string>) => Effect.flip(buildFromEnv(Auth0.layerConfig(), env))

    it.effect("names each variable at fault", () =>
      Effect.gen(function* () {
        const cases: ReadonlyArray<readonly [Record<string, string>, string]> = [
          [{}, "MCP_OAUTH_AUTH0_DOMAIN"],
          [{ MCP_OAUTH_AUTH0_DOMAIN: "http://tenant.auth0.com" }, "MCP_OAUTH_AUTH0_DOMAIN"],
          [{ MCP_OAUTH_AUTH0_DOMAIN: "tenant.auth0.com/path" }, "MCP_OAUTH_AUTH0_DOMAIN"],
          [{ MCP_OAUTH_AUTH0_DOMAIN: "tenant.auth0.com", MCP_OAUTH_AUTH0_AUDIENCE: " , " }, "MCP_OAUTH_AUTH0_AUDIENCE"],
          [{ MCP_OAUTH_AUTH0_DOMAIN: "tenant.auth0.com", MCP_OAUTH_AUTH0_ROLES_CLAIM: "" }, "MCP_OAUTH_AUTH0_ROLES_CLAIM"],
          [{ MCP_OAUTH_AUTH0_DOMAIN: "tenant.auth0.com", MCP_OAUTH_AUTH0_SCOPES: 'read "all"' }, "MCP_OAUTH_AUTH0_SCOPES"]
        ]
        for (const [env, variable] of cases) {
          const problem = yield* problemFor(env)
          assert.instanceOf(problem, ConfigProblem)
          assert.strictEqual(problem.setting, variable, JSON.stringify(env))
          assert.include(problem.message, variable)
        }
      })
    )

    it.effect("reads the domain, audience, roles claim and scopes", () =>
      Effect.gen(function* () {
        const context = yield* buildFromEnv(Auth0.layerConfig(), {
          MCP_OAUTH_AUTH0_DOMAIN: "tenant.eu.auth0.com",
          MCP_OAUTH_AUTH0_AUDIENCE: "https://api.example.com",
          MCP_OAUTH_AUTH0_ROLES_CLAIM: rolesClaim,
          MCP_OAUTH_AUTH0_SCOPES: "read:reports, write:reports"
        })
        const provider = Context.get(context, Provider)
        assert.deepStrictEqual(provider.authorizationServers, ["https://tenant.eu.auth0.com/"])
        assert.deepStrictEqual(provider.scopesSupported, ["read:reports", "write:reports"])
        assert.strictEqual(provider.warnings.length, 1)
        assert.include(provider.warnings[0], "https://api.example.com")
      })
    )
  })

  it("oauthAuth0Provider names the provider and carries its layer", () => {
    const provider = Auth0.oauthAuth0Provider({ domain: "tenant.auth0.com" })
    assert.strictEqual(provider.name, "auth0")
    assert.strictEqual(Auth0.oauthAuth0Provider().name, "auth0")
  })
})
