import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as jose from "jose"
import { ConfigProblem } from "../../../src/ConfigProblem.js"
import { InvalidToken } from "../../../src/Errors.js"
import * as Jwks from "../../../src/Jwks.js"
import * as Okta from "../../../src/proxy/presets/Okta.js"
import * as PresetVerifier from "../../../src/proxy/presets/PresetVerifier.js"
import { checkIssuer } from "../../../src/proxy/presets/UpstreamPreset.js"

const secret = Redacted.make("okta-client-secret")
const clientId = "0oa1b2c3d4e5f6g7h8i9"

describe("Okta preset", () => {
  it.effect("uses the custom authorization server's endpoints", () =>
    Effect.gen(function* () {
      const preset = yield* Okta.make({ domain: "dev-123456.okta.com", clientId, clientSecret: secret })
      assert.strictEqual(preset.issuer, "https://dev-123456.okta.com/oauth2/default")
      assert.strictEqual(preset.authorizationEndpoint, "https://dev-123456.okta.com/oauth2/default/v1/authorize")
      assert.strictEqual(preset.tokenEndpoint, "https://dev-123456.okta.com/oauth2/default/v1/token")
      assert.strictEqual(preset.revocationEndpoint, "https://dev-123456.okta.com/oauth2/default/v1/revoke")
      assert.strictEqual(preset.userinfoEndpoint, "https://dev-123456.okta.com/oauth2/default/v1/userinfo")
      assert.strictEqual(preset.jwksUri, "https://dev-123456.okta.com/oauth2/default/v1/keys")
      assert.strictEqual(preset.tokenEndpointAuthMethod, "client_secret_basic")
      assert.deepInclude(preset.verifyUpstream, { kind: "jwt", token: "access_token", audience: ["api://default"] })

      const custom = yield* Okta.make({
        domain: "https://login.example.com",
        authServerId: "aus1a2b3c4d5e6f7g8h9",
        audience: "https://mcp.example.com",
        clientId,
        clientSecret: secret
      })
      assert.strictEqual(custom.issuer, "https://login.example.com/oauth2/aus1a2b3c4d5e6f7g8h9")
    }))

  it.effect("refuses the org authorization server in configuration", () =>
    Effect.gen(function* () {
      const problem = (options: Partial<Okta.OktaOptions>) =>
        Effect.flip(Okta.make({ domain: "dev-123456.okta.com", clientId, clientSecret: secret, ...options }))
      for (const domain of [
        "https://dev-123456.okta.com/oauth2/v1",
        "dev-123456.okta.com/oauth2/default",
        "https://dev-123456.okta.com/oauth2",
        "http://dev-123456.okta.com",
        "https://dev-123456.okta.com/api"
      ]) {
        const error = yield* problem({ domain })
        assert.instanceOf(error, ConfigProblem)
        assert.strictEqual(error.setting, "domain", domain)
      }
      for (const authServerId of ["", " ", "v1", "org", "../default", "default/v1"]) {
        const error = yield* problem({ authServerId })
        assert.strictEqual(error.setting, "authServerId", authServerId)
      }
      assert.match((yield* problem({ domain: "https://dev-123456.okta.com/oauth2/v1" })).problem, /org authorization server/)
    }))

  it.live("refuses tokens of the org authorization server and of other applications", () =>
    Effect.gen(function* () {
      const preset = yield* Okta.make({ domain: "dev-123456.okta.com", clientId, clientSecret: secret })
      const org = "https://dev-123456.okta.com"
      assert.deepStrictEqual(checkIssuer(preset.idTokenIssuer, { iss: org }), { ok: false, reason: "issuer" })
      assert.deepStrictEqual(checkIssuer(preset.idTokenIssuer, { iss: preset.issuer }), { ok: true })

      const { publicKey, privateKey } = yield* Effect.promise(() => jose.generateKeyPair("RS256", { extractable: true }))
      const jwk = { ...(yield* Effect.promise(() => jose.exportJWK(publicKey))), kid: "okta-key", alg: "RS256" }
      const verifier = yield* PresetVerifier.make(preset, { jwks: yield* Jwks.fromKeySet({ keys: [jwk] }) }).pipe(
        Effect.provide(FetchHttpClient.layer)
      )
      const verify = (claims: Record<string, unknown>) =>
        Effect.promise(() => {
          const now = Math.floor(Date.now() / 1000)
          return new jose.SignJWT({ iat: now, exp: now + 3600, ...claims }).setProtectedHeader({ alg: "RS256", kid: "okta-key" }).sign(privateKey)
        }).pipe(Effect.flatMap((token) => verifier.verify(Redacted.make(token))))

      // Okta access tokens: scp as an array, cid for the client, uid for the user
      const access = { iss: preset.issuer, aud: "api://default", cid: clientId, uid: "00u1", sub: "ada@example.com", scp: ["openid", "profile", "mcp:read"] }
      const identity = yield* verify(access)
      assert.deepStrictEqual(identity.scopes, ["openid", "profile", "mcp:read"])
      assert.strictEqual(identity.subject, "ada@example.com")

      for (const [claims, reason] of [
        [{ ...access, iss: org, aud: `${org}` }, "issuer"],
        [{ ...access, iss: org }, "issuer"],
        [{ ...access, aud: "https://dev-123456.okta.com" }, "audience"],
        [{ ...access, cid: "0oaSomeOtherApp000000" }, "audience"]
      ] as const) {
        const error = yield* Effect.flip(verify(claims))
        assert.instanceOf(error, InvalidToken)
        assert.strictEqual(error.reason, reason, JSON.stringify(claims))
      }
    }))
})
