import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as jose from "jose"
import { ConfigProblem } from "../../../src/ConfigProblem.js"
import { InvalidToken } from "../../../src/Errors.js"
import * as Jwks from "../../../src/Jwks.js"
import * as Entra from "../../../src/proxy/presets/Entra.js"
import * as PresetVerifier from "../../../src/proxy/presets/PresetVerifier.js"
import {
  acceptsAuthorizationResponseIssuer,
  checkIssuer,
  fromUpstreamScopes,
  issuersOf,
  toUpstreamScopes,
  type UpstreamPreset
} from "../../../src/proxy/presets/UpstreamPreset.js"

const secret = Redacted.make("entra-client-secret")
const clientId = "6731de76-14a6-49ae-97bc-6eba6914391e"
const contoso = "72f988bf-86f1-41af-91ab-2d7cd011db47"
const fabrikam = "0b6e5b2c-1f4a-4a4e-9a43-3c4b7cf1b5b1"
const stranger = "11111111-2222-3333-4444-555555555555"
const v2 = (tid: string) => `https://login.microsoftonline.com/${tid}/v2.0`
const v1 = (tid: string) => `https://sts.windows.net/${tid}/`

const multiTenant = (overrides: Partial<Entra.EntraOptions> = {}) =>
  Entra.make({ tenant: "organizations", allowedTenants: [contoso, fabrikam], clientId, clientSecret: secret, ...overrides })

describe("Entra ID preset", () => {
  it.effect("derives v2.0 endpoints for a single tenant, a multi-tenant app and a sovereign cloud", () =>
    Effect.gen(function* () {
      const single = yield* Entra.make({ tenant: contoso.toUpperCase(), clientId, clientSecret: secret })
      assert.strictEqual(single.issuer, v2(contoso))
      assert.strictEqual(single.authorizationEndpoint, `https://login.microsoftonline.com/${contoso}/oauth2/v2.0/authorize`)
      assert.strictEqual(single.tokenEndpoint, `https://login.microsoftonline.com/${contoso}/oauth2/v2.0/token`)
      assert.strictEqual(single.jwksUri, `https://login.microsoftonline.com/${contoso}/discovery/v2.0/keys`)
      assert.strictEqual(single.userinfoEndpoint, "https://graph.microsoft.com/oidc/userinfo")
      assert.deepStrictEqual(single.idTokenIssuer, { kind: "tenant", templates: ["https://login.microsoftonline.com/{tid}/v2.0"], allowedTenants: [contoso] })
      assert.deepStrictEqual(single.defaultScopes, ["openid", "profile", "offline_access"])
      assert.deepInclude(single.verifyUpstream, { kind: "jwt", token: "id_token", audience: [clientId] })

      const multi = yield* multiTenant()
      // no single issuer: the callback's iss may be any allowed tenant's, the ID token then pins its tid
      assert.isUndefined(multi.issuer)
      assert.strictEqual(multi.authorizationEndpoint, "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize")
      assert.deepStrictEqual(issuersOf(multi.idTokenIssuer), [v2(contoso), v2(fabrikam)])
      assert.isTrue(acceptsAuthorizationResponseIssuer(multi, v2(fabrikam)))
      assert.isFalse(acceptsAuthorizationResponseIssuer(multi, v2(stranger)))

      const consumers = yield* Entra.make({ tenant: "consumers", clientId, clientSecret: secret })
      assert.strictEqual(consumers.issuer, v2(Entra.consumersTenantId))

      const usGov = yield* Entra.make({
        tenant: contoso,
        clientId,
        clientSecret: secret,
        authorityHost: "login.microsoftonline.us",
        acceptV1Tokens: true,
        v1IssuerHost: "sts.windows.net"
      })
      assert.strictEqual(usGov.tokenEndpoint, `https://login.microsoftonline.us/${contoso}/oauth2/v2.0/token`)
      assert.strictEqual(usGov.issuer, `https://login.microsoftonline.us/${contoso}/v2.0`)
      assert.isUndefined(usGov.userinfoEndpoint)
      assert.deepStrictEqual(issuersOf(usGov.idTokenIssuer), [`https://login.microsoftonline.us/${contoso}/v2.0`, v1(contoso)])
    }))

  it.effect("asks for API scopes in full-URI form while tokens carry the short names", () =>
    Effect.gen(function* () {
      const preset = yield* multiTenant({ apiScopes: ["read", "write"] })
      assert.deepStrictEqual(preset.defaultScopes, ["openid", "profile", "offline_access", `api://${clientId}/read`, `api://${clientId}/write`])
      assert.deepStrictEqual(toUpstreamScopes(preset.scopeForm, ["read", "openid", `api://${clientId}/write`]), [
        `api://${clientId}/read`,
        "openid",
        `api://${clientId}/write`
      ])
      assert.deepStrictEqual(fromUpstreamScopes(preset.scopeForm, [`api://${clientId}/read`, "write", "openid"]), ["read", "write", "openid"])
      assert.deepInclude(preset.verifyUpstream, { kind: "jwt", token: "access_token", audience: [clientId, `api://${clientId}`] })

      const custom = yield* multiTenant({ apiScopes: ["read"], appIdUri: "https://api.contoso.com/mcp/" })
      assert.deepStrictEqual(custom.defaultScopes.at(-1), "https://api.contoso.com/mcp/read")
    }))

  it.effect("never leaves the multi-tenant issuer unchecked", () =>
    Effect.gen(function* () {
      const problem = (options: Partial<Entra.EntraOptions>) =>
        Effect.flip(Entra.make({ tenant: "common", clientId, clientSecret: secret, ...options }))
      for (const allowedTenants of [undefined, [], ["*"], ["contoso.onmicrosoft.com"], [" "]]) {
        const error = yield* problem({ allowedTenants })
        assert.instanceOf(error, ConfigProblem)
        assert.strictEqual(error.setting, "allowedTenants", JSON.stringify(allowedTenants))
      }
      assert.strictEqual((yield* problem({ tenant: "contoso.onmicrosoft.com", allowedTenants: [contoso] })).setting, "tenant")
      // a single tenant's allowlist cannot widen it
      assert.strictEqual((yield* problem({ tenant: contoso, allowedTenants: [fabrikam] })).setting, "allowedTenants")
      // v1.0 tokens in a sovereign cloud: their issuer host must be given, not guessed
      const sovereign = yield* problem({ tenant: contoso, authorityHost: "login.partner.microsoftonline.cn", acceptV1Tokens: true })
      assert.strictEqual(sovereign.setting, "v1IssuerHost")
    }))

  it.effect("checks iss against the token's own tid and the allowlist", () =>
    Effect.gen(function* () {
      const policy = (yield* multiTenant({ acceptV1Tokens: true })).idTokenIssuer
      assert.deepStrictEqual(checkIssuer(policy, { iss: v2(contoso), tid: contoso }), { ok: true })
      assert.deepStrictEqual(checkIssuer(policy, { iss: v1(fabrikam), tid: fabrikam }), { ok: true })
      // a tenant outside the allowlist, with a perfectly consistent token
      assert.deepStrictEqual(checkIssuer(policy, { iss: v2(stranger), tid: stranger }), { ok: false, reason: "tenant" })
      // spliced: an allowed issuer on another tenant's token, and the reverse
      assert.deepStrictEqual(checkIssuer(policy, { iss: v2(contoso), tid: stranger }), { ok: false, reason: "tenant" })
      assert.deepStrictEqual(checkIssuer(policy, { iss: v2(fabrikam), tid: contoso }), { ok: false, reason: "issuer" })
      assert.deepStrictEqual(checkIssuer(policy, { iss: v2(contoso) }), { ok: false, reason: "missing_tenant" })
      assert.deepStrictEqual(checkIssuer(policy, { iss: v2(contoso), tid: contoso.toUpperCase() }), { ok: false, reason: "missing_tenant" })
      assert.deepStrictEqual(checkIssuer(policy, { iss: `${v2(contoso)}/`, tid: contoso }), { ok: false, reason: "issuer" })
      assert.deepStrictEqual(checkIssuer(policy, { iss: "https://login.microsoftonline.com/{tid}/v2.0", tid: contoso }), { ok: false, reason: "issuer" })
      // without acceptV1Tokens the v1.0 form is another issuer
      const v2Only = (yield* multiTenant()).idTokenIssuer
      assert.deepStrictEqual(checkIssuer(v2Only, { iss: v1(contoso), tid: contoso }), { ok: false, reason: "issuer" })
    }))

  describe("verifying upstream tokens", () => {
    const setUp = (preset: UpstreamPreset) =>
      Effect.gen(function* () {
        const { publicKey, privateKey } = yield* Effect.promise(() => jose.generateKeyPair("RS256", { extractable: true }))
        const jwk = { ...(yield* Effect.promise(() => jose.exportJWK(publicKey))), kid: "entra-key", alg: "RS256", use: "sig" }
        const jwks = yield* Jwks.fromKeySet({ keys: [jwk] })
        const verifier = yield* PresetVerifier.make(preset, { jwks }).pipe(Effect.provide(FetchHttpClient.layer))
        const sign = (claims: Record<string, unknown>) =>
          Effect.promise(() => {
            const now = Math.floor(Date.now() / 1000)
            return new jose.SignJWT({ iat: now, nbf: now, exp: now + 3600, ...claims })
              .setProtectedHeader({ alg: "RS256", kid: "entra-key", typ: "JWT" })
              .sign(privateKey)
          })
        const verify = (claims: Record<string, unknown>) => Effect.flatMap(sign(claims), (token) => verifier.verify(Redacted.make(token)))
        return { verify }
      })

    it.live("accepts an allowed tenant's ID token and refuses a token from a tenant outside the allowlist", () =>
      Effect.gen(function* () {
        const { verify } = yield* setUp(yield* multiTenant())
        const base = { aud: clientId, sub: "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", oid: "00000000-0000-0000-66f3-3332eca7ea81", name: "Megan Bowen" }
        const identity = yield* verify({ ...base, iss: v2(contoso), tid: contoso })
        assert.strictEqual(identity.provider, "entra")
        assert.strictEqual(identity.issuer, v2(contoso))
        assert.strictEqual(identity.subject, base.sub)
        assert.strictEqual(identity.user.name, "Megan Bowen")

        for (const [claims, reason] of [
          [{ iss: v2(stranger), tid: stranger }, "issuer"],
          [{ iss: v2(contoso), tid: stranger }, "issuer"],
          [{ iss: v2(contoso) }, "issuer"],
          [{ iss: v1(contoso), tid: contoso }, "issuer"],
          [{ iss: v2(contoso), tid: contoso, aud: "00000003-0000-0000-c000-000000000000" }, "audience"],
          [{ iss: v2(contoso), tid: contoso, azp: "a0c2c3d4-0000-0000-0000-000000000000" }, "audience"]
        ] as const) {
          const error = yield* Effect.flip(verify({ ...base, ...claims }))
          assert.instanceOf(error, InvalidToken, JSON.stringify(claims))
          assert.strictEqual(error.reason, reason, JSON.stringify(claims))
        }
      }))

    it.live("verifies access tokens for the app's own API, v1.0 issuer form only when enabled", () =>
      Effect.gen(function* () {
        const preset = yield* multiTenant({ apiScopes: ["read"], acceptV1Tokens: true })
        const { verify } = yield* setUp(preset)
        const v2Token = { iss: v2(contoso), tid: contoso, aud: clientId, azp: clientId, sub: "s1", scp: "read" }
        const identity = yield* verify(v2Token)
        assert.deepStrictEqual(identity.scopes, ["read"])
        const v1Token = { iss: v1(fabrikam), tid: fabrikam, aud: `api://${clientId}`, appid: clientId, sub: "s2", scp: "read" }
        assert.strictEqual((yield* verify(v1Token)).issuer, v1(fabrikam))
        // a token for our API requested by another application of the tenant
        const foreignClient = yield* Effect.flip(verify({ ...v2Token, azp: "a0c2c3d4-0000-0000-0000-000000000000" }))
        assert.strictEqual(foreignClient.reason, "audience")
        const noClient = yield* Effect.flip(verify({ iss: v2(contoso), tid: contoso, aud: clientId, sub: "s3" }))
        assert.strictEqual(noClient.reason, "audience")

        const strict = yield* setUp(yield* multiTenant({ apiScopes: ["read"] }))
        const v1Refused = yield* Effect.flip(strict.verify(v1Token))
        assert.strictEqual(v1Refused.reason, "issuer")
      }))
  })
})
