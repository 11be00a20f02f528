/** What the proxy keeps in the Store, as schemas: JSON values under keys that never contain a secret in clear. */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

const Strings = Schema.Array(Schema.String)

/** A registered client. */
export const ClientRecord = Schema.Struct({
  client_id: Schema.String,
  /** SHA-256 of the client secret, for confidential clients. */
  secret_hash: Schema.optional(Schema.String),
  token_endpoint_auth_method: Schema.Literal("none", "client_secret_basic", "client_secret_post"),
  redirect_uris: Strings,
  grant_types: Strings,
  response_types: Strings,
  client_name: Schema.optional(Schema.String),
  scope: Schema.optional(Schema.String),
  client_id_issued_at: Schema.Number,
  /** Set once a token was issued: the registration then lives for the long TTL. */
  used: Schema.optional(Schema.Boolean)
})
export type ClientRecord = typeof ClientRecord.Type

/** What an authorization request asked for, once validated. */
export const AuthorizationRequest = Schema.Struct({
  client_id: Schema.String,
  redirect_uri: Schema.String,
  /** Whether the request named the redirect URI (then the token request must name it too). */
  redirect_uri_sent: Schema.Boolean,
  state: Schema.optional(Schema.String),
  code_challenge: Schema.String,
  scope: Strings,
  resource: Schema.String,
  login_hint: Schema.optional(Schema.String)
})
export type AuthorizationRequest = typeof AuthorizationRequest.Type

/** An authorization request waiting for the user's decision on the consent page. */
export const PendingConsent = Schema.Struct({
  request: AuthorizationRequest,
  /** The browser that was shown the consent page. */
  browser_id: Schema.String
})
export type PendingConsent = typeof PendingConsent.Type

/** An approved request while the browser is at the upstream. */
export const UpstreamState = Schema.Struct({
  request: AuthorizationRequest,
  browser_id: Schema.String,
  /** The proxy's own PKCE verifier for the upstream, sealed. */
  verifier: Schema.String,
  nonce: Schema.optional(Schema.String),
  /** The user asked to remember this approval: the callback sets the approval cookie. */
  remember: Schema.optional(Schema.Boolean),
  /** The flow skipped the consent page on an approval given by this upstream subject; anyone else sees the page. */
  remembered_subject: Schema.optional(Schema.String)
})
export type UpstreamState = typeof UpstreamState.Type

/** A proxy authorization code, until redeemed. */
export const CodeRecord = Schema.Struct({
  grant_id: Schema.String,
  client_id: Schema.String,
  redirect_uri: Schema.String,
  redirect_uri_sent: Schema.Boolean,
  code_challenge: Schema.String,
  resource: Schema.String
})
export type CodeRecord = typeof CodeRecord.Type

/** A grant: one user's authorization of one client; access and refresh tokens die with it. */
export const GrantRecord = Schema.Struct({
  grant_id: Schema.String,
  client_id: Schema.String,
  subject: Schema.String,
  scope: Strings,
  resource: Schema.String,
  claims: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  /** The upstream tokens, sealed. */
  upstream: Schema.String,
  created_at: Schema.Number,
  /** When the grant ends, whatever refreshes happen (ms since the epoch). */
  expires_at: Schema.Number
})
export type GrantRecord = typeof GrantRecord.Type

/** One refresh token of a grant's family. */
export const RefreshRecord = Schema.Struct({
  grant_id: Schema.String,
  client_id: Schema.String,
  status: Schema.Literal("active", "rotated")
})
export type RefreshRecord = typeof RefreshRecord.Type

/** Encodes a record as the Store's string value. */
export const encode = <A, I>(schema: Schema.Schema<A, I>) => {
  const json = Schema.parseJson(schema)
  return (value: A): Effect.Effect<string> => Effect.orDie(Schema.encode(json)(value))
}

/** Decodes a Store value; a value that does not decode is treated as absent (and logged). */
export const decode = <A, I>(schema: Schema.Schema<A, I>, what: string) => {
  const json = Schema.decodeUnknown(Schema.parseJson(schema))
  return (value: Option.Option<string>): Effect.Effect<Option.Option<A>> =>
    Option.match(value, {
      onNone: () => Effect.succeed(Option.none<A>()),
      onSome: (text) =>
        json(text).pipe(
          Effect.map(Option.some),
          Effect.catchAll(() =>
            Effect.as(Effect.logWarning("unreadable proxy record ignored").pipe(Effect.annotateLogs({ record: what })), Option.none<A>())
          )
        )
    })
}
