import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, HashMap, Layer, Logger, LogLevel, Redacted } from "effect"
import { afterAll, beforeAll } from "vitest"
import { ConfigProblem } from "../../../src/ConfigProblem.js"
import { InvalidToken, UpstreamUnavailable } from "../../../src/Errors.js"
import * as GitHubTokenVerifier from "../../../src/proxy/upstream/GitHubTokenVerifier.js"
import { UpstreamVerifier } from "../../../src/proxy/upstream/UpstreamVerifier.js"
import { type StandIn, startGitHub } from "./standIns.js"

const app = { clientId: "Iv1.8a61f9b3a7aba766", clientSecret: "s3cr3t-0f-the-app-1b2c3d4e5f" }
const ours = "gho_16C7e42F292c6912E7710c838347Ae178B4a"
const appToken = "ghu_AppUserToken0000000000000000000000"
const expiredAppToken = "ghu_ExpiredUserToken00000000000000000"
const pat = "ghp_PersonalAccessToken000000000000000"
const othersToken = "gho_AnotherAppsToken00000000000000000"

/** Captures every log line (message and annotations) at every level. */
const captureLogs = () => {
  const lines: Array<string> = []
  const logger = Logger.make(({ annotations, message }) => {
    lines.push(JSON.stringify({ message, annotations: Object.fromEntries(HashMap.toEntries(annotations)) }))
  })
  const layer = Layer.merge(Logger.replace(Logger.defaultLogger, logger), Logger.minimumLogLevel(LogLevel.All))
  return { lines, layer }
}

describe("GitHubTokenVerifier", () => {
  let github: StandIn
  beforeAll(async () => {
    const user = { id: 583231, login: "octocat", name: "The Octocat", email: "octocat@github.com" }
    github = await startGitHub(app, {
      [ours]: { app: app.clientId, user, scopes: ["read:user", "user:email"] },
      [appToken]: { app: app.clientId, user, scopes: undefined, expiresAt: new Date(Date.now() + 8 * 3600_000).toISOString() },
      [expiredAppToken]: { app: app.clientId, user, expiresAt: "2020-01-01T00:00:00Z" },
      [pat]: { app: "pat", user, scopes: ["repo", "admin:org"] },
      [othersToken]: { app: "Iv1.someOtherApplication", user, scopes: ["repo"] }
    })
  })
  afterAll(() => github.close())

  const verifierWith = (overrides: Partial<GitHubTokenVerifier.GitHubTokenVerifierOptions> = {}) =>
    GitHubTokenVerifier.make({
      clientId: app.clientId,
      clientSecret: Redacted.make(app.clientSecret),
      apiBaseUrl: github.origin,
      ...overrides
    }).pipe(Effect.provide(FetchHttpClient.layer))

  const verify = (token: string, overrides: Partial<GitHubTokenVerifier.GitHubTokenVerifierOptions> = {}) =>
    Effect.flatMap(verifierWith(overrides), (verifier) => verifier.verify(Redacted.make(token))).pipe(Effect.provide(FetchHttpClient.layer))

  /** Neither the token nor the secret appears on any request line, and the secret travels only as Basic credentials. */
  const assertNothingInUrls = () => {
    for (const request of github.received()) {
      for (const secret of [ours, appToken, pat, othersToken, app.clientSecret]) {
        assert.notInclude(request.target, secret)
        assert.notInclude(decodeURIComponent(request.target), secret)
      }
    }
  }

  it.live("accepts a token of our application and maps the user and scopes", () =>
    Effect.gen(function* () {
      const before = github.received().length
      const identity = yield* verify(ours)
      assert.strictEqual(identity.provider, "github")
      assert.strictEqual(identity.issuer, "https://github.com")
      assert.strictEqual(identity.subject, "583231")
      assert.strictEqual(identity.clientId, app.clientId)
      assert.deepStrictEqual(identity.scopes, ["read:user", "user:email"])
      assert.deepStrictEqual(identity.user, {
        userId: "583231",
        email: "octocat@github.com",
        name: "The Octocat",
        roles: [],
        permissions: []
      })
      assert.strictEqual(identity.claims["login"], "octocat")
      assert.isUndefined(identity.expiresAt)

      const [check, user] = github.received().slice(before)
      assert.strictEqual(check?.method, "POST")
      assert.strictEqual(check?.target, `/applications/${app.clientId}/token`)
      assert.strictEqual(check?.headers["authorization"], `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString("base64")}`)
      assert.deepStrictEqual(JSON.parse(check?.body ?? ""), { access_token: ours })
      assert.strictEqual(check?.headers["accept"], "application/vnd.github+json")
      assert.strictEqual(check?.headers["x-github-api-version"], "2022-11-28")
      assert.strictEqual(check?.headers["user-agent"], "mcp-oauth")
      assert.strictEqual(user?.method, "GET")
      assert.strictEqual(user?.target, "/user")
      assert.strictEqual(user?.headers["authorization"], `Bearer ${ours}`)
      assertNothingInUrls()
    }))

  it.live("accepts a GitHub App user token: expiry from the check, no scopes", () =>
    Effect.gen(function* () {
      const identity = yield* verify(appToken)
      assert.deepStrictEqual(identity.scopes, [])
      assert.isNumber(identity.expiresAt)
      assert.isAbove(identity.expiresAt!, Date.now() / 1000)
      const expired = yield* Effect.flip(verify(expiredAppToken))
      assert.instanceOf(expired, InvalidToken)
      assert.strictEqual(expired.reason, "expired")
    }))

  it.live("refuses a personal access token, another application's token and an unknown token without reading the user", () =>
    Effect.gen(function* () {
      const usersBefore = github.requestsTo("/user").length
      for (const token of [pat, othersToken, "gho_unknown0000000000000000000000000000"]) {
        const error = yield* Effect.flip(verify(token))
        assert.instanceOf(error, InvalidToken, token)
        assert.strictEqual(error.reason, "rejected")
      }
      // /user would have accepted every one of them
      assert.strictEqual(github.requestsTo("/user").length, usersBefore)
      assertNothingInUrls()
    }))

  it.live("refuses an answer that names another application, even with status 200", () =>
    Effect.gen(function* () {
      github.override(`/applications/${app.clientId}/token`, (response) => {
        const body = JSON.stringify({ app: { client_id: "Iv1.someOtherApplication" }, user: { id: 1, login: "x" }, scopes: [] })
        response.writeHead(200, { "content-type": "application/json" })
        response.end(body)
      })
      const error = yield* Effect.flip(verify(ours))
      github.override(`/applications/${app.clientId}/token`, undefined)
      assert.instanceOf(error, InvalidToken)
      assert.strictEqual(error.reason, "audience")
    }))

  it.live("refuses malformed tokens without calling GitHub", () =>
    Effect.gen(function* () {
      const before = github.received().length
      for (const token of ["", "has space", "line\nbreak", "ü-token", "x".repeat(5000)]) {
        const error = yield* Effect.flip(verify(token))
        assert.instanceOf(error, InvalidToken)
        assert.strictEqual(error.reason, "malformed")
      }
      assert.strictEqual(github.received().length, before)
    }))

  it.live("maps GitHub failures to UpstreamUnavailable, naming no token, secret or URL", () =>
    Effect.gen(function* () {
      const logs = captureLogs()
      // our credentials refused: a server problem, not the token's
      const badCredentials = yield* Effect.flip(verify(ours, { clientSecret: Redacted.make("wrong-secret-value") }).pipe(Effect.provide(logs.layer)))
      assert.instanceOf(badCredentials, UpstreamUnavailable)
      assert.strictEqual(badCredentials.reason, "status")
      assert.strictEqual(badCredentials.target, "github token check")

      for (const [path, status] of [[`/applications/${app.clientId}/token`, 502], ["/user", 503], ["/user", 500]] as const) {
        github.override(path, (response) => {
          response.writeHead(status, { "content-type": "application/json", "retry-after": "999999" })
          response.end("{}")
        })
        const error = yield* Effect.flip(verify(ours).pipe(Effect.provide(logs.layer)))
        github.override(path, undefined)
        assert.instanceOf(error, UpstreamUnavailable)
        assert.strictEqual(error.reason, "status")
        assert.isAtMost(error.retryAfterSeconds, 3600)
      }

      // a redirect is not followed (it would carry the token and our credentials elsewhere)
      github.override(`/applications/${app.clientId}/token`, (response) => {
        response.writeHead(307, { location: `${github.origin}/elsewhere` })
        response.end()
      })
      const redirected = yield* Effect.flip(verify(ours).pipe(Effect.provide(logs.layer)))
      github.override(`/applications/${app.clientId}/token`, undefined)
      assert.instanceOf(redirected, UpstreamUnavailable)
      assert.strictEqual(github.requestsTo("/elsewhere").length, 0)

      // an answer that is not the documented shape
      github.override("/user", (response) => {
        response.writeHead(200, { "content-type": "application/json" })
        response.end(JSON.stringify({ login: "no id" }))
      })
      const malformed = yield* Effect.flip(verify(ours).pipe(Effect.provide(logs.layer)))
      github.override("/user", undefined)
      assert.instanceOf(malformed, UpstreamUnavailable)
      assert.strictEqual(malformed.reason, "bad_response")

      for (const error of [badCredentials, redirected, malformed]) {
        const text = `${error.message} ${JSON.stringify(error)}`
        for (const secret of [ours, app.clientSecret, "wrong-secret-value", github.origin]) assert.notInclude(text, secret)
      }
      assert.isAbove(logs.lines.length, 0)
      for (const line of logs.lines) {
        for (const secret of [ours, app.clientSecret, "wrong-secret-value", Buffer.from(`${app.clientId}:${app.clientSecret}`).toString("base64")]) {
          assert.notInclude(line, secret)
        }
      }
    }))

  it.live("times out on a GitHub that does not answer", () =>
    Effect.gen(function* () {
      github.override("/user", () => undefined)
      const error = yield* Effect.flip(verify(ours, { timeout: "200 millis" }))
      github.override("/user", undefined)
      assert.instanceOf(error, UpstreamUnavailable)
      assert.strictEqual(error.reason, "timeout")
    }))

  it.effect("refuses bad settings and names the variable when configured from the environment", () =>
    Effect.gen(function* () {
      const bad = yield* Effect.flip(verifierWith({ clientId: "a:b" }))
      assert.strictEqual(bad.setting, "clientId")
      const blank = yield* Effect.flip(verifierWith({ clientSecret: Redacted.make(" ") }))
      assert.strictEqual(blank.setting, "clientSecret")
      const insecure = yield* Effect.flip(verifierWith({ apiBaseUrl: "http://api.github.example" }))
      assert.strictEqual(insecure.setting, "apiBaseUrl")

      const fromEnv = (env: Record<string, string>) =>
        Effect.flip(
          Layer.build(GitHubTokenVerifier.layerConfig()).pipe(
            Effect.scoped,
            Effect.provide(FetchHttpClient.layer),
            Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
          )
        )
      const missingSecret = yield* fromEnv({ MCP_OAUTH_GITHUB_CLIENT_ID: "abc" })
      assert.instanceOf(missingSecret, ConfigProblem)
      assert.strictEqual(missingSecret.setting, "MCP_OAUTH_GITHUB_CLIENT_SECRET")
      assert.strictEqual(missingSecret.message, "MCP_OAUTH_GITHUB_CLIENT_SECRET: is required")
      const missingId = yield* fromEnv({})
      assert.strictEqual(missingId.setting, "MCP_OAUTH_GITHUB_CLIENT_ID")
      const badUrl = yield* fromEnv({
        MCP_OAUTH_GITHUB_CLIENT_ID: "abc",
        MCP_OAUTH_GITHUB_CLIENT_SECRET: "shh",
        MCP_OAUTH_GITHUB_API_URL: "ftp://x"
      })
      assert.strictEqual(badUrl.setting, "MCP_OAUTH_GITHUB_API_URL")
      assert.notInclude(badUrl.message, "shh")

      const ok = yield* Layer.build(GitHubTokenVerifier.layerConfig()).pipe(
        Effect.scoped,
        Effect.provide(FetchHttpClient.layer),
        Effect.withConfigProvider(
          ConfigProvider.fromMap(new Map([["MCP_OAUTH_GITHUB_CLIENT_ID", "abc"], ["MCP_OAUTH_GITHUB_CLIENT_SECRET", "shh"]]))
        )
      )
      assert.isDefined(ok.unsafeMap.get(UpstreamVerifier.key))
    }))
})
