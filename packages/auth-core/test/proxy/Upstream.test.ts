/**
 * `Upstream.checkGrant` and `Upstream.revoke` for a preset whose grants are confirmed by the provider's own token
 * check (GitHub, against its loopback stand-in): a token of this application is active, anything else revoked; a
 * provider that cannot be asked fails with `UpstreamUnavailable` (the guard's 503); no RFC 7009 endpoint means no
 * revocation call at all. The OIDC path (introspection, RFC 7009 at oidc-provider) runs in
 * `packages/node/test/proxy/upstreamGrant.test.ts`.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { afterAll, beforeAll } from "vitest"
import type { UpstreamPreset } from "../../src/proxy/presets/UpstreamPreset.js"
import * as Upstream from "../../src/proxy/Upstream.js"
import { type StandIn, startGitHub } from "./upstream/standIns.js"

const app = { clientId: "Iv1.8a61f9b3a7aba766", clientSecret: "s3cr3t-0f-the-app-1b2c3d4e5f" }
const ours = "gho_16C7e42F292c6912E7710c838347Ae178B4a"
const othersToken = "gho_AnotherAppsToken00000000000000000"
const checkPath = `/applications/${app.clientId}/token`

describe("Upstream grant check and revocation (GitHub token check)", () => {
  let github: StandIn
  let upstream: Upstream.Upstream
  beforeAll(async () => {
    const user = { id: 583231, login: "octocat" }
    github = await startGitHub(app, {
      [ours]: { app: app.clientId, user, scopes: ["read:user"] },
      [othersToken]: { app: "Iv1.someOtherApplication", user, scopes: ["repo"] }
    })
    const preset: UpstreamPreset = {
      name: "github",
      authorizationEndpoint: `${github.origin}/login/oauth/authorize`,
      tokenEndpoint: `${github.origin}/login/oauth/access_token`,
      clientId: app.clientId,
      clientSecret: Redacted.make(app.clientSecret),
      tokenEndpointAuthMethod: "client_secret_post",
      tokenRequestHeaders: { accept: "application/json" },
      authorizationParams: {},
      defaultScopes: ["read:user"],
      scopeForm: { kind: "plain" },
      idTokenIssuer: { kind: "none" },
      verifyUpstream: { kind: "github-token-check", apiBaseUrl: github.origin },
      warnings: []
    }
    upstream = await Effect.runPromise(Upstream.fromPreset(preset, { timeout: "2 seconds" }).pipe(Effect.provide(FetchHttpClient.layer)))
  })
  afterAll(() => github.close())

  it.effect("is active for this application's token and revoked for any other", () =>
    Effect.gen(function* () {
      const before = github.requestsTo(checkPath).length
      assert.deepStrictEqual(yield* upstream.checkGrant({ access_token: ours, token_type: "bearer" }), { _tag: "active" })
      assert.deepStrictEqual(yield* upstream.checkGrant({ access_token: othersToken, token_type: "bearer" }), { _tag: "revoked" })
      assert.deepStrictEqual(yield* upstream.checkGrant({ access_token: "gho_Unknown000000000000000000000000000", token_type: "bearer" }), {
        _tag: "revoked"
      })
      assert.strictEqual(github.requestsTo(checkPath).length, before + 3)
    }))

  it.effect("fails with UpstreamUnavailable when the provider cannot answer", () =>
    Effect.gen(function* () {
      github.override(checkPath, (response) => {
        response.writeHead(502, { "content-type": "application/json" })
        response.end("{}")
      })
      const failed = yield* Effect.flip(upstream.checkGrant({ access_token: ours, token_type: "bearer" }))
      github.override(checkPath, undefined)
      assert.strictEqual(failed._tag, "UpstreamUnavailable")
      assert.isAbove(failed.retryAfterSeconds, 0)
    }))

  it.effect("reports an upstream without a revocation endpoint as unsupported, calling nothing", () =>
    Effect.gen(function* () {
      const before = github.received().length
      assert.strictEqual(yield* upstream.revoke({ access_token: ours, token_type: "bearer" }), "unsupported")
      assert.strictEqual(github.received().length, before)
    }))
})
