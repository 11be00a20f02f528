/**
 * The proxy's authorization endpoint. In order: a known client, a redirect URI registered for it (exact, with port
 * freedom only for loopback URIs) — until both hold, every error is a 400 page and nothing is redirected anywhere —
 * then `response_type=code`, an S256 challenge, `resource` = this server (`invalid_target`), scopes this server
 * offers; those errors go back to the client's redirect URI with `state` and `iss` (RFC 9207). A valid request is
 * kept for the consent decision and the consent page is shown; nothing is sent upstream yet.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { isScopeToken } from "../Challenge.js"
import type { HttpAnswer } from "../HttpAnswer.js"
import type { ProviderRequest } from "../Provider.js"
import { canonicalize } from "../ResourceUrl.js"
import type { Client } from "./Clients.js"
import * as Consent from "./Consent.js"
import { toClient } from "./internal/answers.js"
import type { ProxyContext } from "./internal/context.js"
import { errorPage } from "./internal/html.js"
import type { AuthorizationRequest } from "./internal/records.js"
import * as Pkce from "./Pkce.js"
import * as RateLimit from "./RateLimit.js"
import * as RedirectUri from "./RedirectUri.js"
import * as Telemetry from "../Telemetry.js"

/** Scopes clients commonly add that the proxy's tokens do not carry; dropped rather than refused. */
const ignoredScopes = new Set(["openid", "offline_access"])

/** Longest `state` accepted (it is echoed back). */
const maxStateLength = 2048

/** Whether a `resource` value names this server (RFC 8707 §2: compared after syntax-based normalization). */
export const isThisResource = (value: string, resource: string): boolean => {
  if (value === resource) return true
  const canonical = canonicalize(value)
  return "url" in canonical && canonical.url === resource
}

/** The validated authorization request, or the answer to send instead. */
const validate = (
  context: ProxyContext,
  request: ProviderRequest
): Effect.Effect<{ readonly client: Client; readonly authorization: AuthorizationRequest } | HttpAnswer> =>
  Effect.gen(function* () {
    const all = (name: string) => request.query.getAll(name)
    const one = (name: string) => {
      const values = all(name)
      return values.length === 1 ? values[0] : undefined
    }
    // --- until the redirect URI is trusted, errors are shown here and never redirected ---
    if (all("client_id").length !== 1) return errorPage(400, "The request must name exactly one client (client_id).")
    if (all("redirect_uri").length > 1) return errorPage(400, "The request names more than one redirect_uri.")
    const clientId = one("client_id")!
    const found = yield* Effect.either(context.clients.find(clientId))
    if (found._tag === "Left") {
      return found.left._tag === "UpstreamUnavailable"
        ? errorPage(503, "The client's metadata could not be fetched; try again later.")
        : errorPage(400, "The client's metadata is not acceptable.")
    }
    if (Option.isNone(found.right)) return errorPage(400, "The client is not known to this server. It may need to register again.")
    const client = found.right.value
    const presented = one("redirect_uri")
    let redirectUri: string
    if (presented === undefined) {
      if (client.redirectUris.length !== 1) return errorPage(400, "The request must name a redirect_uri.")
      redirectUri = client.redirectUris[0]!
    } else {
      if (RedirectUri.match(client.redirectUris, presented) === undefined) {
        return errorPage(400, "The redirect_uri is not registered for this client.")
      }
      redirectUri = presented
    }

    // --- the redirect URI is trusted from here on ---
    const state = one("state")
    const fail = (error: string, description: string, withState = true) =>
      toClient(redirectUri, {
        error,
        error_description: description,
        state: withState ? state : undefined,
        iss: context.issuer
      })
    if (all("state").length > 1 || (state !== undefined && state.length > maxStateLength)) {
      return fail("invalid_request", "The state parameter is repeated or too long", false)
    }
    for (const name of ["response_type", "code_challenge", "code_challenge_method", "scope", "prompt", "login_hint"]) {
      if (all(name).length > 1) return fail("invalid_request", `The ${name} parameter is repeated`)
    }
    if (one("response_type") !== "code") return fail("unsupported_response_type", "Only response_type=code is supported")
    if (!client.grantTypes.includes("authorization_code")) {
      return fail("unauthorized_client", "The client is not registered for the authorization code grant")
    }
    // PKCE is mandatory and only S256 exists here: no challenge, `plain`, or a challenge without a method all fail
    const challenge = one("code_challenge")
    if (challenge === undefined) return fail("invalid_request", "A PKCE code_challenge is required")
    if (one("code_challenge_method") !== "S256") return fail("invalid_request", "code_challenge_method must be S256")
    if (!Pkce.isS256Challenge(challenge)) return fail("invalid_request", "The code_challenge is not a valid S256 challenge")
    const resources = all("resource")
    if (resources.length > 1) return fail("invalid_target", "Only one resource may be requested")
    if (resources.length === 1 && !isThisResource(resources[0]!, context.resource)) {
      return fail("invalid_target", "The requested resource is not this server")
    }
    const requested = (one("scope") ?? "").split(" ").filter((s) => s !== "")
    if (!requested.every(isScopeToken)) return fail("invalid_scope", "The scope parameter is malformed")
    const wanted = requested.filter((s) => !ignoredScopes.has(s))
    const unknown = wanted.filter((s) => !context.scopesSupported.includes(s))
    if (unknown.length > 0) return fail("invalid_scope", "The request names a scope this server does not offer")
    const scope = wanted.length > 0 ? [...new Set(wanted)] : [...context.defaultScopes]
    // the consent of this proxy always needs the user, so a request that forbids any page cannot succeed
    if ((one("prompt") ?? "").split(" ").includes("none")) return fail("consent_required", "Consent is required")

    const loginHint = one("login_hint")
    return {
      client,
      authorization: {
        client_id: client.clientId,
        redirect_uri: redirectUri,
        redirect_uri_sent: presented !== undefined,
        ...(state === undefined ? {} : { state }),
        code_challenge: challenge,
        scope,
        resource: context.resource,
        // a hint only, passed on to the upstream login; bounded and printable
        ...(loginHint !== undefined && /^[\x20-\x7e]{1,256}$/.test(loginHint) ? { login_hint: loginHint } : {})
      }
    }
  })

/** The authorization endpoint: validation, then the consent page. */
export const handle = (context: ProxyContext, request: ProviderRequest): Effect.Effect<HttpAnswer> =>
  Effect.gen(function* () {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return { ...errorPage(405, "Use GET for authorization requests."), headers: { ...errorPage(405, "").headers, allow: "GET" } }
    }
    const limited = yield* RateLimit.checkPage(context, request, "authorize", context.limits.authorization, "Too many authorization requests; try again later.")
    if (limited !== undefined) return limited
    const validated = yield* validate(context, request)
    if ("status" in validated) return validated
    const { client, authorization } = validated
    yield* Effect.annotateCurrentSpan(Telemetry.Attribute.clientId, client.clientId)
    // a remembered approval skips the page, unless the client asks for the user's attention
    const prompts = (request.query.get("prompt") ?? "").split(" ")
    if (context.approvals !== undefined && !prompts.includes("consent") && !prompts.includes("login")) {
      const approval = yield* context.approvals.find(request.header("cookie"), authorization)
      if (Option.isSome(approval)) return yield* Consent.proceedRemembered(context, authorization, approval.value)
    }
    return yield* Consent.show(context, request, client, authorization)
  }).pipe(
    Effect.catchAll(() => Effect.succeed(errorPage(503, "The authorization service is unavailable; try again later.")))
  )
