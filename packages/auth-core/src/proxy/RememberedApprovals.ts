/**
 * Remembered approvals: once a user approved client C for scopes S at this resource and ticked "remember", a later
 * authorization in the same browser for C, with the same redirect URI and scopes within S, goes straight upstream.
 *
 * Where the memory lives: in the browser, as one `__Host-` cookie per client, sealed with the proxy's encryption key
 * (AES-256-GCM, the client id as associated data). The proxy does not know the user before the upstream sign-in, so
 * the memory cannot be looked up by user at `/authorize`; a browser cookie is naturally "this browser" (another
 * browser has none), needs no Store entry per browser, survives across instances that share the key, and cannot be
 * read or edited by the browser. It holds the browser id, client id, exact redirect URI, resource, scopes, the
 * upstream subject who approved, and issue and expiry times.
 *
 * What the cookie alone cannot do is being withdrawn from the server: so revoking a grant (by its client, by
 * refresh-token reuse, by code replay) writes a Store marker for that client and subject, and every approval issued
 * before the marker is ignored. The subject also guards a shared browser: a remembered flow records who approved, and
 * the callback shows the consent page instead of completing when someone else signed in upstream.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { UpstreamUnavailable } from "../Errors.js"
import type * as Store from "../Store.js"
import { sha256 } from "./internal/bytes.js"
import type { AuthorizationRequest } from "./internal/records.js"
import type { Sealer } from "./Sealing.js"
import { cookieValues } from "./ConsentCookie.js"

/** One remembered approval. */
export interface Approval {
  /** The browser it was given in (it becomes the browser id of the remembered flow's consent binding). */
  readonly browserId: string
  readonly clientId: string
  /** The exact redirect URI approved: another one, even a loopback port change, asks again. */
  readonly redirectUri: string
  readonly resource: string
  readonly scope: ReadonlyArray<string>
  /** The upstream subject who approved. */
  readonly subject: string
  /** Milliseconds since the epoch. */
  readonly issuedAt: number
  readonly expiresAt: number
}

/** What a new approval records. */
export type NewApproval = Omit<Approval, "issuedAt" | "expiresAt">

/** The remembered approvals of one proxy. */
export interface RememberedApprovals {
  /** How long an approval is remembered. */
  readonly lifetime: Duration.Duration
  /** The `Set-Cookie` value remembering an approval from now on. */
  readonly issue: (approval: NewApproval) => Effect.Effect<string>
  /** The remembered approval covering this request in the request's cookies, if any (and not withdrawn). */
  readonly find: (
    cookieHeader: string | undefined,
    request: AuthorizationRequest
  ) => Effect.Effect<Option.Option<Approval>, UpstreamUnavailable>
  /** Withdraws every approval the subject gave the client so far (a grant of theirs was revoked). */
  readonly forget: (clientId: string, subject: string) => Effect.Effect<void, UpstreamUnavailable>
}

/** The prefix of the cookie names. */
export const cookiePrefix = "__Host-mcp-oauth-approval-"

/** The approval cookie name for a client. */
export const cookieName = (clientId: string): Effect.Effect<string> =>
  Effect.map(sha256(`approval:${clientId}`), (digest) => `${cookiePrefix}${digest.slice(0, 16)}`)

/** The associated data sealing a client's approval cookie: a cookie copied under another client's name does not open. */
export const sealContext = (clientId: string) => `approval-cookie.v1:${clientId}`

interface Payload {
  readonly b: string
  readonly c: string
  readonly r: string
  readonly res: string
  readonly s: ReadonlyArray<string>
  readonly sub: string
  readonly iat: number
  readonly exp: number
}

const isPayload = (u: unknown): u is Payload => {
  if (typeof u !== "object" || u === null) return false
  const p = u as Record<string, unknown>
  return (
    typeof p["b"] === "string" && typeof p["c"] === "string" && typeof p["r"] === "string" && typeof p["res"] === "string" &&
    typeof p["sub"] === "string" && typeof p["iat"] === "number" && typeof p["exp"] === "number" &&
    Array.isArray(p["s"]) && p["s"].every((s) => typeof s === "string")
  )
}

/** Settings of {@link make}. */
export interface RememberedApprovalsOptions {
  readonly sealer: Sealer
  readonly store: Store.Service
  readonly keyPrefix: string
  readonly lifetime: Duration.DurationInput
}

/** Remembered approvals sealed with the proxy's key, withdrawn through Store markers. */
export const make = (options: RememberedApprovalsOptions): RememberedApprovals => {
  const { sealer, store } = options
  const lifetime = Duration.decode(options.lifetime)
  const maxAgeSeconds = Math.max(1, Math.floor(Duration.toSeconds(lifetime)))
  // the marker must outlive every approval issued before it
  const markerTtl = Duration.sum(lifetime, Duration.minutes(1))
  const markerKey = (clientId: string, subject: string) =>
    Effect.map(sha256(`${clientId}\n${subject}`), (digest) => `${options.keyPrefix}approvals-withdrawn:${digest}`)

  const issue = (approval: NewApproval) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const payload: Payload = {
        b: approval.browserId,
        c: approval.clientId,
        r: approval.redirectUri,
        res: approval.resource,
        s: [...approval.scope],
        sub: approval.subject,
        iat: now,
        exp: now + maxAgeSeconds * 1000
      }
      const value = yield* sealer.seal(JSON.stringify(payload), sealContext(approval.clientId))
      const name = yield* cookieName(approval.clientId)
      return `${name}=${value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}`
    })

  const open = (value: string, clientId: string) =>
    Effect.map(sealer.open(value, sealContext(clientId)), (text) =>
      Option.flatMap(text, (json) => {
        try {
          const parsed: unknown = JSON.parse(json)
          return isPayload(parsed) && parsed.c === clientId ? Option.some(parsed) : Option.none()
        } catch {
          return Option.none()
        }
      })
    )

  const covers = (payload: Payload, request: AuthorizationRequest, now: number) =>
    payload.exp > now &&
    payload.r === request.redirect_uri &&
    payload.res === request.resource &&
    request.scope.every((scope) => payload.s.includes(scope))

  const find = (cookieHeader: string | undefined, request: AuthorizationRequest) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const name = yield* cookieName(request.client_id)
      // at most a few are opened: a request cannot make us decrypt an unbounded number of values
      for (const value of cookieValues(cookieHeader, name).slice(0, 4)) {
        if (value.length > 4096) continue
        const payload = yield* open(value, request.client_id)
        if (Option.isNone(payload) || !covers(payload.value, request, now)) continue
        const withdrawn = yield* store.get(yield* markerKey(payload.value.c, payload.value.sub))
        if (Option.isSome(withdrawn) && Number(withdrawn.value) >= payload.value.iat) continue
        const p = payload.value
        return Option.some<Approval>({
          browserId: p.b,
          clientId: p.c,
          redirectUri: p.r,
          resource: p.res,
          scope: p.s,
          subject: p.sub,
          issuedAt: p.iat,
          expiresAt: p.exp
        })
      }
      return Option.none<Approval>()
    })

  const forget = (clientId: string, subject: string) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      yield* store.set(yield* markerKey(clientId, subject), String(now), markerTtl)
    })

  return { lifetime, issue, find, forget }
}
