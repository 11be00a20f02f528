import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Redacted } from "effect"
import { ConfigProblem } from "../../../src/ConfigProblem.js"
import * as Auth0 from "../../../src/proxy/presets/Auth0.js"
import * as GitHub from "../../../src/proxy/presets/GitHub.js"
import * as Google from "../../../src/proxy/presets/Google.js"
import * as Presets from "../../../src/proxy/presets/Presets.js"
import type { PresetName, UpstreamPreset } from "../../../src/proxy/presets/UpstreamPreset.js"

const secret = Redacted.make("top-secret-value")

/** A preset from a map of environment variables; the failure is the ConfigProblem (or anything else) it fails with. */
export const fromEnv = (name: PresetName, env: Record<string, string>) =>
  Presets.fromEnvironment(name).pipe(
    Effect.provide(FetchHttpClient.layer),
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
  )

const problemOf = (name: PresetName, env: Record<string, string>) =>
  Effect.gen(function* () {
    const error = yield* Effect.flip(fromEnv(name, env))
    assert.instanceOf(error, ConfigProblem)
    if (!(error instanceof ConfigProblem)) throw new Error("not a ConfigProblem")
    return error
  })

/** What no preset may do: name a secret in any problem, or leave endpoints insecure. */
const assertWellFormed = (preset: UpstreamPreset) => {
  for (const url of [preset.authorizationEndpoint, preset.tokenEndpoint, preset.revocationEndpoint, preset.userinfoEndpoint, preset.jwksUri]) {
    if (url !== undefined) assert.match(url, /^https:\/\/[^/]+\//, url)
  }
  assert.isTrue(Redacted.isRedacted(preset.clientSecret))
  assert.notInclude(JSON.stringify(preset), "top-secret-value")
}

describe("presets", () => {
  it.effect("Google: fixed endpoints, token info verification, offline access, hosted-domain hint", () =>
    Effect.gen(function* () {
      const preset = yield* Google.make({ clientId: "123.apps.googleusercontent.com", clientSecret: secret, hostedDomains: ["Example.com"] })
      assertWellFormed(preset)
      assert.strictEqual(preset.name, "google")
      assert.strictEqual(preset.issuer, "https://accounts.google.com")
      assert.strictEqual(preset.authorizationEndpoint, "https://accounts.google.com/o/oauth2/v2/auth")
      assert.strictEqual(preset.tokenEndpoint, "https://oauth2.googleapis.com/token")
      assert.strictEqual(preset.revocationEndpoint, "https://oauth2.googleapis.com/revoke")
      assert.strictEqual(preset.jwksUri, "https://www.googleapis.com/oauth2/v3/certs")
      assert.deepStrictEqual(preset.defaultScopes, ["openid", "email", "profile"])
      assert.deepStrictEqual(preset.authorizationParams, { access_type: "offline", prompt: "consent", hd: "example.com" })
      assert.deepStrictEqual(preset.idTokenIssuer, { kind: "exact", issuers: ["https://accounts.google.com", "accounts.google.com"] })
      assert.deepStrictEqual(preset.verifyUpstream, {
        kind: "google-tokeninfo",
        tokenInfoUrl: "https://oauth2.googleapis.com/tokeninfo",
        userInfoUrl: "https://openidconnect.googleapis.com/v1/userinfo",
        hostedDomains: ["example.com"]
      })
      const online = yield* Google.make({ clientId: "x", clientSecret: secret, offline: false })
      assert.deepStrictEqual(online.authorizationParams, {})
    }))

  it.effect("GitHub: login/oauth endpoints, Accept: application/json at the token endpoint, the app token check", () =>
    Effect.gen(function* () {
      const preset = yield* GitHub.make({ clientId: "Iv1.abc", clientSecret: secret })
      assertWellFormed(preset)
      assert.strictEqual(preset.authorizationEndpoint, "https://github.com/login/oauth/authorize")
      assert.strictEqual(preset.tokenEndpoint, "https://github.com/login/oauth/access_token")
      assert.strictEqual(preset.tokenRequestHeaders["accept"], "application/json")
      assert.strictEqual(preset.tokenEndpointAuthMethod, "client_secret_post")
      assert.isUndefined(preset.issuer)
      assert.isUndefined(preset.revocationEndpoint)
      assert.deepStrictEqual(preset.idTokenIssuer, { kind: "none" })
      assert.deepStrictEqual(preset.verifyUpstream, { kind: "github-token-check", apiBaseUrl: "https://api.github.com" })
      assert.deepStrictEqual(preset.defaultScopes, ["read:user", "user:email"])

      const enterprise = yield* GitHub.make({
        clientId: "Iv1.abc",
        clientSecret: secret,
        webBaseUrl: "https://github.example.com/",
        apiBaseUrl: "https://github.example.com/api/v3/"
      })
      assert.strictEqual(enterprise.authorizationEndpoint, "https://github.example.com/login/oauth/authorize")
      assert.deepStrictEqual(enterprise.verifyUpstream, { kind: "github-token-check", apiBaseUrl: "https://github.example.com/api/v3" })
    }))

  it.effect("Auth0 (proxy): issuer with its trailing slash; an API audience makes access tokens JWTs to verify", () =>
    Effect.gen(function* () {
      const withApi = yield* Auth0.make({ domain: "tenant.eu.auth0.com", clientId: "abc", clientSecret: secret, audience: "https://api.example.com" })
      assertWellFormed(withApi)
      assert.strictEqual(withApi.name, "auth0-proxy")
      assert.strictEqual(withApi.issuer, "https://tenant.eu.auth0.com/")
      assert.strictEqual(withApi.authorizationEndpoint, "https://tenant.eu.auth0.com/authorize")
      assert.strictEqual(withApi.tokenEndpoint, "https://tenant.eu.auth0.com/oauth/token")
      assert.strictEqual(withApi.revocationEndpoint, "https://tenant.eu.auth0.com/oauth/revoke")
      assert.strictEqual(withApi.jwksUri, "https://tenant.eu.auth0.com/.well-known/jwks.json")
      assert.deepStrictEqual(withApi.authorizationParams, { audience: "https://api.example.com" })
      assert.deepInclude(withApi.verifyUpstream, { kind: "jwt", token: "access_token", audience: ["https://api.example.com"] })
      assert.deepStrictEqual(withApi.warnings, [])

      const withoutApi = yield* Auth0.make({ domain: "https://login.example.com", clientId: "abc", clientSecret: secret })
      assert.deepInclude(withoutApi.verifyUpstream, { kind: "jwt", token: "id_token", audience: ["abc"] })
      assert.strictEqual(withoutApi.warnings.length, 1)
    }))

  it.effect("configuration from the environment: one problem line naming the variable, never the secret", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [PresetName, Record<string, string>, string]> = [
        ["google", {}, "MCP_OAUTH_GOOGLE_CLIENT_ID"],
        ["google", { MCP_OAUTH_GOOGLE_CLIENT_ID: "x" }, "MCP_OAUTH_GOOGLE_CLIENT_SECRET"],
        ["google", { MCP_OAUTH_GOOGLE_CLIENT_ID: "x", MCP_OAUTH_GOOGLE_CLIENT_SECRET: " " }, "MCP_OAUTH_GOOGLE_CLIENT_SECRET"],
        ["google", { MCP_OAUTH_GOOGLE_CLIENT_ID: "x", MCP_OAUTH_GOOGLE_CLIENT_SECRET: "secret-9f8e7d", MCP_OAUTH_GOOGLE_HOSTED_DOMAINS: "not_a_domain" }, "MCP_OAUTH_GOOGLE_HOSTED_DOMAINS"],
        ["google", { MCP_OAUTH_GOOGLE_CLIENT_ID: "x", MCP_OAUTH_GOOGLE_CLIENT_SECRET: "secret-9f8e7d", MCP_OAUTH_GOOGLE_OFFLINE: "maybe" }, "MCP_OAUTH_GOOGLE_OFFLINE"],
        ["google", { MCP_OAUTH_GOOGLE_CLIENT_ID: "x", MCP_OAUTH_GOOGLE_CLIENT_SECRET: "secret-9f8e7d", MCP_OAUTH_GOOGLE_SCOPES: 'openid "email"' }, "MCP_OAUTH_GOOGLE_SCOPES"],
        ["github", { MCP_OAUTH_GITHUB_CLIENT_SECRET: "secret-9f8e7d" }, "MCP_OAUTH_GITHUB_CLIENT_ID"],
        ["github", { MCP_OAUTH_GITHUB_CLIENT_ID: "x", MCP_OAUTH_GITHUB_CLIENT_SECRET: "secret-9f8e7d", MCP_OAUTH_GITHUB_API_URL: "http://api.github.example" }, "MCP_OAUTH_GITHUB_API_URL"],
        ["okta", { MCP_OAUTH_OKTA_CLIENT_ID: "x", MCP_OAUTH_OKTA_CLIENT_SECRET: "secret-9f8e7d" }, "MCP_OAUTH_OKTA_DOMAIN"],
        ["okta", { MCP_OAUTH_OKTA_DOMAIN: "dev-1.okta.com/oauth2/v1", MCP_OAUTH_OKTA_CLIENT_ID: "x", MCP_OAUTH_OKTA_CLIENT_SECRET: "secret-9f8e7d" }, "MCP_OAUTH_OKTA_DOMAIN"],
        ["okta", { MCP_OAUTH_OKTA_DOMAIN: "dev-1.okta.com", MCP_OAUTH_OKTA_AUTH_SERVER_ID: "aus1x", MCP_OAUTH_OKTA_CLIENT_ID: "x", MCP_OAUTH_OKTA_CLIENT_SECRET: "secret-9f8e7d" }, "MCP_OAUTH_OKTA_AUDIENCE"],
        ["entra", { MCP_OAUTH_ENTRA_CLIENT_ID: "x", MCP_OAUTH_ENTRA_CLIENT_SECRET: "secret-9f8e7d" }, "MCP_OAUTH_ENTRA_TENANT"],
        ["entra", { MCP_OAUTH_ENTRA_TENANT: "contoso.onmicrosoft.com", MCP_OAUTH_ENTRA_CLIENT_ID: "x", MCP_OAUTH_ENTRA_CLIENT_SECRET: "secret-9f8e7d" }, "MCP_OAUTH_ENTRA_TENANT"],
        ["entra", { MCP_OAUTH_ENTRA_TENANT: "common", MCP_OAUTH_ENTRA_CLIENT_ID: "x", MCP_OAUTH_ENTRA_CLIENT_SECRET: "secret-9f8e7d" }, "MCP_OAUTH_ENTRA_ALLOWED_TENANTS"],
        ["entra", { MCP_OAUTH_ENTRA_TENANT: "organizations", MCP_OAUTH_ENTRA_ALLOWED_TENANTS: "*", MCP_OAUTH_ENTRA_CLIENT_ID: "x", MCP_OAUTH_ENTRA_CLIENT_SECRET: "secret-9f8e7d" }, "MCP_OAUTH_ENTRA_ALLOWED_TENANTS"],
        ["entra", { MCP_OAUTH_ENTRA_TENANT: "common", MCP_OAUTH_ENTRA_ALLOWED_TENANTS: "72f988bf-86f1-41af-91ab-2d7cd011db47", MCP_OAUTH_ENTRA_CLIENT_ID: "not-a-guid", MCP_OAUTH_ENTRA_CLIENT_SECRET: "secret-9f8e7d" }, "MCP_OAUTH_ENTRA_CLIENT_ID"],
        ["auth0-proxy", { MCP_OAUTH_AUTH0_DOMAIN: "http://tenant.auth0.com", MCP_OAUTH_AUTH0_CLIENT_ID: "x", MCP_OAUTH_AUTH0_CLIENT_SECRET: "secret-9f8e7d" }, "MCP_OAUTH_AUTH0_DOMAIN"],
        ["auth0-proxy", { MCP_OAUTH_AUTH0_DOMAIN: "tenant.auth0.com", MCP_OAUTH_AUTH0_CLIENT_ID: "x" }, "MCP_OAUTH_AUTH0_CLIENT_SECRET"],
        ["generic", { MCP_OAUTH_UPSTREAM_CLIENT_ID: "x", MCP_OAUTH_UPSTREAM_CLIENT_SECRET: "secret-9f8e7d" }, "MCP_OAUTH_UPSTREAM_ISSUER"],
        ["generic", { MCP_OAUTH_UPSTREAM_ISSUER: "http://idp.example", MCP_OAUTH_UPSTREAM_CLIENT_ID: "x", MCP_OAUTH_UPSTREAM_CLIENT_SECRET: "secret-9f8e7d" }, "MCP_OAUTH_UPSTREAM_ISSUER"],
        ["generic", { MCP_OAUTH_UPSTREAM_ISSUER: "https://idp.example", MCP_OAUTH_UPSTREAM_CLIENT_ID: "x", MCP_OAUTH_UPSTREAM_CLIENT_SECRET: "secret-9f8e7d", MCP_OAUTH_UPSTREAM_TOKEN_ENDPOINT_AUTH_METHOD: "client_secret_jwt" }, "MCP_OAUTH_UPSTREAM_TOKEN_ENDPOINT_AUTH_METHOD"]
      ]
      for (const [name, env, variable] of cases) {
        const problem = yield* problemOf(name, env)
        assert.strictEqual(problem.setting, variable, `${name} ${JSON.stringify(env)}: ${problem.message}`)
        assert.isTrue(problem.message.startsWith(`${variable}: `), problem.message)
        assert.notInclude(problem.message, "\n")
        for (const value of Object.entries(env).filter(([k]) => k.endsWith("SECRET")).map(([, v]) => v.trim()).filter((v) => v !== "")) {
          assert.notInclude(problem.message, value)
        }
      }
    }))

  it.effect("builds every preset from its variables", () =>
    Effect.gen(function* () {
      const google = yield* fromEnv("google", {
        MCP_OAUTH_GOOGLE_CLIENT_ID: "123.apps.googleusercontent.com",
        MCP_OAUTH_GOOGLE_CLIENT_SECRET: "s3cret",
        MCP_OAUTH_GOOGLE_SCOPES: "openid,email",
        MCP_OAUTH_GOOGLE_OFFLINE: "false"
      })
      assert.deepStrictEqual(google.defaultScopes, ["openid", "email"])
      assert.deepStrictEqual(google.authorizationParams, {})
      assert.strictEqual(Redacted.value(google.clientSecret), "s3cret")
      const github = yield* fromEnv("github", { MCP_OAUTH_GITHUB_CLIENT_ID: "Iv1.x", MCP_OAUTH_GITHUB_CLIENT_SECRET: "secret-9f8e7d" })
      assert.strictEqual(github.name, "github")
      const okta = yield* fromEnv("okta", { MCP_OAUTH_OKTA_DOMAIN: "dev-1.okta.com", MCP_OAUTH_OKTA_CLIENT_ID: "0oa1", MCP_OAUTH_OKTA_CLIENT_SECRET: "secret-9f8e7d" })
      assert.strictEqual(okta.issuer, "https://dev-1.okta.com/oauth2/default")
      const entra = yield* fromEnv("entra", {
        MCP_OAUTH_ENTRA_TENANT: "organizations",
        MCP_OAUTH_ENTRA_ALLOWED_TENANTS: "72f988bf-86f1-41af-91ab-2d7cd011db47, 0b6e5b2c-1f4a-4a4e-9a43-3c4b7cf1b5b1",
        MCP_OAUTH_ENTRA_CLIENT_ID: "6731de76-14a6-49ae-97bc-6eba6914391e",
        MCP_OAUTH_ENTRA_CLIENT_SECRET: "secret-9f8e7d",
        MCP_OAUTH_ENTRA_API_SCOPES: "read write",
        MCP_OAUTH_ENTRA_ACCEPT_V1_TOKENS: "true"
      })
      assert.deepInclude(entra.idTokenIssuer, {
        kind: "tenant",
        allowedTenants: ["72f988bf-86f1-41af-91ab-2d7cd011db47", "0b6e5b2c-1f4a-4a4e-9a43-3c4b7cf1b5b1"]
      })
      const auth0 = yield* fromEnv("auth0-proxy", { MCP_OAUTH_AUTH0_DOMAIN: "t.auth0.com", MCP_OAUTH_AUTH0_CLIENT_ID: "x", MCP_OAUTH_AUTH0_CLIENT_SECRET: "secret-9f8e7d" })
      assert.strictEqual(auth0.issuer, "https://t.auth0.com/")
      assert.isTrue(Presets.names.every(Presets.isPresetName))
      assert.isFalse(Presets.isPresetName("auth0"))
    }))
})
