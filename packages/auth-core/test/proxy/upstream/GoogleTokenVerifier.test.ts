import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import { afterAll, beforeAll } from "vitest"
import { ConfigProblem } from "../../../src/ConfigProblem.js"
import { InvalidToken, UpstreamUnavailable } from "../../../src/Errors.js"
import * as GoogleTokenVerifier from "../../../src/proxy/upstream/GoogleTokenVerifier.js"
import { asTokenVerifier } from "../../../src/proxy/upstream/UpstreamVerifier.js"
import { type StandIn, startGoogle } from "./standIns.js"

const clientId = "1234567890-abc123def456.apps.googleusercontent.com"
const otherClient = "999999999-other.apps.googleusercontent.com"

describe("GoogleTokenVerifier", () => {
  let google: StandIn
  const inAnHour = Math.floor(Date.now() / 1000) + 3600
  const tokens = {
    ours: "ya29.a0AfB_byOurs000000000000000000",
    foreign: "ya29.a0AfB_byForeign00000000000000",
    foreignAzp: "ya29.a0AfB_byForeignAzp0000000000",
    expired: "ya29.a0AfB_byExpired0000000000000",
    noExp: "ya29.a0AfB_byNoExp000000000000000",
    workspace: "ya29.a0AfB_byWorkspace00000000000",
    otherDomain: "ya29.a0AfB_byOtherDomain000000000",
    hdInInfo: "ya29.a0AfB_byHdInInfo00000000000",
    subMismatch: "ya29.a0AfB_bySubMismatch00000000"
  }
  beforeAll(async () => {
    const base = { aud: clientId, sub: "110169484474386276334", scope: "openid https://www.googleapis.com/auth/userinfo.email", exp: inAnHour, email: "ada@example.com" }
    google = await startGoogle({
      [tokens.ours]: base,
      [tokens.foreign]: { ...base, aud: otherClient },
      [tokens.foreignAzp]: { ...base, azp: otherClient },
      [tokens.expired]: { ...base, exp: Math.floor(Date.now() / 1000) - 10 },
      [tokens.noExp]: { aud: clientId, sub: "1", scope: "openid" },
      [tokens.workspace]: { ...base, userinfoHd: "example.com" },
      [tokens.otherDomain]: { ...base, userinfoHd: "evil.example" },
      [tokens.hdInInfo]: { ...base, hd: "Example.COM" },
      [tokens.subMismatch]: { ...base, userinfoHd: "example.com", userinfoSub: "someone-else" }
    })
  })
  afterAll(() => google.close())

  const verify = (token: string, overrides: Partial<GoogleTokenVerifier.GoogleTokenVerifierOptions> = {}) =>
    GoogleTokenVerifier.make({
      clientId,
      tokenInfoUrl: `${google.origin}/tokeninfo`,
      userInfoUrl: `${google.origin}/v1/userinfo`,
      ...overrides
    }).pipe(
      Effect.flatMap((verifier) => verifier.verify(Redacted.make(token))),
      Effect.provide(FetchHttpClient.layer)
    )

  const assertTokenNeverInUrl = () => {
    for (const request of google.received()) {
      for (const token of Object.values(tokens)) assert.notInclude(request.target, token)
      assert.notInclude(request.target, "access_token")
    }
  }

  it.live("accepts a token issued to our client, sending it in a POST body", () =>
    Effect.gen(function* () {
      const before = google.received().length
      const identity = yield* verify(tokens.ours)
      assert.strictEqual(identity.provider, "google")
      assert.strictEqual(identity.issuer, "https://accounts.google.com")
      assert.strictEqual(identity.subject, "110169484474386276334")
      assert.strictEqual(identity.clientId, clientId)
      assert.deepStrictEqual(identity.scopes, ["openid", "https://www.googleapis.com/auth/userinfo.email"])
      assert.strictEqual(identity.expiresAt, inAnHour)
      assert.strictEqual(identity.user.email, "ada@example.com")
      assert.strictEqual(identity.claims["email_verified"], true)

      const [request, ...rest] = google.received().slice(before)
      assert.strictEqual(rest.length, 0)
      assert.strictEqual(request?.method, "POST")
      assert.strictEqual(request?.target, "/tokeninfo")
      assert.match(String(request?.headers["content-type"]), /^application\/x-www-form-urlencoded/)
      assert.strictEqual(new URLSearchParams(request?.body).get("access_token"), tokens.ours)
      assertTokenNeverInUrl()

      // also usable where a TokenVerifier is expected
      const info = yield* GoogleTokenVerifier.make({ clientId, tokenInfoUrl: `${google.origin}/tokeninfo` }).pipe(
        Effect.flatMap((verifier) => asTokenVerifier(verifier).verify(Redacted.make(tokens.ours))),
        Effect.provide(FetchHttpClient.layer)
      )
      assert.strictEqual(info.subject, "110169484474386276334")
      assert.deepStrictEqual(info.audience, [clientId])
    }))

  it.live("refuses tokens issued to another client, expired, without expiry, or unknown", () =>
    Effect.gen(function* () {
      const cases = [
        [tokens.foreign, "audience"],
        [tokens.foreignAzp, "audience"],
        [tokens.expired, "expired"],
        [tokens.noExp, "missing_claim"],
        ["ya29.unknown", "rejected"],
        ["not a token", "malformed"]
      ] as const
      for (const [token, reason] of cases) {
        const error = yield* Effect.flip(verify(token))
        assert.instanceOf(error, InvalidToken, token)
        assert.strictEqual(error.reason, reason, token)
      }
      assertTokenNeverInUrl()
    }))

  it.live("enforces the hosted-domain allowlist from a trusted source, never from the authorization hint", () =>
    Effect.gen(function* () {
      const hostedDomains = ["example.com"]
      const member = yield* verify(tokens.workspace, { hostedDomains })
      assert.strictEqual(member.claims["hd"], "example.com")
      const userinfo = google.requestsTo("/v1/userinfo").at(-1)
      assert.strictEqual(userinfo?.method, "GET")
      assert.strictEqual(userinfo?.target, "/v1/userinfo")
      assert.strictEqual(userinfo?.headers["authorization"], `Bearer ${tokens.workspace}`)

      // `hd` already in token info: no second call; compared case-insensitively
      const before = google.requestsTo("/v1/userinfo").length
      yield* verify(tokens.hdInInfo, { hostedDomains })
      assert.strictEqual(google.requestsTo("/v1/userinfo").length, before)

      for (const [token, reason] of [
        [tokens.otherDomain, "rejected"],
        [tokens.ours, "rejected"], // a consumer account has no hd
        [tokens.subMismatch, "subject"]
      ] as const) {
        const error = yield* Effect.flip(verify(token, { hostedDomains }))
        assert.instanceOf(error, InvalidToken, token)
        assert.strictEqual(error.reason, reason, token)
      }
      // without an allowlist every account passes, and userinfo is not asked
      const count = google.requestsTo("/v1/userinfo").length
      yield* verify(tokens.otherDomain)
      assert.strictEqual(google.requestsTo("/v1/userinfo").length, count)
      assertTokenNeverInUrl()
    }))

  it.live("maps Google failures to UpstreamUnavailable", () =>
    Effect.gen(function* () {
      for (const [status, contentType, body, reason] of [
        [500, "application/json", "{}", "status"],
        [503, "application/json", "{}", "status"],
        [429, "application/json", "{}", "status"],
        [200, "text/html", "<html>sign in</html>", "bad_response"],
        [200, "application/json", '{"sub":"no aud"}', "bad_response"],
        [302, "text/plain", "", "status"]
      ] as const) {
        google.override("/tokeninfo", (response) => {
          response.writeHead(status, { "content-type": contentType, ...(status === 302 ? { location: "https://evil.example/" } : {}) })
          response.end(body)
        })
        const error = yield* Effect.flip(verify(tokens.ours))
        google.override("/tokeninfo", undefined)
        assert.instanceOf(error, UpstreamUnavailable, `${status} ${body}`)
        assert.strictEqual(error.reason, reason, `${status} ${body}`)
        assert.strictEqual(error.target, "google token info")
        assert.notInclude(error.message, tokens.ours)
      }
      google.override("/tokeninfo", () => undefined)
      const timeout = yield* Effect.flip(verify(tokens.ours, { timeout: "200 millis" }))
      google.override("/tokeninfo", undefined)
      assert.instanceOf(timeout, UpstreamUnavailable)
      assert.strictEqual(timeout.reason, "timeout")
    }))

  it.effect("refuses bad settings, naming the variable when configured from the environment", () =>
    Effect.gen(function* () {
      const build = (options: GoogleTokenVerifier.GoogleTokenVerifierOptions) =>
        Effect.flip(GoogleTokenVerifier.make(options).pipe(Effect.provide(FetchHttpClient.layer)))
      assert.strictEqual((yield* build({ clientId: " " })).setting, "clientId")
      assert.strictEqual((yield* build({ clientId, hostedDomains: [] })).setting, "hostedDomains")
      assert.strictEqual((yield* build({ clientId, hostedDomains: ["not a domain"] })).setting, "hostedDomains")
      assert.strictEqual((yield* build({ clientId, tokenInfoUrl: "http://google.example/tokeninfo" })).setting, "tokenInfoUrl")

      const fromEnv = (env: Record<string, string>) =>
        Effect.flip(
          Layer.build(GoogleTokenVerifier.layerConfig()).pipe(
            Effect.scoped,
            Effect.provide(FetchHttpClient.layer),
            Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
          )
        )
      const missing = yield* fromEnv({})
      assert.instanceOf(missing, ConfigProblem)
      assert.strictEqual(missing.message, "MCP_OAUTH_GOOGLE_CLIENT_ID: is required")
      const badDomains = yield* fromEnv({ MCP_OAUTH_GOOGLE_CLIENT_ID: clientId, MCP_OAUTH_GOOGLE_HOSTED_DOMAINS: "a b!" })
      assert.strictEqual(badDomains.setting, "MCP_OAUTH_GOOGLE_HOSTED_DOMAINS")
    }))
})
