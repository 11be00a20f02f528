import { assert, describe, it } from "@effect/vitest"
import { Context, Effect } from "effect"
import { afterAll, beforeAll } from "vitest"
import { ConfigProblem } from "../../src/ConfigProblem.js"
import { Provider } from "../../src/Provider.js"
import * as WorkOS from "../../src/providers/WorkOS.js"
import { build, buildFromEnv, getJson, protect, refusal, resource, verify } from "./support/harness.js"
import { startStandIn, workosLayout, type StandIn } from "./support/standIn.js"

const environmentClientId = "client_01JZM53FW3WYV08AFC4QWQ3BNB"

describe("WorkOS AuthKit", () => {
  let idp: StandIn
  beforeAll(async () => {
    idp = await startStandIn(workosLayout)
  })
  afterAll(() => idp.close())

  /** A Connect user token as WorkOS documents it: `sub`, `client_id`, `org_id`, `sid` (consent), `scope`, `jti`. */
  const connectToken = (overrides: Record<string, unknown> = {}) =>
    idp.sign({
      iss: idp.issuer,
      sub: "user_01HBEQKA6K4QJAS93VPE39W1JT",
      aud: resource,
      client_id: "client_01K0DCRREGISTEREDMCPCLIENT",
      org_id: "org_01HRDMC6CM357W30QMHMQ96Q0S",
      sid: "consent_01HQSXZGF8FHF7A9ZZFCW4387R",
      scope: "openid profile email offline_access",
      jti: "01HQSXZXPPFPKMDD32RKTFY6PV",
      ...overrides
    })

  describe("settings", () => {
    it.effect("accepts the AuthKit subdomain as a label, a host or an origin, or a custom domain", () =>
      Effect.gen(function* () {
        const cases: ReadonlyArray<readonly [WorkOS.WorkOSOptions, string]> = [
          [{ subdomain: "your-company" }, "https://your-company.authkit.app"],
          [{ subdomain: "your-company.authkit.app" }, "https://your-company.authkit.app"],
          [{ subdomain: "https://your-company.authkit.app" }, "https://your-company.authkit.app"],
          [{ domain: "auth.example.com" }, "https://auth.example.com"],
          [{ domain: "https://auth.example.com/" }, "https://auth.example.com"]
        ]
        for (const [options, issuer] of cases) {
          const built = yield* build(WorkOS.make(options))
          assert.deepStrictEqual(built.provider.authorizationServers, [issuer], JSON.stringify(options))
          assert.strictEqual(built.provider.name, "workos")
          assert.deepStrictEqual(built.provider.warnings, [])
        }
      })
    )

    it.effect("refuses missing, doubled or unusable domains, naming the option", () =>
      Effect.gen(function* () {
        const cases: ReadonlyArray<readonly [WorkOS.WorkOSOptions, string]> = [
          [{}, "subdomain"],
          [{ subdomain: "a", domain: "auth.example.com" }, "domain"],
          [{ subdomain: "not a label" }, "subdomain"],
          [{ subdomain: "http://your-company.authkit.app" }, "subdomain"],
          [{ domain: "https://auth.example.com/authkit" }, "domain"],
          [{ subdomain: "x", audience: [""] }, "audience"],
          [{ subdomain: "x", scopes: ["a b"] }, "scopes"]
        ]
        for (const [options, setting] of cases) {
          const problem = yield* Effect.flip(build(WorkOS.make(options)))
          assert.instanceOf(problem, ConfigProblem)
          assert.strictEqual(problem.setting, setting, JSON.stringify(options))
        }
      })
    )

    it.effect("warns loudly when audience binding is given up for the environment client id", () =>
      Effect.gen(function* () {
        const built = yield* build(WorkOS.make({ subdomain: "x", audience: environmentClientId }))
        assert.strictEqual(built.provider.warnings.length, 1)
        const warning = built.provider.warnings[0]!
        assert.include(warning, environmentClientId)
        assert.include(warning, "any other application or MCP server")
        assert.include(warning, "resource indicator")
      })
    )
  })

  describe("verification against a stand-in with AuthKit's URL layout", () => {
    it.live("accepts a Connect token bound to this server and maps the subject, client and scopes", () =>
      Effect.gen(function* () {
        const built = yield* build(WorkOS.make({ domain: idp.origin }))
        const info = yield* verify(built, yield* Effect.promise(() => connectToken()))
        assert.strictEqual(info.subject, "user_01HBEQKA6K4QJAS93VPE39W1JT")
        assert.strictEqual(info.clientId, "client_01K0DCRREGISTEREDMCPCLIENT")
        assert.deepStrictEqual(info.scopes, ["openid", "profile", "email", "offline_access"])
        assert.deepStrictEqual(info.user, {
          userId: "user_01HBEQKA6K4QJAS93VPE39W1JT",
          email: undefined,
          name: undefined,
          roles: [],
          permissions: []
        })
        // organization and consent stay available to tools through the claims
        assert.strictEqual(info.claims["org_id"], "org_01HRDMC6CM357W30QMHMQ96Q0S")
        assert.strictEqual(info.claims["sid"], "consent_01HQSXZGF8FHF7A9ZZFCW4387R")
      })
    )

    it.live("maps role and permissions when a token carries them (session-style or templated claims)", () =>
      Effect.gen(function* () {
        const built = yield* build(WorkOS.make({ domain: idp.origin }))
        const token = yield* Effect.promise(() =>
          connectToken({ role: "member", roles: ["member", "billing"], permissions: ["posts:read", "posts:write"], email: "a@example.com" })
        )
        const { user } = yield* verify(built, token)
        assert.deepStrictEqual(user.roles, ["member", "billing"])
        assert.deepStrictEqual(user.permissions, ["posts:read", "posts:write"])
        assert.strictEqual(user.email, "a@example.com")
      })
    )

    it.live("fetches keys from {issuer}/oauth2/jwks", () =>
      Effect.gen(function* () {
        const before = idp.requests("/oauth2/jwks")
        const built = yield* build(WorkOS.make({ domain: idp.origin }))
        yield* verify(built, yield* Effect.promise(() => connectToken()))
        assert.strictEqual(idp.requests("/oauth2/jwks"), before + 1)
        assert.strictEqual(idp.requests("/.well-known/oauth-authorization-server"), 0)
      })
    )

    it.live("refuses tokens for the environment client id unless opted out, other resources, and other issuers", () =>
      Effect.gen(function* () {
        const bound = yield* build(WorkOS.make({ domain: idp.origin }))
        const environmentToken = yield* Effect.promise(() => connectToken({ aud: environmentClientId }))
        assert.strictEqual(yield* refusal(bound, environmentToken), "audience")
        const otherServer = yield* Effect.promise(() => connectToken({ aud: "https://other-mcp.example.com/mcp" }))
        assert.strictEqual(yield* refusal(bound, otherServer), "audience")
        const slash = yield* Effect.promise(() => connectToken({ iss: `${idp.issuer}/` }))
        assert.strictEqual(yield* refusal(bound, slash), "issuer")
        const legacy = yield* Effect.promise(() => connectToken({ iss: "https://api.workos.com" }))
        assert.strictEqual(yield* refusal(bound, legacy), "issuer")

        const optedOut = yield* build(WorkOS.make({ domain: idp.origin, audience: environmentClientId }))
        assert.strictEqual((yield* verify(optedOut, environmentToken)).subject, "user_01HBEQKA6K4QJAS93VPE39W1JT")
      })
    )
  })

  describe("the protected resource's HTTP surface", () => {
    it("mirrors AuthKit's RFC 8414 document (registration, CIMD) with the issuer intact", async () => {
      const local = await startStandIn(workosLayout)
      const auth = await protect(WorkOS.layer({ domain: local.origin }))
      try {
        assert.deepStrictEqual(auth.warnings, [])
        const prm = await getJson(auth, "/.well-known/oauth-protected-resource")
        assert.deepStrictEqual(prm.body["authorization_servers"], [local.issuer])
        const upstream = local.documents["/.well-known/oauth-authorization-server"]!
        for (const path of ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]) {
          const mirrored = await getJson(auth, path)
          assert.strictEqual(mirrored.status, 200)
          assert.deepStrictEqual(mirrored.body, upstream)
        }
        assert.strictEqual(local.requests("/.well-known/oauth-authorization-server"), 1)
        assert.strictEqual(local.requests("/.well-known/openid-configuration"), 0)
      } finally {
        await auth.dispose()
        await local.close()
      }
    })

    it("exposes the opt-out warning to the server at start", async () => {
      const auth = await protect(WorkOS.layer({ subdomain: "x", audience: environmentClientId }))
      try {
        assert.strictEqual(auth.warnings.length, 1)
      } finally {
        await auth.dispose()
      }
    })
  })

  describe("layerConfig", () => {
    it.effect("names each variable at fault", () =>
      Effect.gen(function* () {
        const cases: ReadonlyArray<readonly [Record<string, string>, string]> = [
          [{}, "MCP_OAUTH_WORKOS_SUBDOMAIN"],
          [{ MCP_OAUTH_WORKOS_SUBDOMAIN: "x", MCP_OAUTH_WORKOS_DOMAIN: "auth.example.com" }, "MCP_OAUTH_WORKOS_DOMAIN"],
          [{ MCP_OAUTH_WORKOS_SUBDOMAIN: "bad_label!" }, "MCP_OAUTH_WORKOS_SUBDOMAIN"],
          [{ MCP_OAUTH_WORKOS_DOMAIN: "http://auth.example.com" }, "MCP_OAUTH_WORKOS_DOMAIN"],
          [{ MCP_OAUTH_WORKOS_SUBDOMAIN: "x", MCP_OAUTH_WORKOS_AUDIENCE: "" }, "MCP_OAUTH_WORKOS_AUDIENCE"],
          [{ MCP_OAUTH_WORKOS_SUBDOMAIN: "x", MCP_OAUTH_WORKOS_SCOPES: "a\\b" }, "MCP_OAUTH_WORKOS_SCOPES"]
        ]
        for (const [env, variable] of cases) {
          const problem = yield* Effect.flip(buildFromEnv(WorkOS.layerConfig(), env))
          assert.instanceOf(problem, ConfigProblem)
          assert.strictEqual(problem.setting, variable, JSON.stringify(env))
          assert.include(problem.message, variable)
        }
      })
    )

    it.effect("reads the subdomain or the custom domain, the audience and the scopes", () =>
      Effect.gen(function* () {
        const bySubdomain = Context.get(yield* buildFromEnv(WorkOS.layerConfig(), { MCP_OAUTH_WORKOS_SUBDOMAIN: "your-company" }), Provider)
        assert.deepStrictEqual(bySubdomain.authorizationServers, ["https://your-company.authkit.app"])
        const byDomain = Context.get(
          yield* buildFromEnv(WorkOS.layerConfig(), {
            MCP_OAUTH_WORKOS_DOMAIN: "auth.example.com",
            MCP_OAUTH_WORKOS_AUDIENCE: environmentClientId,
            MCP_OAUTH_WORKOS_SCOPES: "openid profile"
          }),
          Provider
        )
        assert.deepStrictEqual(byDomain.authorizationServers, ["https://auth.example.com"])
        assert.deepStrictEqual(byDomain.scopesSupported, ["openid", "profile"])
        assert.strictEqual(byDomain.warnings.length, 1)
      })
    )
  })

  it("oauthWorkOSProvider names the provider", () => {
    assert.strictEqual(WorkOS.oauthWorkOSProvider({ subdomain: "your-company" }).name, "workos")
    assert.strictEqual(WorkOS.oauthWorkOSProvider().name, "workos")
  })
})
