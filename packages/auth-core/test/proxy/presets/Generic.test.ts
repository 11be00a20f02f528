import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Redacted } from "effect"
import { afterAll, beforeAll } from "vitest"
import { ConfigProblem } from "../../../src/ConfigProblem.js"
import { UpstreamUnavailable } from "../../../src/Errors.js"
import type { AuthorizationServerMetadata } from "../../../src/Metadata.js"
import * as Generic from "../../../src/proxy/presets/Generic.js"
import { type LocalServer, sendJson, startServer } from "../cimd/localServer.js"

const secret = Redacted.make("generic-client-secret")

describe("generic preset", () => {
  let idp: LocalServer
  let document: (issuer: string) => Record<string, unknown>
  beforeAll(async () => {
    document = (issuer) => ({
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      revocation_endpoint: `${issuer}/token/revocation`,
      userinfo_endpoint: `${issuer}/me`,
      jwks_uri: `${issuer}/jwks`,
      code_challenge_methods_supported: ["S256"],
      token_endpoint_auth_methods_supported: ["client_secret_post", "client_secret_basic", "private_key_jwt"],
      registration_endpoint: undefined
    })
    idp = await startServer((request, response) => {
      if (request.target === "/.well-known/openid-configuration") return sendJson(response, 200, document(idp.origin))
      if (request.target === "/other/.well-known/openid-configuration") return sendJson(response, 200, document("https://impostor.example"))
      sendJson(response, 404, { error: "not_found" })
    })
  })
  afterAll(() => idp.close())

  it.effect("takes endpoints, key set and client authentication from the discovery document", () =>
    Effect.gen(function* () {
      const preset = yield* Generic.make({ issuer: idp.origin, clientId: "proxy", clientSecret: secret }).pipe(Effect.provide(FetchHttpClient.layer))
      assert.strictEqual(preset.name, "generic")
      assert.strictEqual(preset.issuer, idp.origin)
      assert.strictEqual(preset.authorizationEndpoint, `${idp.origin}/authorize`)
      assert.strictEqual(preset.tokenEndpoint, `${idp.origin}/token`)
      assert.strictEqual(preset.revocationEndpoint, `${idp.origin}/token/revocation`)
      assert.strictEqual(preset.userinfoEndpoint, `${idp.origin}/me`)
      assert.strictEqual(preset.jwksUri, `${idp.origin}/jwks`)
      // basic preferred when offered (RFC 8414's default)
      assert.strictEqual(preset.tokenEndpointAuthMethod, "client_secret_basic")
      assert.deepStrictEqual(preset.idTokenIssuer, { kind: "exact", issuers: [idp.origin] })
      assert.deepInclude(preset.verifyUpstream, { kind: "jwt", token: "id_token", audience: ["proxy"] })
      assert.deepStrictEqual(preset.warnings, [])

      const fromEnv = yield* Generic.fromEnvironment.pipe(
        Effect.provide(FetchHttpClient.layer),
        Effect.withConfigProvider(
          ConfigProvider.fromMap(
            new Map([
              ["MCP_OAUTH_UPSTREAM_ISSUER", idp.origin],
              ["MCP_OAUTH_UPSTREAM_CLIENT_ID", "proxy"],
              ["MCP_OAUTH_UPSTREAM_CLIENT_SECRET", "s3cret"],
              ["MCP_OAUTH_UPSTREAM_TOKEN_ENDPOINT_AUTH_METHOD", "client_secret_post"],
              ["MCP_OAUTH_UPSTREAM_AUDIENCE", "https://api.example.com"]
            ])
          )
        )
      )
      assert.strictEqual(fromEnv.tokenEndpointAuthMethod, "client_secret_post")
      assert.deepInclude(fromEnv.verifyUpstream, { kind: "jwt", token: "access_token", audience: ["https://api.example.com"] })
    }))

  it.effect("refuses a document for another issuer", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Generic.make({ issuer: `${idp.origin}/other`, clientId: "proxy", clientSecret: secret }).pipe(Effect.provide(FetchHttpClient.layer))
      )
      assert.instanceOf(error, UpstreamUnavailable)
      const direct = yield* Effect.flip(
        Generic.fromMetadata(document("https://impostor.example") as AuthorizationServerMetadata, { issuer: "https://idp.example", clientId: "p", clientSecret: secret })
      )
      assert.strictEqual(direct.setting, "issuer")
    }))

  it.effect("refuses what the proxy cannot use safely", () =>
    Effect.gen(function* () {
      const issuer = "https://idp.example"
      const build = (overrides: Record<string, unknown>, options: Partial<Generic.GenericOptions> = {}) =>
        Generic.fromMetadata({ ...document(issuer), ...overrides } as AuthorizationServerMetadata, {
          issuer,
          clientId: "proxy",
          clientSecret: secret,
          ...options
        })
      for (const [overrides, options] of [
        [{ code_challenge_methods_supported: ["plain"] }, {}],
        [{ jwks_uri: undefined }, {}],
        [{ token_endpoint: undefined }, {}],
        [{ token_endpoint: "http://idp.example/token" }, {}],
        [{ authorization_endpoint: "https://user:pw@idp.example/authorize" }, {}],
        [{ token_endpoint_auth_methods_supported: ["private_key_jwt"] }, {}],
        [{ token_endpoint_auth_methods_supported: ["client_secret_basic"] }, { tokenEndpointAuthMethod: "client_secret_post" }]
      ] as const) {
        const error = yield* Effect.flip(build(overrides, options))
        assert.instanceOf(error, ConfigProblem, JSON.stringify(overrides))
      }
      const noPkceInfo = yield* build({ code_challenge_methods_supported: undefined, token_endpoint_auth_methods_supported: undefined })
      assert.strictEqual(noPkceInfo.warnings.length, 1)
      assert.strictEqual(noPkceInfo.tokenEndpointAuthMethod, "client_secret_basic")
      const postOnly = yield* build({ token_endpoint_auth_methods_supported: ["client_secret_post"] })
      assert.strictEqual(postOnly.tokenEndpointAuthMethod, "client_secret_post")
    }))
})
