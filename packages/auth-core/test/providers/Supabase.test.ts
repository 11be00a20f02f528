import { assert, describe, it } from "@effect/vitest"
import { Effect, Logger } from "effect"
import { afterAll, beforeAll } from "vitest"
import { ConfigProblem } from "../../src/ConfigProblem.js"
import * as Supabase from "../../src/providers/Supabase.js"
import { build, buildFromEnv, getJson, protect, refusal, resource, verify } from "./support/harness.js"
import { startSelfHostedStandIn, supabaseLayout, type SelfHostedStandIn } from "./support/standInIdp.selfHosted.js"

const userId = "9a1c3e5f-7b2d-4e6f-8a0b-1c2d3e4f5a6b"
const clientId = "9a8b7c6d-5e4f-3a2b-1c0d-9e8f7a6b5c4d"

describe("Supabase", () => {
  let idp: SelfHostedStandIn
  beforeAll(async () => {
    // a project in the middle of a key rotation: an ES256 key (the default) and an RS256 key published together
    idp = await startSelfHostedStandIn(supabaseLayout, ["ES256", "RS256"])
  })
  afterAll(() => idp.close())

  /** An access token as Supabase's OAuth 2.1 server documents it, with roles in app_metadata and a user_metadata trap. */
  const supabaseToken = (overrides: Record<string, unknown> = {}, alg: "ES256" | "RS256" = "ES256") =>
    idp.sign(
      {
        iss: idp.issuer,
        sub: userId,
        aud: "authenticated",
        role: "authenticated",
        user_id: userId,
        email: "ada@example.com",
        phone: "",
        client_id: clientId,
        aal: "aal1",
        amr: [{ method: "password", timestamp: 1735815600 }],
        session_id: "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
        is_anonymous: false,
        app_metadata: { provider: "email", providers: ["email"], roles: ["editor"], permissions: ["reports:read"] },
        user_metadata: { full_name: "Ada", roles: ["admin"], permissions: ["everything"] },
        ...overrides
      },
      { alg }
    )

  describe("settings", () => {
    it.effect("derives the issuer from a project URL, a bare host, a bare project ref or the issuer itself", () =>
      Effect.gen(function* () {
        for (const url of [
          "https://abcdefghijklmnopqrst.supabase.co",
          "abcdefghijklmnopqrst.supabase.co",
          "abcdefghijklmnopqrst",
          "https://abcdefghijklmnopqrst.supabase.co/auth/v1/"
        ]) {
          const built = yield* build(Supabase.make({ url }))
          assert.deepStrictEqual(built.provider.authorizationServers, ["https://abcdefghijklmnopqrst.supabase.co/auth/v1"], url)
          assert.strictEqual(built.provider.name, "supabase")
        }
        const local = yield* build(Supabase.make({ url: "http://127.0.0.1:54321" }))
        assert.deepStrictEqual(local.provider.authorizationServers, ["http://127.0.0.1:54321/auth/v1"])
      })
    )

    it.effect("refuses an unusable URL, naming the option", () =>
      Effect.gen(function* () {
        for (const url of ["http://project.example.com", "", "https://x.supabase.co?y=1", "https://u:p@x.supabase.co"]) {
          const problem = yield* Effect.flip(build(Supabase.make({ url })))
          assert.instanceOf(problem, ConfigProblem)
          assert.strictEqual(problem.setting, "url", url)
        }
      })
    )

    it.effect("makes reading roles or permissions from user_metadata a configuration error", () =>
      Effect.gen(function* () {
        const roles = yield* Effect.flip(build(Supabase.make({ url: idp.origin, claims: { roles: ["app_metadata.roles", "user_metadata.roles"] } })))
        assert.strictEqual(roles.setting, "claims.roles")
        assert.include(roles.problem, "user_metadata")
        const permissions = yield* Effect.flip(build(Supabase.make({ url: idp.origin, claims: { permissions: ["user_metadata"] } })))
        assert.strictEqual(permissions.setting, "claims.permissions")
        // a top-level claim set by a Custom Access Token Hook is fine
        yield* build(Supabase.make({ url: idp.origin, claims: { roles: ["user_role"] } }))
      })
    )

    it.effect("warns loudly at start that Supabase tokens are not bound to this server", () =>
      Effect.gen(function* () {
        const built = yield* build(Supabase.make({ url: idp.origin }))
        assert.strictEqual(built.provider.warnings.length, 1)
        assert.include(built.provider.warnings[0], `"authenticated"`)
        assert.include(built.provider.warnings[0], resource)
        assert.include(built.provider.warnings[0], "not for this server")
        const sessions = yield* build(Supabase.make({ url: idp.origin, oauthClientsOnly: false }))
        assert.strictEqual(sessions.provider.warnings.length, 2)
        assert.include(sessions.provider.warnings[1], "oauthClientsOnly")
        const bound = yield* build(Supabase.make({ url: idp.origin, audience: [resource] }))
        assert.deepStrictEqual(bound.provider.warnings, [])
      })
    )
  })

  describe("verification against a stand-in with Supabase's URL layout", () => {
    it.live("accepts an ES256 OAuth access token and maps the user from app_metadata, never user_metadata", () =>
      Effect.gen(function* () {
        const built = yield* build(Supabase.make({ url: idp.origin }))
        const info = yield* verify(built, yield* Effect.promise(() => supabaseToken()))
        assert.strictEqual(info.issuer, `${idp.origin}/auth/v1`)
        assert.strictEqual(info.subject, userId)
        assert.deepStrictEqual(info.audience, ["authenticated"])
        assert.strictEqual(info.clientId, clientId)
        assert.deepStrictEqual(info.scopes, [])
        assert.deepStrictEqual(info.user, {
          userId,
          email: "ada@example.com",
          name: undefined,
          roles: ["editor"],
          permissions: ["reports:read"]
        })
      })
    )

    it.live("the user_metadata trap: roles a user wrote for themselves are ignored", () =>
      Effect.gen(function* () {
        const built = yield* build(Supabase.make({ url: idp.origin }))
        const token = yield* Effect.promise(() =>
          supabaseToken({ app_metadata: { provider: "email" }, user_metadata: { roles: ["admin"], permissions: ["*"] }, roles: undefined })
        )
        const info = yield* verify(built, token)
        assert.deepStrictEqual(info.user.roles, [])
        assert.deepStrictEqual(info.user.permissions, [])
      })
    )

    it.live("accepts RS256 keys too, and reads roles from a Custom Access Token Hook claim when configured", () =>
      Effect.gen(function* () {
        const built = yield* build(Supabase.make({ url: idp.origin, claims: { roles: ["user_role", "app_metadata.roles"] } }))
        const info = yield* verify(built, yield* Effect.promise(() => supabaseToken({ user_role: "moderator", scope: "openid email" }, "RS256")))
        assert.deepStrictEqual(info.user.roles, ["moderator", "editor"])
        assert.deepStrictEqual(info.scopes, ["openid", "email"])
      })
    )

    it.live("refuses a legacy HS256 token as `algorithm` without fetching keys, and explains the migration once", () =>
      Effect.gen(function* () {
        const messages: Array<string> = []
        const logger = Logger.make(({ message }) => {
          messages.push(Array.isArray(message) ? message.join(" ") : String(message))
        })
        const built = yield* build(Supabase.make({ url: idp.origin }))
        const before = idp.requests("/auth/v1/.well-known/jwks.json")
        const legacy = yield* Effect.promise(() =>
          idp.signSymmetric({ iss: idp.issuer, sub: userId, aud: "authenticated", role: "authenticated", client_id: clientId })
        )
        const first = yield* refusal(built, legacy).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
        const second = yield* refusal(built, legacy).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
        assert.strictEqual(first, "algorithm")
        assert.strictEqual(second, "algorithm")
        assert.strictEqual(idp.requests("/auth/v1/.well-known/jwks.json"), before)
        const explanations = messages.filter((m) => m.includes("HS256"))
        assert.strictEqual(explanations.length, 1)
        assert.include(explanations[0], "asymmetric JWT signing keys")
      })
    )

    it.live("compares the issuer exactly: no trailing slash, no bare project URL, no other project", () =>
      Effect.gen(function* () {
        const built = yield* build(Supabase.make({ url: idp.origin }))
        for (const iss of [`${idp.issuer}/`, idp.origin, "https://otherprojectrefxxxx.supabase.co/auth/v1"]) {
          assert.strictEqual(yield* refusal(built, yield* Effect.promise(() => supabaseToken({ iss }))), "issuer", iss)
        }
      })
    )

    it.live("refuses other audiences, anon and service_role tokens, anonymous users and session tokens", () =>
      Effect.gen(function* () {
        const built = yield* build(Supabase.make({ url: idp.origin }))
        const token = (overrides: Record<string, unknown>) => Effect.promise(() => supabaseToken(overrides))
        assert.strictEqual(yield* refusal(built, yield* token({ aud: "anon" })), "audience")
        assert.strictEqual(yield* refusal(built, yield* token({ aud: resource })), "audience")
        assert.strictEqual(yield* refusal(built, yield* token({ role: "anon" })), "rejected")
        assert.strictEqual(yield* refusal(built, yield* token({ role: "service_role" })), "rejected")
        assert.strictEqual(yield* refusal(built, yield* token({ role: undefined })), "rejected")
        assert.strictEqual(yield* refusal(built, yield* token({ is_anonymous: true })), "rejected")
        // a session token of the project's own app: no client_id
        assert.strictEqual(yield* refusal(built, yield* token({ client_id: undefined })), "missing_claim")
        assert.strictEqual(yield* refusal(built, yield* Effect.promise(() => idp.signWithForeignKey({ iss: idp.issuer, sub: userId, aud: "authenticated" }))), "signature")

        const lenient = yield* build(Supabase.make({ url: idp.origin, oauthClientsOnly: false, allowAnonymous: true }))
        assert.strictEqual((yield* verify(lenient, yield* token({ client_id: undefined, is_anonymous: true }))).subject, userId)
        assert.strictEqual(yield* refusal(lenient, yield* token({ role: "service_role" })), "rejected")
      })
    )
  })

  describe("configuration from the environment", () => {
    it.effect("names each variable at fault", () =>
      Effect.gen(function* () {
        const missing = yield* Effect.flip(buildFromEnv(Supabase.layerConfig(), {}))
        assert.strictEqual(missing.setting, "MCP_OAUTH_SUPABASE_URL")
        assert.strictEqual(missing.problem, "is required")
        const insecure = yield* Effect.flip(buildFromEnv(Supabase.layerConfig(), { MCP_OAUTH_SUPABASE_URL: "http://x.example.com" }))
        assert.strictEqual(insecure.setting, "MCP_OAUTH_SUPABASE_URL")
        const trap = yield* Effect.flip(
          buildFromEnv(Supabase.layerConfig(), { MCP_OAUTH_SUPABASE_URL: idp.origin, MCP_OAUTH_SUPABASE_ROLES_CLAIM: "user_metadata.roles" })
        )
        assert.strictEqual(trap.setting, "MCP_OAUTH_SUPABASE_ROLES_CLAIM")
        const flag = yield* Effect.flip(
          buildFromEnv(Supabase.layerConfig(), { MCP_OAUTH_SUPABASE_URL: idp.origin, MCP_OAUTH_SUPABASE_OAUTH_CLIENTS_ONLY: "maybe" })
        )
        assert.strictEqual(flag.setting, "MCP_OAUTH_SUPABASE_OAUTH_CLIENTS_ONLY")
        const scopes = yield* Effect.flip(
          buildFromEnv(Supabase.layerConfig(), { MCP_OAUTH_SUPABASE_URL: idp.origin, MCP_OAUTH_SUPABASE_SCOPES: "mcp \"bad\"" })
        )
        assert.strictEqual(scopes.setting, "MCP_OAUTH_SUPABASE_SCOPES")
      })
    )

    it.effect("builds from the environment", () =>
      Effect.gen(function* () {
        yield* buildFromEnv(Supabase.layerConfig(), {
          MCP_OAUTH_SUPABASE_URL: idp.origin,
          MCP_OAUTH_SUPABASE_ROLES_CLAIM: "app_metadata.roles,user_role",
          MCP_OAUTH_SUPABASE_OAUTH_CLIENTS_ONLY: "false"
        })
        const provider = Supabase.oauthSupabaseProvider({ url: idp.origin })
        assert.strictEqual(provider.name, "supabase")
      })
    )
  })

  describe("behind the HTTP surface", () => {
    it("reports the warning and mirrors the project's metadata from the RFC 8414 path-inserted location", async () => {
      const auth = await protect(Supabase.layer({ url: idp.origin }))
      try {
        assert.strictEqual(auth.warnings.length, 1)
        const prm = await getJson(auth, "/.well-known/oauth-protected-resource/mcp")
        assert.deepStrictEqual(prm.body["authorization_servers"], [idp.issuer])
        const before = idp.requests("/.well-known/oauth-authorization-server/auth/v1")
        const mirrored = await getJson(auth, "/.well-known/oauth-authorization-server")
        assert.strictEqual(mirrored.status, 200)
        assert.strictEqual(mirrored.body["issuer"], idp.issuer)
        assert.strictEqual(mirrored.body["authorization_endpoint"], `${idp.issuer}/oauth/authorize`)
        assert.strictEqual(idp.requests("/.well-known/oauth-authorization-server/auth/v1"), before + 1)
        const token = await supabaseToken()
        const outcome = await auth.guard({ authorization: [`Bearer ${token}`] })
        assert.isTrue(outcome.ok)
        if (outcome.ok) assert.deepStrictEqual(outcome.authInfo.user.roles, ["editor"])
      } finally {
        await auth.dispose()
      }
    })
  })
})
