/**
 * GitHub user tokens, verified with GitHub: any GitHub token (a personal access token, another application's token)
 * is accepted by `GET /user`, so a token is first checked against OUR application with
 * `POST /applications/{client_id}/token` (HTTP Basic `client_id:client_secret`, the token in the JSON body; GitHub
 * answers 404 for a token that is not this application's), and only then is the user read from `GET /user`, with the
 * granted scopes from its `X-OAuth-Scopes` header (GitHub App user tokens carry none).
 *
 * The token travels only in the JSON body and the `Authorization` header, never in a URL; the client secret only in
 * the `Authorization` header of the check.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { ConfigProblem } from "../../ConfigProblem.js"
import { InvalidToken, type InvalidTokenReason, UpstreamUnavailable } from "../../Errors.js"
import { decodeJson } from "../../internal/fetchJson.js"
import { checkUrl, fromConfigError } from "../../internal/settings.js"
import { exchangeJson } from "./exchange.js"
import * as Telemetry from "../../Telemetry.js"
import { isPlausibleToken, type Service, type UpstreamIdentity, UpstreamVerifier } from "./UpstreamVerifier.js"

/** Options of the GitHub verifier. */
export interface GitHubTokenVerifierOptions {
  /** The OAuth App's (or GitHub App's) client id. */
  readonly clientId: string
  /** Its client secret; unwrapped only to build the token check's `Authorization` header. */
  readonly clientSecret: Redacted.Redacted<string>
  /** The REST API's base URL (default `https://api.github.com`; GitHub Enterprise Server: `https://{host}/api/v3`). */
  readonly apiBaseUrl?: string | undefined
  /** Who issued the tokens, as put in the identity (default `https://github.com`). */
  readonly issuer?: string | undefined
  /** Timeout of each of the two calls (default 5 seconds). */
  readonly timeout?: Duration.DurationInput | undefined
  /** Largest answer accepted, in bytes (default 64 KiB). */
  readonly maxResponseBytes?: number | undefined
  /** The `User-Agent` GitHub requires on API calls (default `mcp-oauth`). */
  readonly userAgent?: string | undefined
}

/** The defaults of {@link GitHubTokenVerifierOptions}. */
export const defaults = {
  apiBaseUrl: "https://api.github.com",
  issuer: "https://github.com",
  timeout: "5 seconds",
  maxResponseBytes: 64 * 1024,
  userAgent: "mcp-oauth"
} as const

// "Check a token" (REST API, OAuth authorizations): the members this verifier relies on
const CheckedToken = Schema.Struct({
  app: Schema.Struct({ client_id: Schema.String }),
  user: Schema.optional(Schema.NullOr(Schema.Struct({ id: Schema.Number, login: Schema.String }))),
  scopes: Schema.optional(Schema.NullOr(Schema.Array(Schema.String))),
  expires_at: Schema.optional(Schema.NullOr(Schema.String))
})

// "Get the authenticated user"
const GitHubUser = Schema.Struct({
  id: Schema.Number,
  login: Schema.String,
  name: Schema.optional(Schema.NullOr(Schema.String)),
  email: Schema.optional(Schema.NullOr(Schema.String))
})

const refused = (reason: InvalidTokenReason = "rejected") => new InvalidToken({ reason })

/** Scopes from GitHub's `X-OAuth-Scopes` header (`repo, read:user`). */
export const parseScopesHeader = (header: string | undefined): ReadonlyArray<string> | undefined =>
  header === undefined ? undefined : header.split(",").map((s) => s.trim()).filter((s) => s !== "")

const checkOptions = (options: GitHubTokenVerifierOptions) =>
  Effect.gen(function* () {
    const clientId = options.clientId.trim()
    // RFC 7617: a user-id with a colon cannot be sent in Basic authentication
    if (clientId === "" || clientId.includes(":") || !/^[\x21-\x7e]+$/.test(clientId)) {
      return yield* new ConfigProblem({ setting: "clientId", problem: "must be a GitHub client id (no spaces or colons)" })
    }
    if (Redacted.value(options.clientSecret).trim() === "") {
      return yield* new ConfigProblem({ setting: "clientSecret", problem: "must not be empty" })
    }
    const apiBaseUrl = (yield* checkUrl("apiBaseUrl", options.apiBaseUrl ?? defaults.apiBaseUrl)).replace(/\/+$/, "")
    const issuer = yield* checkUrl("issuer", options.issuer ?? defaults.issuer, "issuer")
    return { clientId, apiBaseUrl, issuer }
  })

/** Builds the verifier; GitHub is contacted only when a token is verified. */
export const make = (options: GitHubTokenVerifierOptions): Effect.Effect<Service, ConfigProblem, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const { clientId, apiBaseUrl, issuer } = yield* checkOptions(options)
    const context = yield* Effect.context<HttpClient.HttpClient>()
    const timeout = options.timeout ?? defaults.timeout
    const maxResponseBytes = options.maxResponseBytes ?? defaults.maxResponseBytes
    const apiHeaders = {
      accept: "application/vnd.github+json",
      "x-github-api-version": "2022-11-28",
      "user-agent": options.userAgent ?? defaults.userAgent
    }
    const checkUrlOf = `${apiBaseUrl}/applications/${encodeURIComponent(clientId)}/token`

    // the secret is unwrapped here, for the header of one request, and nowhere else
    const basicAuthorization = Effect.sync(() => {
      const credentials = new TextEncoder().encode(`${clientId}:${Redacted.value(options.clientSecret)}`)
      return `Basic ${btoa(String.fromCharCode(...credentials))}`
    })

    const checkToken = (token: string) =>
      Effect.gen(function* () {
        const authorization = yield* basicAuthorization
        const request = HttpClientRequest.post(checkUrlOf).pipe(
          HttpClientRequest.setHeaders({ ...apiHeaders, authorization }),
          HttpClientRequest.bodyUnsafeJson({ access_token: token })
        )
        // 404: not a token of this application (a PAT, another app's token, a revoked one); 422: not a token at all
        const answer = yield* exchangeJson(request, {
          target: "github token check",
          timeout,
          maxResponseBytes,
          readStatus: (status) => status === 404 || status === 422 || status === 401 || status === 403
        })
        if (answer.status === 404 || answer.status === 422) return yield* refused()
        if (answer.status === 401 || answer.status === 403) {
          // our own credentials were refused (or we are rate limited): a server problem, never the token's fault
          yield* Effect.logError("GitHub refused the application's client credentials at the token check").pipe(
            Effect.annotateLogs({ status: answer.status })
          )
          return yield* new UpstreamUnavailable({ reason: "status", target: "github token check", retryAfterSeconds: 60 })
        }
        return yield* decodeJson(CheckedToken, "github token check")(answer.body)
      })

    const readUser = (token: string) =>
      Effect.gen(function* () {
        const request = HttpClientRequest.get(`${apiBaseUrl}/user`).pipe(
          HttpClientRequest.setHeaders({ ...apiHeaders, authorization: `Bearer ${token}` })
        )
        const answer = yield* exchangeJson(request, {
          target: "github user",
          timeout,
          maxResponseBytes,
          readStatus: (status) => status === 401
        })
        // revoked between the two calls
        if (answer.status === 401) return yield* refused()
        const user = yield* decodeJson(GitHubUser, "github user")(answer.body)
        return { user, scopes: parseScopesHeader(answer.headers["x-oauth-scopes"]) }
      })

    const verify = Effect.fnUntraced(function* (redacted: Redacted.Redacted<string>) {
      const token = Redacted.value(redacted)
      if (!isPlausibleToken(token)) return yield* refused("malformed")
      const checked = yield* checkToken(token)
      // GitHub answered for our client id; a body naming another application is refused all the same
      if (checked.app.client_id !== clientId) return yield* refused("audience")
      let expiresAt: number | undefined
      if (checked.expires_at !== undefined && checked.expires_at !== null) {
        const millis = Date.parse(checked.expires_at)
        if (Number.isNaN(millis)) return yield* new UpstreamUnavailable({ reason: "bad_response", target: "github token check", retryAfterSeconds: 1 })
        if (millis <= (yield* Clock.currentTimeMillis)) return yield* refused("expired")
        expiresAt = Math.floor(millis / 1000)
      }
      const { user, scopes: headerScopes } = yield* readUser(token)
      if (checked.user !== undefined && checked.user !== null && checked.user.id !== user.id) return yield* refused("subject")
      const scopes = headerScopes ?? checked.scopes ?? []
      const subject = String(user.id)
      const name = user.name ?? undefined
      const email = user.email ?? undefined
      const identity: UpstreamIdentity = {
        provider: "github",
        issuer,
        subject,
        clientId,
        scopes,
        expiresAt,
        user: { userId: subject, email, name: name ?? user.login, roles: [], permissions: [] },
        claims: {
          sub: subject,
          login: user.login,
          ...(name === undefined ? {} : { name }),
          ...(email === undefined ? {} : { email }),
          scope: scopes.join(" ")
        }
      }
      return identity
    }, Effect.provide(context))

    const span = Telemetry.spanned(Telemetry.Span.verifyToken, { [Telemetry.Attribute.verifier]: "github" })
    return { verify: (token) => span(verify(token)) }
  })

/** A layer providing {@link UpstreamVerifier} for GitHub. */
export const layer = (options: GitHubTokenVerifierOptions): Layer.Layer<UpstreamVerifier, ConfigProblem, HttpClient.HttpClient> =>
  Layer.effect(UpstreamVerifier, make(options))

/** The environment variables read by {@link layerConfig}: `MCP_OAUTH_GITHUB_CLIENT_ID`, `…_CLIENT_SECRET`, `…_API_URL`. */
export const config: Config.Config<GitHubTokenVerifierOptions> = Config.all({
  clientId: Config.string("MCP_OAUTH_GITHUB_CLIENT_ID"),
  clientSecret: Config.redacted("MCP_OAUTH_GITHUB_CLIENT_SECRET"),
  apiBaseUrl: Config.option(Config.string("MCP_OAUTH_GITHUB_API_URL"))
}).pipe(Config.map(({ apiBaseUrl, ...rest }) => ({ ...rest, apiBaseUrl: Option.getOrUndefined(apiBaseUrl) })))

/** Like {@link layer}, with options from configuration; a problem names the variable. */
export const layerConfig = (
  options: Config.Config<GitHubTokenVerifierOptions> = config
): Layer.Layer<UpstreamVerifier, ConfigProblem, HttpClient.HttpClient> =>
  Layer.unwrapEffect(
    Effect.map(Effect.mapError(options, fromConfigError), (resolved) =>
      layer(resolved).pipe(Layer.mapError((problem) => renameSetting(problem)))
    )
  )

const variableOf: Record<string, string> = {
  clientId: "MCP_OAUTH_GITHUB_CLIENT_ID",
  clientSecret: "MCP_OAUTH_GITHUB_CLIENT_SECRET",
  apiBaseUrl: "MCP_OAUTH_GITHUB_API_URL"
}

const renameSetting = (problem: ConfigProblem) =>
  new ConfigProblem({ setting: variableOf[problem.setting] ?? problem.setting, problem: problem.problem })
