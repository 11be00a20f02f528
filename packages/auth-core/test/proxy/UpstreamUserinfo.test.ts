/**
 * `Upstream.checkGrant` through the upstream's OIDC userinfo endpoint, with oidc-provider (the TestIdp) as the upstream
 * and no introspection endpoint configured: 200 is active, a token the IdP revoked is revoked (401 `invalid_token`),
 * a valid token without `openid` (403 `insufficient_scope`) decides nothing, a refusal with a refresh token lets the
 * refresh decide, and a userinfo endpoint that cannot answer fails with `UpstreamUnavailable` (the guard's 503).
 *
 * The userinfo endpoint is reached through a switchable gateway in front of the IdP's `/me`, which records what it
 * receives (the token must travel in the Authorization header only) or fails, resets, hangs or redirects.
 *
 * oidc-provider's userinfo accepts only access tokens issued without a resource indicator; the TestIdp binds the
 * tokens of its authorization flow to its default resource, so the tokens here are minted with oidc-provider's own
 * models (`Grant`, `AccessToken`, `RefreshToken`) for userinfo, as an IdP issues them for a sign-in without a resource.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { startTestIdp, type TestIdp } from "@mcp-oauth/testing"
import { Clock, Effect, Redacted } from "effect"
import { afterAll, beforeAll } from "vitest"
import type { UpstreamPreset } from "../../src/proxy/presets/UpstreamPreset.js"
import * as Upstream from "../../src/proxy/Upstream.js"
import { verdictOf } from "../../src/proxy/upstream/UserinfoCheck.js"
import { type LocalServer, startServer } from "./cimd/localServer.js"

const clientId = "mcp-proxy-upstream"
const clientSecret = "upstream-secret-for-userinfo-tests"
const basic = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString("base64")}`

type Mode = "forward" | "fail" | "reset" | "hang" | "redirect"

/**
 * Userinfo tokens (and refresh tokens) minted by the IdP for one account, as a sign-in without a resource yields; with
 * `audience`, an access token for that resource instead, which the IdP's userinfo refuses although it is valid.
 */
const minter = (idp: TestIdp) => async (options: { readonly scope?: string; readonly refresh?: boolean; readonly audience?: string } = {}) => {
  const { provider } = idp
  const scope = options.scope ?? "openid email profile"
  const client = await provider.Client.find(clientId)
  if (client === undefined) throw new Error("the static client is missing")
  const grant = new provider.Grant({ accountId: "test-user", clientId })
  grant.addOIDCScope("openid email profile")
  const grantId = await grant.save()
  const common = { accountId: "test-user", client, grantId, gty: "authorization_code", scope }
  const access = await new provider.AccessToken({ ...common, ...(options.audience === undefined ? {} : { aud: options.audience }) }).save()
  const refresh = options.refresh === true ? await new provider.RefreshToken(common).save() : undefined
  return { access_token: access, token_type: "Bearer", ...(refresh === undefined ? {} : { refresh_token: refresh }) }
}

/** Revokes a token at the IdP, as its owner or an administrator would there. */
const revokeAtIdp = async (idp: TestIdp, token: string, hint: "access_token" | "refresh_token") => {
  const response = await fetch(idp.url("/token/revocation"), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic },
    body: new URLSearchParams({ token, token_type_hint: hint }).toString()
  })
  if (response.status !== 200) throw new Error(`revocation failed: ${response.status}`)
}

describe("Upstream grant check through userinfo (oidc-provider upstream, no introspection)", () => {
  let idp: TestIdp
  let gateway: LocalServer
  let mode: Mode = "forward"
  let upstream: Upstream.Upstream
  let mint: ReturnType<typeof minter>
  const hanging: Array<{ end: () => void }> = []

  beforeAll(async () => {
    idp = await startTestIdp({
      resource: "http://127.0.0.1:9/mcp",
      registration: false,
      staticClients: [
        {
          client_id: clientId,
          client_secret: clientSecret,
          redirect_uris: ["http://127.0.0.1:9/oauth/callback"],
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"],
          token_endpoint_auth_method: "client_secret_basic"
        }
      ]
    })
    mint = minter(idp)
    gateway = await startServer((request, response) => {
      switch (mode) {
        case "fail":
          response.writeHead(502, { "content-type": "application/json", "retry-after": "7" })
          return void response.end("{}")
        case "reset":
          return void response.socket?.destroy()
        case "hang":
          return void hanging.push({ end: () => response.destroy() })
        case "redirect":
          response.writeHead(302, { location: idp.url("/me") })
          return void response.end()
        case "forward":
          void fetch(idp.url("/me"), { headers: { authorization: request.headers["authorization"] ?? "" } }).then(async (answer) => {
            const challenge = answer.headers.get("www-authenticate")
            response.writeHead(answer.status, {
              "content-type": answer.headers.get("content-type") ?? "application/json",
              ...(challenge === null ? {} : { "www-authenticate": challenge })
            })
            response.end(await answer.text())
          })
      }
    })
    upstream = await Effect.runPromise(
      Upstream.make({
        authorizationEndpoint: idp.url("/auth"),
        tokenEndpoint: idp.url("/token"),
        userinfoEndpoint: `${gateway.origin}/userinfo`,
        clientId,
        clientSecret: Redacted.make(clientSecret),
        timeout: "1 second"
      }).pipe(Effect.provide(FetchHttpClient.layer))
    )
  })
  afterAll(async () => {
    for (const request of hanging) request.end()
    await gateway?.close()
    await idp?.close()
  })

  const checkGrant = (tokens: Upstream.UpstreamTokens) => upstream.checkGrant(tokens).pipe(Effect.provide(FetchHttpClient.layer))

  it.effect("is active while userinfo accepts the access token, which travels in the Authorization header only", () =>
    Effect.gen(function* () {
      mode = "forward"
      const tokens = yield* Effect.promise(() => mint())
      const before = gateway.received().length
      const idpBefore = idp.requests("/me")
      assert.deepStrictEqual(yield* checkGrant(tokens), { _tag: "active" })
      const seen = gateway.received().slice(before)
      assert.strictEqual(seen.length, 1)
      assert.strictEqual(seen[0]!.method, "GET")
      assert.strictEqual(seen[0]!.target, "/userinfo")
      assert.strictEqual(seen[0]!.headers["authorization"], `Bearer ${tokens.access_token}`)
      assert.strictEqual(seen[0]!.body, "")
      assert.strictEqual(idp.requests("/me"), idpBefore + 1)
    }))

  it.effect("is revoked once the IdP revoked the access token and there is no refresh token", () =>
    Effect.gen(function* () {
      mode = "forward"
      const tokens = yield* Effect.promise(() => mint())
      assert.deepStrictEqual(yield* checkGrant(tokens), { _tag: "active" })
      yield* Effect.promise(() => revokeAtIdp(idp, tokens.access_token, "access_token"))
      assert.deepStrictEqual(yield* checkGrant(tokens), { _tag: "revoked" })
    }))

  it.effect("takes a valid token without openid (403 insufficient_scope) for no answer, not for a revocation", () =>
    Effect.gen(function* () {
      mode = "forward"
      const tokens = yield* Effect.promise(() => mint({ scope: "email" }))
      const before = gateway.received().length
      assert.deepStrictEqual(yield* checkGrant(tokens), { _tag: "unknown" })
      assert.strictEqual(gateway.received().length, before + 1)
    }))

  it.effect("lets the refresh token decide when userinfo refuses the access token: kept while it works, else revoked", () =>
    Effect.gen(function* () {
      mode = "forward"
      // valid, but for a resource: the IdP's userinfo refuses it (401 invalid_token) while the grant stands
      const live = yield* Effect.promise(() => mint({ refresh: true, audience: idp.resources[0]! }))
      const refusals = idp.requests("/me")
      const refreshed = yield* checkGrant(live)
      assert.strictEqual(idp.requests("/me"), refusals + 1)
      assert.strictEqual(refreshed._tag, "active")
      assert.isDefined(refreshed._tag === "active" ? refreshed.tokens?.access_token : undefined)

      // this IdP revokes the whole grant (its refresh tokens too) with one of its access tokens
      const ended = yield* Effect.promise(() => mint({ refresh: true }))
      yield* Effect.promise(() => revokeAtIdp(idp, ended.access_token, "access_token"))
      assert.deepStrictEqual(yield* checkGrant(ended), { _tag: "revoked" })
    }))

  it.effect("skips userinfo for an expired access token when a refresh can speak for the grant", () =>
    Effect.gen(function* () {
      mode = "forward"
      const tokens = yield* Effect.promise(() => mint({ refresh: true }))
      const now = yield* Clock.currentTimeMillis
      const before = gateway.received().length
      const answer = yield* checkGrant({ ...tokens, expires_at: now - 1000 })
      assert.strictEqual(answer._tag, "active")
      assert.strictEqual(gateway.received().length, before)
    }))

  // live: the upstream's timeout runs on the real clock
  it.live("fails with UpstreamUnavailable when userinfo fails, resets, hangs or redirects", () =>
    Effect.gen(function* () {
      const tokens = yield* Effect.promise(() => mint())
      const expected: Record<Exclude<Mode, "forward">, string> = { fail: "status", reset: "unreachable", hang: "timeout", redirect: "status" }
      for (const [failing, reason] of Object.entries(expected)) {
        mode = failing as Mode
        const idpBefore = idp.requests("/me")
        const failed = yield* Effect.flip(checkGrant(tokens))
        assert.strictEqual(failed._tag, "UpstreamUnavailable", failing)
        assert.strictEqual(failed.target, "upstream userinfo", failing)
        assert.strictEqual(failed.reason, reason, failing)
        assert.isAbove(failed.retryAfterSeconds, 0, failing)
        assert.notInclude(failed.message, tokens.access_token)
        // a redirect is never followed with the token
        assert.strictEqual(idp.requests("/me"), idpBefore, failing)
      }
      mode = "fail"
      assert.strictEqual((yield* Effect.flip(checkGrant(tokens))).retryAfterSeconds, 7)
      mode = "forward"
      assert.deepStrictEqual(yield* checkGrant(tokens), { _tag: "active" })
    }))

  it.effect("is not used for a preset whose access token is a JWT for an API, which userinfo would refuse", () =>
    Effect.gen(function* () {
      mode = "forward"
      const preset = (token: "id_token" | "access_token"): UpstreamPreset => ({
        name: "generic",
        issuer: idp.issuer,
        authorizationEndpoint: idp.url("/auth"),
        tokenEndpoint: idp.url("/token"),
        userinfoEndpoint: `${gateway.origin}/userinfo`,
        jwksUri: idp.jwksUri,
        clientId,
        clientSecret: Redacted.make(clientSecret),
        tokenEndpointAuthMethod: "client_secret_basic",
        tokenRequestHeaders: {},
        authorizationParams: {},
        defaultScopes: ["openid"],
        scopeForm: { kind: "plain" },
        idTokenIssuer: { kind: "exact", issuers: [idp.issuer] },
        verifyUpstream: {
          kind: "jwt",
          token,
          jwksUri: idp.jwksUri,
          audience: [token === "id_token" ? clientId : "https://api.example.com"],
          issuer: { kind: "exact", issuers: [idp.issuer] }
        },
        warnings: []
      })
      const tokens = yield* Effect.promise(() => mint())
      const before = gateway.received().length
      const api = yield* Upstream.fromPreset(preset("access_token"))
      assert.deepStrictEqual(yield* api.checkGrant(tokens), { _tag: "unknown" })
      assert.strictEqual(gateway.received().length, before)
      const oidc = yield* Upstream.fromPreset(preset("id_token"))
      assert.deepStrictEqual(yield* oidc.checkGrant(tokens), { _tag: "active" })
      assert.strictEqual(gateway.received().length, before + 1)
    }).pipe(Effect.provide(FetchHttpClient.layer)))
})

describe("UserinfoCheck.verdictOf", () => {
  it("reads the status and the Bearer challenge", () => {
    assert.strictEqual(verdictOf(200, undefined), "accepted")
    assert.strictEqual(verdictOf(401, undefined), "refused")
    assert.strictEqual(verdictOf(401, 'Bearer error="invalid_token"'), "refused")
    assert.strictEqual(verdictOf(403, undefined), "refused")
    assert.strictEqual(verdictOf(400, 'Bearer realm="x", error="invalid_token"'), "refused")
    assert.strictEqual(verdictOf(403, 'Bearer realm="x", error="insufficient_scope", scope="openid"'), "unanswered")
    // anything else is no answer at all: 503 and Retry-After at the guard
    for (const status of [204, 302, 400, 404, 429, 500, 503]) assert.isUndefined(verdictOf(status, undefined), String(status))
    assert.isUndefined(verdictOf(400, 'Basic error="invalid_token"'))
  })
})
