import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { afterAll, beforeAll } from "vitest"
import { ConfigProblem } from "../../src/ConfigProblem.js"
import * as Keycloak from "../../src/providers/Keycloak.js"
import { build, buildFromEnv, getJson, protect, refusal, resource, verify } from "./support/harness.js"
import { keycloakLayout, startSelfHostedStandIn, type SelfHostedStandIn } from "./support/standInIdp.selfHosted.js"

const userId = "f4b2c0de-1a2b-4c3d-9e8f-0a1b2c3d4e5f"
// client ids with dots are common (and MCP-style URL client ids have slashes too): dotted claim paths cannot name them
const serverClient = "mcp.example.com"

describe("Keycloak", () => {
  let idp: SelfHostedStandIn
  let legacy: SelfHostedStandIn
  beforeAll(async () => {
    idp = await startSelfHostedStandIn(keycloakLayout("test"), ["RS256"])
    legacy = await startSelfHostedStandIn(keycloakLayout("test", "/auth"), ["RS256"])
  })
  afterAll(async () => {
    await idp.close()
    await legacy.close()
  })

  /** An access token shaped like Keycloak 26's, with an Audience mapper adding this server's URL. */
  const keycloakToken = (overrides: Record<string, unknown> = {}, stand: SelfHostedStandIn = idp) =>
    stand.sign({
      iss: stand.issuer,
      sub: userId,
      aud: [resource, "account"],
      typ: "Bearer",
      azp: "claude-desktop",
      sid: "6f1d8a2e-5c4b-4a39-9e8d-7c6b5a4f3e2d",
      acr: "1",
      "allowed-origins": ["/*"],
      realm_access: { roles: ["default-roles-test", "offline_access", "uma_authorization", "analyst"] },
      resource_access: {
        [serverClient]: { roles: ["tools:admin"] },
        account: { roles: ["manage-account", "view-profile"] }
      },
      scope: "openid profile email mcp:tools",
      email_verified: true,
      name: "Grace Hopper",
      preferred_username: "grace",
      given_name: "Grace",
      family_name: "Hopper",
      email: "grace@example.com",
      ...overrides
    })

  describe("settings", () => {
    it.effect("derives the issuer from server URL and realm, a bare host, a legacy /auth URL, or the issuer itself", () =>
      Effect.gen(function* () {
        const cases: ReadonlyArray<[Keycloak.KeycloakOptions, string]> = [
          [{ url: "https://sso.example.com", realm: "acme" }, "https://sso.example.com/realms/acme"],
          [{ url: "sso.example.com/", realm: "acme" }, "https://sso.example.com/realms/acme"],
          [{ url: "https://sso.example.com/auth", realm: "acme" }, "https://sso.example.com/auth/realms/acme"],
          [{ url: "https://sso.example.com/realms/acme" }, "https://sso.example.com/realms/acme"],
          [{ url: "https://sso.example.com/auth/realms/acme/", realm: "acme" }, "https://sso.example.com/auth/realms/acme"],
          [{ url: "https://sso.example.com", realm: "Acme Corp" }, "https://sso.example.com/realms/Acme%20Corp"]
        ]
        for (const [options, issuer] of cases) {
          const built = yield* build(Keycloak.make(options))
          assert.deepStrictEqual(built.provider.authorizationServers, [issuer], options.url)
          assert.strictEqual(built.provider.name, "keycloak")
          assert.deepStrictEqual(built.provider.warnings, [])
        }
      })
    )

    it.effect("refuses unusable settings, naming the option", () =>
      Effect.gen(function* () {
        const cases: ReadonlyArray<[Keycloak.KeycloakOptions, string]> = [
          [{ url: "http://sso.example.com", realm: "acme" }, "url"],
          [{ url: "https://sso.example.com?x", realm: "acme" }, "url"],
          [{ url: "https://sso.example.com" }, "realm"],
          [{ url: "https://sso.example.com", realm: " " }, "realm"],
          [{ url: "https://sso.example.com/realms/acme", realm: "other" }, "realm"],
          [{ url: "https://sso.example.com", realm: "acme", clientId: "" }, "clientId"],
          [{ url: "https://sso.example.com", realm: "acme", audience: [] }, "audience"]
        ]
        for (const [options, setting] of cases) {
          const problem = yield* Effect.flip(build(Keycloak.make(options)))
          assert.instanceOf(problem, ConfigProblem)
          assert.strictEqual(problem.setting, setting, JSON.stringify(options))
        }
      })
    )

    it.effect("warns when audience binding is off (Keycloak's default `account` audience)", () =>
      Effect.gen(function* () {
        const built = yield* build(Keycloak.make({ url: "https://sso.example.com", realm: "acme", audience: "account" }))
        assert.strictEqual(built.provider.warnings.length, 1)
        assert.include(built.provider.warnings[0], `"account"`)
        assert.include(built.provider.warnings[0], "Audience mapper")
        assert.include(built.provider.warnings[0], resource)
      })
    )
  })

  describe("verification against a stand-in with Keycloak's URL layout", () => {
    it.live("accepts a Keycloak access token: realm and client roles, names, scopes, azp", () =>
      Effect.gen(function* () {
        const built = yield* build(Keycloak.make({ url: idp.origin, realm: "test", clientId: serverClient }))
        const info = yield* verify(built, yield* Effect.promise(() => keycloakToken()))
        assert.strictEqual(info.issuer, `${idp.origin}/realms/test`)
        assert.strictEqual(info.clientId, "claude-desktop")
        assert.deepStrictEqual(info.scopes, ["openid", "profile", "email", "mcp:tools"])
        assert.deepStrictEqual(info.user, {
          userId,
          email: "grace@example.com",
          name: "Grace Hopper",
          roles: ["default-roles-test", "offline_access", "uma_authorization", "analyst", "tools:admin"],
          permissions: []
        })
        // without clientId, only realm roles; without `name`, the username
        const realmOnly = yield* build(Keycloak.make({ url: idp.origin, realm: "test" }))
        const bare = yield* verify(realmOnly, yield* Effect.promise(() => keycloakToken({ name: undefined })))
        assert.notInclude(bare.user.roles, "tools:admin")
        assert.strictEqual(bare.user.name, "grace")
      })
    )

    it.live("fetches keys from {issuer}/protocol/openid-connect/certs", () =>
      Effect.gen(function* () {
        const certs = "/realms/test/protocol/openid-connect/certs"
        const before = idp.requests(certs)
        const built = yield* build(Keycloak.make({ url: idp.origin, realm: "test" }))
        yield* verify(built, yield* Effect.promise(() => keycloakToken()))
        assert.strictEqual(idp.requests(certs), before + 1)
      })
    )

    it.live("verifies a legacy /auth server, and refuses its tokens when configured without /auth (issuer exactness)", () =>
      Effect.gen(function* () {
        const legacyBuilt = yield* build(Keycloak.make({ url: `${legacy.origin}/auth`, realm: "test" }))
        assert.strictEqual((yield* verify(legacyBuilt, yield* Effect.promise(() => keycloakToken({}, legacy)))).subject, userId)
        const modern = yield* build(Keycloak.make({ url: legacy.origin, realm: "test" }))
        assert.strictEqual(yield* refusal(modern, yield* Effect.promise(() => keycloakToken({}, legacy))), "issuer")
        const built = yield* build(Keycloak.make({ url: idp.origin, realm: "test" }))
        for (const iss of [`${idp.issuer}/`, `${idp.origin}/realms/other`, `${idp.origin}/realms/TEST`]) {
          assert.strictEqual(yield* refusal(built, yield* Effect.promise(() => keycloakToken({ iss }))), "issuer", iss)
        }
      })
    )

    it.live("refuses tokens without this server in aud (the default `account` only), ID and refresh tokens", () =>
      Effect.gen(function* () {
        const built = yield* build(Keycloak.make({ url: idp.origin, realm: "test" }))
        const token = (overrides: Record<string, unknown>) => Effect.promise(() => keycloakToken(overrides))
        assert.strictEqual(yield* refusal(built, yield* token({ aud: "account" })), "audience")
        // an ID token: aud is the client, typ ID
        assert.strictEqual(yield* refusal(built, yield* token({ aud: "claude-desktop", typ: "ID" })), "audience")
        assert.strictEqual(yield* refusal(built, yield* token({ typ: "ID" })), "type")
        // refresh tokens are signed with a realm secret (HS512) and typed Refresh
        const refresh = yield* Effect.promise(() => idp.signSymmetric({ iss: idp.issuer, sub: userId, aud: idp.issuer, typ: "Refresh" }, "HS512"))
        assert.strictEqual(yield* refusal(built, refresh), "algorithm")
        // a DPoP-bound token presented as a Bearer token
        assert.strictEqual(yield* refusal(built, yield* token({ cnf: { jkt: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" } })), "rejected")
        assert.strictEqual(yield* refusal(built, yield* Effect.promise(() => idp.signWithForeignKey({ iss: idp.issuer, sub: userId, aud: resource }))), "signature")
      })
    )

    it.live("with audience binding turned off, accepts `account` tokens (and the start-up warned)", () =>
      Effect.gen(function* () {
        const built = yield* build(Keycloak.make({ url: idp.origin, realm: "test", audience: "account" }))
        assert.strictEqual(built.provider.warnings.length, 1)
        assert.strictEqual((yield* verify(built, yield* Effect.promise(() => keycloakToken({ aud: "account" })))).subject, userId)
      })
    )
  })

  describe("configuration from the environment", () => {
    it.effect("names each variable at fault", () =>
      Effect.gen(function* () {
        const missing = yield* Effect.flip(buildFromEnv(Keycloak.layerConfig(), {}))
        assert.strictEqual(missing.setting, "MCP_OAUTH_KEYCLOAK_URL")
        const realm = yield* Effect.flip(buildFromEnv(Keycloak.layerConfig(), { MCP_OAUTH_KEYCLOAK_URL: "https://sso.example.com" }))
        assert.strictEqual(realm.setting, "MCP_OAUTH_KEYCLOAK_REALM")
        const url = yield* Effect.flip(
          buildFromEnv(Keycloak.layerConfig(), { MCP_OAUTH_KEYCLOAK_URL: "http://sso.example.com", MCP_OAUTH_KEYCLOAK_REALM: "acme" })
        )
        assert.strictEqual(url.setting, "MCP_OAUTH_KEYCLOAK_URL")
        const client = yield* Effect.flip(
          buildFromEnv(Keycloak.layerConfig(), {
            MCP_OAUTH_KEYCLOAK_URL: "https://sso.example.com",
            MCP_OAUTH_KEYCLOAK_REALM: "acme",
            MCP_OAUTH_KEYCLOAK_CLIENT_ID: " "
          })
        )
        assert.strictEqual(client.setting, "MCP_OAUTH_KEYCLOAK_CLIENT_ID")
      })
    )

    it.effect("builds from the environment", () =>
      Effect.gen(function* () {
        yield* buildFromEnv(Keycloak.layerConfig(), {
          MCP_OAUTH_KEYCLOAK_URL: "https://sso.example.com",
          MCP_OAUTH_KEYCLOAK_REALM: "acme",
          MCP_OAUTH_KEYCLOAK_CLIENT_ID: serverClient,
          MCP_OAUTH_KEYCLOAK_SCOPES: "mcp:tools,mcp:resources"
        })
        assert.strictEqual(Keycloak.oauthKeycloakProvider({ url: "https://sso.example.com", realm: "acme" }).name, "keycloak")
      })
    )
  })

  describe("behind the HTTP surface", () => {
    it("mirrors the realm's OpenID Connect discovery document (found under the issuer, issuer intact)", async () => {
      const auth = await protect(Keycloak.layer({ url: idp.origin, realm: "test", clientId: serverClient }))
      try {
        assert.deepStrictEqual(auth.warnings, [])
        const mirrored = await getJson(auth, "/.well-known/openid-configuration")
        assert.strictEqual(mirrored.status, 200)
        assert.strictEqual(mirrored.body["issuer"], idp.issuer)
        assert.strictEqual(mirrored.body["registration_endpoint"], `${idp.issuer}/clients-registrations/openid-connect`)
        const outcome = await auth.guard({ authorization: [`Bearer ${await keycloakToken()}`] })
        assert.isTrue(outcome.ok)
        if (outcome.ok) assert.include(outcome.authInfo.user.roles, "tools:admin")
      } finally {
        await auth.dispose()
      }
    })
  })
})
