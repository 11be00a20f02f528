/**
 * The cookie that binds an authorization to the browser that approved it. The consent page sets it; the consent
 * POST and the upstream callback require it. An attacker who approves in their own browser and sends the victim the
 * upstream URL (or the callback URL) therefore gets nowhere: the victim's browser lacks the attacker's cookie.
 *
 * The cookie is `__Host-` prefixed (so Secure, host-only, `Path=/`: no sibling subdomain can plant one), HttpOnly,
 * SameSite=Lax (sent on the top-level GET back from the identity provider, not on cross-site POSTs), signed with
 * HMAC-SHA256 and bound to one client id, with its own expiry inside the signed part. Its name carries a digest of
 * the client id, so flows for different clients in one browser do not overwrite each other.
 *
 * The CSRF token of a consent form is HMAC(browser id, request id): new for every rendering, and only valid together
 * with this browser's cookie (the signed double-submit pattern).
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { base64url, constantTimeEqual, fromBase64, hmac, hmacKey, randomToken, sha256, utf8 } from "./internal/bytes.js"

/** What the cookie binds. */
export interface Binding {
  /** A random identifier of this browser profile, per client. */
  readonly browserId: string
  /** The client the consent is for. */
  readonly clientId: string
}

/** The consent cookies of one proxy. */
export interface ConsentCookies {
  /** The `Set-Cookie` header value for a binding, valid for the configured lifetime from now. */
  readonly issue: (binding: Binding) => Effect.Effect<string>
  /** The valid, unexpired binding for `clientId` that the request's `Cookie` header carries, if any. */
  readonly read: (cookieHeader: string | undefined, clientId: string) => Effect.Effect<Option.Option<Binding>>
  /** The CSRF token of one consent form rendering. */
  readonly csrfToken: (browserId: string, requestId: string) => Effect.Effect<string>
  /** Whether a submitted CSRF token is the one of this browser and rendering. */
  readonly checkCsrf: (browserId: string, requestId: string, token: string) => Effect.Effect<boolean>
  /** A new browser id. */
  readonly newBrowserId: () => string
}

/** The prefix of the cookie names. */
export const cookiePrefix = "__Host-mcp-oauth-consent-"

/** The cookie name for a client. */
export const cookieName = (clientId: string): Effect.Effect<string> =>
  Effect.map(sha256(`client:${clientId}`), (digest) => `${cookiePrefix}${digest.slice(0, 16)}`)

/** The values of every cookie called `name` in a `Cookie` header (a browser may send several). */
export const cookieValues = (header: string | undefined, name: string): Array<string> => {
  if (header === undefined) return []
  const values: Array<string> = []
  for (const part of header.split(/;\s*/)) {
    const eq = part.indexOf("=")
    if (eq > 0 && part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim())
  }
  return values
}

interface Payload {
  readonly b: string
  readonly c: string
  readonly e: number
}

const isPayload = (u: unknown): u is Payload =>
  typeof u === "object" && u !== null &&
  typeof (u as Payload).b === "string" && typeof (u as Payload).c === "string" && typeof (u as Payload).e === "number"

/** Consent cookies signed with keys derived from `secret`. */
export const make = (secret: Uint8Array<ArrayBuffer>, lifetime: Duration.DurationInput): Effect.Effect<ConsentCookies> =>
  Effect.gen(function* () {
    const cookieKey = yield* hmacKey(secret, "consent-cookie")
    const csrfKey = yield* hmacKey(secret, "consent-csrf")
    const maxAgeSeconds = Math.max(1, Math.floor(Duration.toSeconds(lifetime)))
    const mac = (payload: string) => hmac(cookieKey, `consent-cookie.v1.${payload}`)

    const issue = (binding: Binding) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const payload = base64url(
          utf8(JSON.stringify({ b: binding.browserId, c: binding.clientId, e: now + maxAgeSeconds * 1000 }))
        )
        const value = `${payload}.${yield* mac(payload)}`
        const name = yield* cookieName(binding.clientId)
        return `${name}=${value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}`
      })

    const verifyOne = (value: string, clientId: string, now: number) =>
      Effect.gen(function* () {
        const [payload, signature, extra] = value.split(".")
        if (payload === undefined || signature === undefined || extra !== undefined) return Option.none<Binding>()
        if (!constantTimeEqual(yield* mac(payload), signature)) return Option.none<Binding>()
        const bytes = fromBase64(payload)
        if (bytes === undefined) return Option.none<Binding>()
        let parsed: unknown
        try {
          parsed = JSON.parse(new TextDecoder().decode(bytes))
        } catch {
          return Option.none<Binding>()
        }
        if (!isPayload(parsed) || parsed.c !== clientId || parsed.e <= now) return Option.none<Binding>()
        return Option.some<Binding>({ browserId: parsed.b, clientId: parsed.c })
      })

    const read = (header: string | undefined, clientId: string) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const name = yield* cookieName(clientId)
        // at most a few are looked at: a request cannot make us verify an unbounded number of signatures
        for (const value of cookieValues(header, name).slice(0, 4)) {
          const binding = yield* verifyOne(value, clientId, now)
          if (Option.isSome(binding)) return binding
        }
        return Option.none<Binding>()
      })

    const csrfToken = (browserId: string, requestId: string) => hmac(csrfKey, `${browserId}.${requestId}`)
    const checkCsrf = (browserId: string, requestId: string, token: string) =>
      Effect.map(csrfToken(browserId, requestId), (expected) => constantTimeEqual(expected, token))

    return { issue, read, csrfToken, checkCsrf, newBrowserId: () => randomToken(24) }
  })
