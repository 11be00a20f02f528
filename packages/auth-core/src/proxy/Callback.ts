/**
 * The upstream's redirect back to the proxy. The `state` is taken (single use) and must have been created by a
 * consent in the browser now presenting the matching consent cookie; the upstream's `iss` must be its issuer (RFC
 * 9207: a response naming another issuer, or none when the upstream promises one, is a mix-up). Failures before
 * those checks pass are pages, never redirects. Then the upstream code is exchanged with the proxy's verifier and
 * secret, the user identified, a grant created, and the browser sent to the client with the proxy's own code,
 * the client's `state` and the proxy's `iss`. Upstream error text is never relayed.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { HttpAnswer } from "../HttpAnswer.js"
import type { ProviderRequest } from "../Provider.js"
import * as Telemetry from "../Telemetry.js"
import * as Consent from "./Consent.js"
import { stateKey, verifierContext } from "./Consent.js"
import { toClient } from "./internal/answers.js"
import type { ProxyContext } from "./internal/context.js"
import { errorPage } from "./internal/html.js"
import { type AuthorizationRequest, decode, UpstreamState } from "./internal/records.js"
import * as RateLimit from "./RateLimit.js"

const decodeState = decode(UpstreamState, "upstream state")

/** Which authorization error the client hears for an upstream error code (the upstream's own text never passes). */
const clientErrorFor = (upstreamError: string): string =>
  upstreamError === "access_denied" || upstreamError === "login_required" || upstreamError === "consent_required" ||
    upstreamError === "interaction_required" || upstreamError === "account_selection_required"
    ? "access_denied"
    : upstreamError === "temporarily_unavailable"
      ? "temporarily_unavailable"
      : "server_error"

/** The callback endpoint. */
export const handle = (context: ProxyContext, request: ProviderRequest): Effect.Effect<HttpAnswer> =>
  Effect.gen(function* () {
    if (request.method !== "GET") return errorPage(405, "The sign-in response must arrive with GET.")
    const limited = yield* RateLimit.checkPage(context, request, "callback", context.limits.callback, "Too many sign-in responses; try again later.")
    if (limited !== undefined) return limited
    const all = (name: string) => request.query.getAll(name)
    const states = all("state")
    if (states.length !== 1 || states[0]!.length > 512) return errorPage(400, "The sign-in response carries no valid state.")
    for (const name of ["code", "iss", "error"]) {
      if (all(name).length > 1) return errorPage(400, "The sign-in response repeats a parameter.")
    }
    const key = yield* stateKey(context, states[0]!)
    const found = yield* Effect.flatMap(context.store.take(key), decodeState)
    if (Option.isNone(found)) return errorPage(400, "This sign-in has expired or was already completed. Start again from the application.")
    const record = found.value
    const binding = yield* context.cookies.read(request.header("cookie"), record.request.client_id)
    if (Option.isNone(binding) || binding.value.browserId !== record.browser_id) {
      // the consent happened in another browser: someone may be trying to make this user sign in for them
      yield* Effect.logWarning("proxy callback from a browser that did not consent").pipe(
        Effect.annotateLogs({ client_id: record.request.client_id })
      )
      return errorPage(403, "This sign-in did not start in this browser. Start again from the application.")
    }
    // RFC 9207: an `iss` naming another issuer, or none when the upstream promises one, is a mix-up
    if (!(yield* context.upstream.acceptsIss(all("iss")[0]))) {
      yield* Effect.logWarning("proxy callback with a missing or foreign issuer (mix-up)")
      return errorPage(400, "The sign-in response did not come from the expected identity provider.")
    }
    const authorization = record.request
    yield* Effect.annotateCurrentSpan(Telemetry.Attribute.clientId, authorization.client_id)
    const toTheClient = (error: string, description: string) =>
      toClient(authorization.redirect_uri, { error, error_description: description, state: authorization.state, iss: context.issuer })
    const upstreamError = all("error")[0]
    if (upstreamError !== undefined) {
      return toTheClient(clientErrorFor(upstreamError), "The identity provider did not complete the sign-in")
    }
    const code = all("code")[0]
    if (code === undefined || code === "" || code.length > 4096) {
      return toTheClient("server_error", "The identity provider returned no authorization code")
    }
    const verifier = yield* context.sealer.open(record.verifier, verifierContext(key))
    if (Option.isNone(verifier)) return toTheClient("server_error", "The sign-in could not be completed")
    const exchanged = yield* Effect.either(
      context.upstream.exchangeCode({ code, codeVerifier: verifier.value, redirectUri: context.endpoints.callback, nonce: record.nonce })
    )
    if (exchanged._tag === "Left") {
      return exchanged.left._tag === "UpstreamRefused"
        ? toTheClient("access_denied", "The identity provider refused the sign-in")
        : toTheClient("temporarily_unavailable", "The identity provider is unavailable; try again later")
    }
    const { identity, tokens } = exchanged.right
    if (record.remembered_subject !== undefined && identity.subject !== record.remembered_subject) {
      // someone else signed in on a browser where another user approved: this user decides for themselves
      yield* Effect.logInfo("proxy remembered approval given by another user; asking for consent")
      yield* context.discardUpstream(tokens)
      const client = yield* context.clients.find(authorization.client_id).pipe(Effect.orElseSucceed(() => Option.none()))
      if (Option.isNone(client)) return errorPage(400, "The client is not known to this server. It may need to register again.")
      return yield* Consent.show(context, request, client.value, authorization)
    }
    const answer = yield* complete(context, authorization, exchanged.right)
    if (record.remember !== true || context.approvals === undefined) return answer
    const cookie = yield* context.approvals.issue({
      browserId: record.browser_id,
      clientId: authorization.client_id,
      redirectUri: authorization.redirect_uri,
      resource: authorization.resource,
      scope: authorization.scope,
      subject: identity.subject
    })
    return { ...answer, headers: { ...answer.headers, "set-cookie": cookie } }
  }).pipe(
    Effect.catchAll(() => Effect.succeed(errorPage(503, "The authorization service is unavailable; try again later.")))
  )

const complete = (
  context: ProxyContext,
  authorization: AuthorizationRequest,
  exchanged: Effect.Effect.Success<ReturnType<ProxyContext["upstream"]["exchangeCode"]>>
) =>
  Effect.gen(function* () {
    const grant = yield* context.grants.create({
      clientId: authorization.client_id,
      subject: exchanged.identity.subject,
      scope: authorization.scope,
      resource: authorization.resource,
      claims: exchanged.identity.claims,
      upstream: exchanged.tokens
    })
    yield* context.grantConfirmed(grant)
    const code = yield* context.grants.issueCode({
      grant_id: grant.grant_id,
      client_id: authorization.client_id,
      redirect_uri: authorization.redirect_uri,
      redirect_uri_sent: authorization.redirect_uri_sent,
      code_challenge: authorization.code_challenge,
      resource: authorization.resource
    })
    yield* Effect.logDebug("proxy authorization completed").pipe(Effect.annotateLogs({ client_id: authorization.client_id }))
    return toClient(authorization.redirect_uri, { code, state: authorization.state, iss: context.issuer })
  })
