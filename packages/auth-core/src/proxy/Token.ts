/**
 * The proxy's token endpoint. The client is authenticated as it registered (401 `invalid_client` otherwise).
 * `authorization_code`: the code is taken (single use) and must belong to this client and redirect URI, and the
 * client's PKCE verifier must match its challenge; any mismatch, and any replay, revokes the grant (what a leaked code
 * produced stops working). `refresh_token`: the token must be this client's active one; it is rotated, and a rotated
 * one presented again revokes its family. Answers are never cached; upstream tokens never leave the server.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import {
  InvalidGrant,
  InvalidRequest,
  InvalidScope,
  InvalidTarget,
  type OAuthEndpointError,
  UnsupportedGrant
} from "../Errors.js"
import type { HttpAnswer } from "../HttpAnswer.js"
import type { ProviderRequest } from "../Provider.js"
import { isThisResource } from "./Authorize.js"
import type { Client } from "./Clients.js"
import { apiCors, json, jsonError, preflight } from "./internal/answers.js"
import type { ProxyContext } from "./internal/context.js"
import { readForm } from "./internal/form.js"
import type { GrantRecord } from "./internal/records.js"
import * as Pkce from "./Pkce.js"
import * as RateLimit from "./RateLimit.js"

/** Largest token request body. */
export const maxBodyBytes = 16 * 1024

/** The token endpoint. */
export const handle = (context: ProxyContext, request: ProviderRequest): Effect.Effect<HttpAnswer> => {
  if (request.method === "OPTIONS") return Effect.succeed(preflight)
  if (request.method !== "POST") return Effect.succeed({ status: 405, headers: { ...apiCors, allow: "POST, OPTIONS" } })
  return token(context, request).pipe(Effect.catchAll((error: OAuthEndpointError) => Effect.succeed(jsonError(error))))
}

const token = (context: ProxyContext, request: ProviderRequest) =>
  Effect.gen(function* () {
    const source = RateLimit.sourceOf(request, context.trustedProxies)
    yield* RateLimit.check(context.store, `${context.keyPrefix}rate:token:${source}`, context.limits.token, "token")
    const form = yield* readForm(request, maxBodyBytes)
    const client = yield* context.clients.authenticate(request, form)
    const grantType = form.get("grant_type")
    if (grantType === undefined) return yield* new InvalidRequest({ description: "grant_type is required" })
    if (grantType !== "authorization_code" && grantType !== "refresh_token") {
      return yield* new UnsupportedGrant({ error: "unsupported_grant_type", description: "Only authorization_code and refresh_token are supported" })
    }
    if (!client.grantTypes.includes(grantType)) {
      return yield* new UnsupportedGrant({ error: "unauthorized_client", description: "The client is not registered for this grant type" })
    }
    const resource = form.get("resource")
    return grantType === "authorization_code"
      ? yield* authorizationCode(context, client, form, resource)
      : yield* refresh(context, client, form, resource)
  })

const authorizationCode = (
  context: ProxyContext,
  client: Client,
  form: ReadonlyMap<string, string>,
  resource: string | undefined
) =>
  Effect.gen(function* () {
    const code = form.get("code")
    if (code === undefined || code === "") return yield* new InvalidRequest({ description: "code is required" })
    const record = yield* context.grants.redeemCode(code)
    // the code is spent from here on: a failed check below also ends the grant it would have produced
    const refuse = (why: string, error: OAuthEndpointError) =>
      Effect.zipRight(context.grants.revoke(record.grant_id, why), Effect.fail(error))
    if (record.client_id !== client.clientId) {
      return yield* refuse("code redeemed by another client", new InvalidGrant({ description: "The code was not issued to this client" }))
    }
    const redirectUri = form.get("redirect_uri")
    if (record.redirect_uri_sent ? redirectUri !== record.redirect_uri : redirectUri !== undefined && redirectUri !== record.redirect_uri) {
      return yield* refuse("code redeemed with another redirect_uri", new InvalidGrant({ description: "The redirect_uri does not match the authorization request" }))
    }
    if (resource !== undefined && !isThisResource(resource, context.resource)) {
      return yield* refuse("code redeemed for another resource", new InvalidTarget({ description: "The requested resource is not this server" }))
    }
    const verifier = form.get("code_verifier")
    if (verifier === undefined || !(yield* Pkce.verify(verifier, record.code_challenge))) {
      return yield* refuse("PKCE verification failed", new InvalidGrant({ description: "The code_verifier does not match the code_challenge" }))
    }
    const grant = yield* context.grants.get(record.grant_id)
    if (Option.isNone(grant)) return yield* new InvalidGrant({ description: "The grant was revoked or has expired" })
    yield* context.clients.touch(client)
    return yield* tokenResponse(context, client, grant.value, grant.value.scope)
  })

const refresh = (
  context: ProxyContext,
  client: Client,
  form: ReadonlyMap<string, string>,
  resource: string | undefined
) =>
  Effect.gen(function* () {
    const presented = form.get("refresh_token")
    if (presented === undefined || presented === "") return yield* new InvalidRequest({ description: "refresh_token is required" })
    let grant = yield* context.grants.checkRefreshToken(presented, client.clientId)
    if (resource !== undefined && !isThisResource(resource, context.resource)) {
      return yield* new InvalidTarget({ description: "The requested resource is not this server" })
    }
    const requested = form.get("scope")
    let scope = grant.scope
    if (requested !== undefined) {
      const narrowed = requested.split(" ").filter((s) => s !== "" && s !== "offline_access" && s !== "openid")
      if (!narrowed.every((s) => grant.scope.includes(s))) {
        return yield* new InvalidScope({ description: "The requested scope exceeds the grant" })
      }
      if (narrowed.length > 0) scope = [...new Set(narrowed)]
    }
    // the upstream grant is re-checked before the client's token is rotated, so an unavailable upstream (503)
    // leaves the client's refresh token usable for a retry
    grant = yield* refreshUpstream(context, grant)
    yield* context.grants.rotateRefreshToken(presented, grant)
    yield* context.clients.touch(client)
    return yield* tokenResponse(context, client, grant, scope)
  })

/** Refreshes the upstream tokens when they have expired; an upstream refusal ends the grant here too. */
const refreshUpstream = (context: ProxyContext, grant: GrantRecord) =>
  Effect.gen(function* () {
    if (!context.refreshUpstream) return grant
    const tokens = yield* context.grants.upstreamTokens(grant)
    if (Option.isNone(tokens)) return grant
    const now = yield* Clock.currentTimeMillis
    const { expires_at, refresh_token } = tokens.value
    if (expires_at === undefined || expires_at - 30_000 > now || refresh_token === undefined) return grant
    const refreshed = yield* Effect.either(context.upstream.refresh(refresh_token))
    if (refreshed._tag === "Left") {
      if (refreshed.left._tag === "UpstreamUnavailable") return yield* refreshed.left
      yield* context.grants.revoke(grant.grant_id, "upstream refused the refresh", { upstream: false })
      return yield* new InvalidGrant({ description: "The identity provider no longer accepts this grant" })
    }
    return yield* context.grants.replaceUpstream(grant, refreshed.right)
  })

const tokenResponse = (context: ProxyContext, client: Client, grant: GrantRecord, scope: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const access = yield* context.accessTokens.issue({ grant, scope })
    const refreshToken = client.grantTypes.includes("refresh_token") ? yield* context.grants.issueRefreshToken(grant) : undefined
    return json(200, {
      access_token: access.token,
      token_type: "Bearer",
      expires_in: access.expiresIn,
      scope: scope.join(" "),
      ...(refreshToken === undefined ? {} : { refresh_token: refreshToken })
    })
  })
