/**
 * Token revocation (RFC 7009) at the proxy: the client authenticates as at the token endpoint, and may revoke only
 * its own tokens. Revoking a refresh token or an access token ends the grant (both kinds die with it). An unknown
 * token is answered 200, as the RFC asks; another client's token is refused and left alone.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { InvalidRequest, type OAuthEndpointError } from "../Errors.js"
import type { HttpAnswer } from "../HttpAnswer.js"
import type { ProviderRequest } from "../Provider.js"
import { apiCors, jsonError, preflight } from "./internal/answers.js"
import type { ProxyContext } from "./internal/context.js"
import { readForm } from "./internal/form.js"
import * as RateLimit from "./RateLimit.js"

const revoked: HttpAnswer = { status: 200, headers: { ...apiCors, "cache-control": "no-store", pragma: "no-cache" } }
const notYours = new InvalidRequest({ description: "The token was not issued to this client" })

/** The revocation endpoint. */
export const handle = (context: ProxyContext, request: ProviderRequest): Effect.Effect<HttpAnswer> => {
  if (request.method === "OPTIONS") return Effect.succeed(preflight)
  if (request.method !== "POST") return Effect.succeed({ status: 405, headers: { ...apiCors, allow: "POST, OPTIONS" } })
  return revoke(context, request).pipe(Effect.catchAll((error: OAuthEndpointError) => Effect.succeed(jsonError(error))))
}

const revoke = (context: ProxyContext, request: ProviderRequest) =>
  Effect.gen(function* () {
    const source = RateLimit.sourceOf(request, context.trustedProxies)
    yield* RateLimit.check(context.store, `${context.keyPrefix}rate:token:${source}`, context.limits.token, "revocation")
    const form = yield* readForm(request, 16 * 1024)
    const client = yield* context.clients.authenticate(request, form)
    const token = form.get("token")
    if (token === undefined || token === "") return yield* new InvalidRequest({ description: "token is required" })
    const hint = form.get("token_type_hint")
    const asRefresh = Effect.gen(function* () {
      const owner = yield* context.grants.refreshTokenOwner(token)
      if (Option.isNone(owner)) return false
      if (owner.value.client_id !== client.clientId) return yield* notYours
      yield* context.grants.revoke(owner.value.grant_id, "refresh token revoked by its client")
      return true
    })
    const asAccess = Effect.gen(function* () {
      const inspected = yield* context.accessTokens.inspect(token)
      if (inspected === undefined) return false
      if (inspected.clientId !== client.clientId) return yield* notYours
      yield* context.grants.revoke(inspected.grantId, "access token revoked by its client")
      return true
    })
    // the hint only orders the lookups (RFC 7009 §2.1)
    const first = hint === "access_token" ? asAccess : asRefresh
    const second = hint === "access_token" ? asRefresh : asAccess
    if (!(yield* first)) yield* second
    return revoked
  })
