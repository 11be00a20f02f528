/**
 * The proxy's own consent (MCP security best practices, "confused deputy"): before anything goes upstream, the user
 * sees which client asks (its name, marked unverified, and the host it will be sent back to), for which server and
 * scopes, and approves with a POST. The page is framed by nobody (`frame-ancestors 'none'`, `X-Frame-Options: DENY`)
 * and runs no script. The POST must carry the per-rendering CSRF token bound to this browser's signed consent cookie,
 * come from this origin when the browser says where it comes from, and name a pending request made for that same
 * browser and client. Only then is the upstream `state` created — random, single-use, short-lived, bound to the
 * browser — and the browser sent upstream with the proxy's own PKCE pair.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { HttpAnswer } from "../HttpAnswer.js"
import type { ProviderRequest } from "../Provider.js"
import type { Client } from "./Clients.js"
import { redirect, toClient } from "./internal/answers.js"
import { randomToken, sha256 } from "./internal/bytes.js"
import type { ProxyContext } from "./internal/context.js"
import { readForm } from "./internal/form.js"
import { errorPage, escapeHtml, page } from "./internal/html.js"
import { type AuthorizationRequest, decode, encode, PendingConsent, UpstreamState } from "./internal/records.js"
import * as Pkce from "./Pkce.js"
import * as RateLimit from "./RateLimit.js"
import type { Approval } from "./RememberedApprovals.js"
import * as Telemetry from "../Telemetry.js"
import * as RedirectUri from "./RedirectUri.js"

const encodePending = encode(PendingConsent)
const decodePending = decode(PendingConsent, "pending consent")
const encodeState = encode(UpstreamState)

/** The Store key of a pending consent (by digest: the Store never holds the request id in clear). */
const pendingKey = (context: ProxyContext, requestId: string) =>
  Effect.map(sha256(requestId), (digest) => `${context.keyPrefix}consent:${digest}`)

/** The Store key of an upstream `state`. */
export const stateKey = (context: ProxyContext, state: string) =>
  Effect.map(sha256(state), (digest) => `${context.keyPrefix}state:${digest}`)

/** The context string sealing the upstream PKCE verifier of one state. */
export const verifierContext = (stateDigestKey: string) => `upstream-verifier:${stateDigestKey}`

/** A lifetime in words, for the page. */
const describe = (lifetime: Duration.Duration): string => {
  const hours = Duration.toHours(lifetime)
  if (hours >= 48) return `${Math.floor(hours / 24)} days`
  if (hours >= 2) return `${Math.floor(hours)} hours`
  return `${Math.max(1, Math.floor(Duration.toMinutes(lifetime)))} minutes`
}

const render = (
  context: ProxyContext,
  client: Client,
  authorization: AuthorizationRequest,
  requestId: string,
  csrfToken: string
): string => {
  const name = client.clientName ?? "An unnamed application"
  const origin =
    client.source === "metadata_document"
      ? `<p class="note">The application is identified by <code>${escapeHtml(RedirectUri.displayHost(client.clientId))}</code>.</p>`
      : `<p class="note">The application chose this name itself; this server has not verified it.</p>`
  const scopes =
    authorization.scope.length === 0
      ? "<p>No specific permissions.</p>"
      : `<p>It asks for:</p><ul>${authorization.scope.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join("")}</ul>`
  const server = context.resourceName ?? context.resource
  return (
    `<h1>Allow ${escapeHtml(name)} to use ${escapeHtml(server)}?</h1>` +
    `<p><strong>${escapeHtml(name)}</strong> wants to use <strong>${escapeHtml(server)}</strong> on your behalf.</p>` +
    origin +
    scopes +
    `<p>If you allow it, you will sign in with your identity provider and then be sent to ` +
    `<code>${escapeHtml(RedirectUri.displayHost(authorization.redirect_uri))}</code>.</p>` +
    `<form method="post" action="${escapeHtml(context.endpoints.consent)}">` +
    `<input type="hidden" name="request_id" value="${escapeHtml(requestId)}">` +
    `<input type="hidden" name="csrf_token" value="${escapeHtml(csrfToken)}">` +
    (context.approvals === undefined
      ? ""
      : `<p><label><input type="checkbox" name="remember" value="yes"> Do not ask again for ${escapeHtml(name)} on this ` +
        `browser for ${escapeHtml(describe(context.approvals.lifetime))} (same permissions or fewer)</label></p>`) +
    `<div class="actions"><button type="submit" name="decision" value="approve" class="primary">Allow</button>` +
    `<button type="submit" name="decision" value="deny">Deny</button></div></form>` +
    `<p class="note">Client ID: <code>${escapeHtml(client.clientId)}</code></p>`
  )
}

/** Keeps a validated request for the decision and shows the consent page, setting the browser's consent cookie. */
export const show = (
  context: ProxyContext,
  request: ProviderRequest,
  client: Client,
  authorization: AuthorizationRequest
) =>
  Effect.gen(function* () {
    const existing = yield* context.cookies.read(request.header("cookie"), client.clientId)
    const browserId = Option.match(existing, { onNone: () => context.cookies.newBrowserId(), onSome: (b) => b.browserId })
    const requestId = randomToken(24)
    const pending: PendingConsent = { request: authorization, browser_id: browserId }
    yield* context.store.set(yield* pendingKey(context, requestId), yield* encodePending(pending), context.ttl.consent)
    const csrf = yield* context.cookies.csrfToken(browserId, requestId)
    const cookie = yield* context.cookies.issue({ browserId, clientId: client.clientId })
    const name = client.clientName ?? "An application"
    return page(200, `Allow ${name}?`, render(context, client, authorization, requestId, csrf), { "set-cookie": cookie })
  })

const forbidden = (message: string) => errorPage(403, message)

/** The upstream authorization URL with a fresh state, PKCE pair and nonce; nothing is stored yet. */
const prepareUpstream = (context: ProxyContext, authorization: AuthorizationRequest) =>
  Effect.gen(function* () {
    const state = randomToken(32)
    const pkce = yield* Pkce.make
    const nonce = context.upstream.wantsIdToken ? randomToken(24) : undefined
    const url = yield* context.upstream.authorizationUrl({
      redirectUri: context.endpoints.callback,
      state,
      codeChallenge: pkce.challenge,
      nonce,
      loginHint: authorization.login_hint
    })
    return { state, pkce, nonce, url }
  })

/** Stores the upstream `state` for this browser and sends it upstream, renewing its consent cookie. */
const sendUpstream = (
  context: ProxyContext,
  authorization: AuthorizationRequest,
  browserId: string,
  prepared: Effect.Effect.Success<ReturnType<typeof prepareUpstream>>,
  extra: Pick<UpstreamState, "remember" | "remembered_subject">
) =>
  Effect.gen(function* () {
    const skey = yield* stateKey(context, prepared.state)
    const record: UpstreamState = {
      request: authorization,
      browser_id: browserId,
      verifier: yield* context.sealer.seal(prepared.pkce.verifier, verifierContext(skey)),
      ...(prepared.nonce === undefined ? {} : { nonce: prepared.nonce }),
      ...extra
    }
    yield* context.store.set(skey, yield* encodeState(record), context.ttl.state)
    // the cookie is renewed so that it outlives the upstream round trip
    const cookie = yield* context.cookies.issue({ browserId, clientId: authorization.client_id })
    return redirect(prepared.url, cookie)
  })

/**
 * Goes upstream on a remembered approval, without a page: a fresh state, PKCE pair and nonce as after a consent
 * POST, bound to the browser the approval was given in (whose consent cookie is renewed), and marked with the
 * approving subject so that the callback can tell whether the same user signed in.
 */
export const proceedRemembered = (context: ProxyContext, authorization: AuthorizationRequest, approval: Approval) =>
  Effect.flatMap(prepareUpstream(context, authorization), (prepared) =>
    sendUpstream(context, authorization, approval.browserId, prepared, { remembered_subject: approval.subject })
  )

/** Whether a browser-sent `Origin` / `Sec-Fetch-Site` rules the POST out as cross-site. */
const crossSite = (context: ProxyContext, request: ProviderRequest): boolean => {
  const origin = request.header("origin")
  if (origin !== undefined && origin !== "null" && origin !== new URL(context.issuer).origin) return true
  if (origin === "null") return true
  const site = request.header("sec-fetch-site")
  return site !== undefined && site !== "same-origin" && site !== "none"
}

/** The consent decision (POST): checks, then the upstream redirect or the client's `access_denied`. */
export const decide = (context: ProxyContext, request: ProviderRequest): Effect.Effect<HttpAnswer> =>
  Effect.gen(function* () {
    if (request.method !== "POST") return errorPage(405, "The consent form must be submitted with POST.")
    const limited = yield* RateLimit.checkPage(context, request, "consent", context.limits.consent, "Too many consent submissions; try again later.")
    if (limited !== undefined) return limited
    if (crossSite(context, request)) return forbidden("The consent form was submitted from another site.")
    const form = yield* Effect.either(readForm(request, 8 * 1024))
    if (form._tag === "Left") return errorPage(400, "The consent form could not be read.")
    const requestId = form.right.get("request_id")
    const csrfToken = form.right.get("csrf_token")
    const decision = form.right.get("decision")
    if (requestId === undefined || csrfToken === undefined || requestId.length > 100 || csrfToken.length > 100) {
      return errorPage(400, "The consent form is incomplete.")
    }
    const key = yield* pendingKey(context, requestId)
    const found = yield* Effect.flatMap(context.store.get(key), decodePending)
    if (Option.isNone(found)) return errorPage(400, "This consent request has expired or was already answered. Start again from the application.")
    const pending = found.value
    const binding = yield* context.cookies.read(request.header("cookie"), pending.request.client_id)
    if (Option.isNone(binding) || binding.value.browserId !== pending.browser_id) {
      return forbidden("This consent was not shown in this browser. Start again from the application.")
    }
    if (!(yield* context.cookies.checkCsrf(pending.browser_id, requestId, csrfToken))) {
      return forbidden("The consent form is not valid for this browser. Start again from the application.")
    }
    const authorization = pending.request
    if (decision !== "approve" && decision !== "deny") return errorPage(400, "The consent form carried no decision.")
    yield* Effect.annotateCurrentSpan(Telemetry.Attribute.clientId, authorization.client_id)
    // prepared before the request is spent, so an unreachable upstream (503) leaves the consent answerable again
    const prepared = decision === "approve" ? yield* prepareUpstream(context, authorization) : undefined
    // single use: of two concurrent submissions only one goes on
    const taken = yield* context.store.take(key)
    if (Option.isNone(taken)) return errorPage(400, "This consent request was already answered.")
    if (prepared === undefined) {
      return toClient(authorization.redirect_uri, {
        error: "access_denied",
        error_description: "The user denied the request",
        state: authorization.state,
        iss: context.issuer
      })
    }
    const remember = context.approvals !== undefined && form.right.get("remember") === "yes"
    return yield* sendUpstream(context, authorization, pending.browser_id, prepared, remember ? { remember: true } : {})
  }).pipe(
    Effect.catchAll(() => Effect.succeed(errorPage(503, "The authorization service is unavailable; try again later.")))
  )
