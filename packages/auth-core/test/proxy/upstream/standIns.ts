/**
 * Loopback stand-ins for the provider APIs the upstream verifiers call, answering in the documented shapes:
 * GitHub's "Check a token" (`POST /applications/{client_id}/token`, Basic client credentials, JSON body; 404 for a
 * token that is not this application's) and "Get the authenticated user" (`GET /user`, `X-OAuth-Scopes`), and
 * Google's token info (`POST /tokeninfo`, form body; 400 `invalid_token`) and OpenID Connect userinfo.
 */
import type * as http from "node:http"
import { type LocalServer, type Received, sendJson, startServer } from "../cimd/localServer.js"

/** A GitHub token as the stand-in knows it. */
export interface GitHubToken {
  /** The application that owns it; `"pat"` for a personal access token. */
  readonly app: string
  readonly user: { readonly id: number; readonly login: string; readonly name?: string | null; readonly email?: string | null }
  /** `X-OAuth-Scopes`; undefined for GitHub App user tokens (no header). */
  readonly scopes?: ReadonlyArray<string> | undefined
  readonly expiresAt?: string | null | undefined
}

export interface StandIn extends LocalServer {
  /** Replaces the next answer to `path` (a status, or a function writing the response). */
  readonly override: (path: string, reply: ((response: http.ServerResponse) => void) | undefined) => void
  readonly requestsTo: (path: string) => ReadonlyArray<Received>
}

const withOverrides = async (handler: (request: Received, response: http.ServerResponse) => void): Promise<StandIn> => {
  const overrides = new Map<string, (response: http.ServerResponse) => void>()
  const server = await startServer((request, response) => {
    const path = request.target.split("?")[0] ?? ""
    const override = overrides.get(path)
    if (override !== undefined) return override(response)
    handler(request, response)
  })
  return {
    ...server,
    override: (path, reply) => (reply === undefined ? overrides.delete(path) : overrides.set(path, reply)),
    requestsTo: (path) => server.received().filter((r) => (r.target.split("?")[0] ?? "") === path)
  }
}

const bearerOf = (request: Received): string | undefined => {
  const header = request.headers["authorization"]
  const match = header === undefined ? null : /^(?:Bearer|token) (.+)$/.exec(header)
  return match?.[1]
}

/** GitHub's API for one registered application. */
export const startGitHub = (app: { readonly clientId: string; readonly clientSecret: string }, tokens: Readonly<Record<string, GitHubToken>>) =>
  withOverrides((request, response) => {
    const path = request.target.split("?")[0] ?? ""
    const check = /^\/applications\/([^/]+)\/token$/.exec(path)
    if (check !== null && request.method === "POST") {
      const expected = `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString("base64")}`
      if (decodeURIComponent(check[1]!) !== app.clientId || request.headers["authorization"] !== expected) {
        return sendJson(response, 401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" })
      }
      let body: unknown
      try {
        body = JSON.parse(request.body)
      } catch {
        return sendJson(response, 400, { message: "Problems parsing JSON" })
      }
      const token = typeof body === "object" && body !== null ? (body as Record<string, unknown>)["access_token"] : undefined
      if (typeof token !== "string") return sendJson(response, 422, { message: "Validation Failed" })
      const known = tokens[token]
      // not this application's token (another app's, a PAT, unknown): GitHub answers 404
      if (known === undefined || known.app !== app.clientId) return sendJson(response, 404, { message: "Not Found" })
      return sendJson(response, 200, {
        id: 1,
        url: `https://api.github.com/authorizations/1`,
        app: { name: "MCP proxy", url: "https://example.com", client_id: known.app },
        token: "",
        hashed_token: "25f94a2a5c7fbaf499c665bc73d67c1c87e496da8985131633ee0a95819db2e8",
        token_last_eight: token.slice(-8),
        note: null,
        note_url: null,
        created_at: "2011-09-06T17:26:27Z",
        updated_at: "2011-09-06T20:39:23Z",
        scopes: known.scopes ?? [],
        fingerprint: null,
        expires_at: known.expiresAt ?? null,
        user: { login: known.user.login, id: known.user.id, type: "User", site_admin: false }
      })
    }
    if (path === "/user" && request.method === "GET") {
      const known = tokens[bearerOf(request) ?? ""]
      // any valid token reads /user, whichever app it belongs to: the reason the check above exists
      if (known === undefined) return sendJson(response, 401, { message: "Requires authentication" })
      const headers = known.scopes === undefined ? {} : { "x-oauth-scopes": known.scopes.join(", "), "x-accepted-oauth-scopes": "" }
      return sendJson(
        response,
        200,
        { login: known.user.login, id: known.user.id, type: "User", name: known.user.name ?? null, email: known.user.email ?? null },
        headers
      )
    }
    sendJson(response, 404, { message: "Not Found" })
  })

/** What Google's token info says about one token. */
export interface GoogleToken {
  readonly aud: string
  readonly azp?: string
  readonly sub: string
  readonly scope: string
  /** Seconds since the epoch; sent as a string, like Google does. */
  readonly exp?: number
  readonly email?: string
  readonly hd?: string
  /** `hd` only in userinfo (Google puts none in access-token info). */
  readonly userinfoHd?: string
  readonly userinfoSub?: string
}

/** Google's token info and userinfo endpoints. */
export const startGoogle = (tokens: Readonly<Record<string, GoogleToken>>) =>
  withOverrides((request, response) => {
    const path = request.target.split("?")[0] ?? ""
    if (path === "/tokeninfo") {
      // Google accepts the token in the query too; the verifier must never use that form
      const query = new URLSearchParams(request.target.split("?")[1] ?? "")
      const form = new URLSearchParams(request.body)
      const token = form.get("access_token") ?? query.get("access_token")
      const known = token === null ? undefined : tokens[token]
      if (known === undefined) return sendJson(response, 400, { error: "invalid_token", error_description: "Invalid Value" })
      const now = Math.floor(Date.now() / 1000)
      return sendJson(response, 200, {
        azp: known.azp ?? known.aud,
        aud: known.aud,
        sub: known.sub,
        scope: known.scope,
        ...(known.exp === undefined ? {} : { exp: String(known.exp), expires_in: String(known.exp - now) }),
        ...(known.email === undefined ? {} : { email: known.email, email_verified: "true" }),
        ...(known.hd === undefined ? {} : { hd: known.hd }),
        access_type: "online"
      })
    }
    if (path === "/v1/userinfo") {
      const known = tokens[bearerOf(request) ?? ""]
      if (known === undefined) return sendJson(response, 401, { error: "invalid_request", error_description: "Invalid Credentials" })
      return sendJson(response, 200, {
        sub: known.userinfoSub ?? known.sub,
        name: "Ada Lovelace",
        ...(known.email === undefined ? {} : { email: known.email, email_verified: true }),
        ...(known.userinfoHd === undefined ? {} : { hd: known.userinfoHd })
      })
    }
    sendJson(response, 404, { error: "not_found" })
  })
