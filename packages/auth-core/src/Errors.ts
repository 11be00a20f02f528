/**
 * Typed errors of the auth layer, each named after the OAuth / RFC 6750 answer it becomes.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/** Why a bearer token was refused; never derived from attacker input. */
export const InvalidTokenReason = Schema.Literal(
  "malformed",
  "too_large",
  "algorithm",
  "unknown_key",
  "signature",
  "header",
  "issuer",
  "audience",
  "expired",
  "not_yet_valid",
  "issued_in_future",
  "missing_claim",
  "claim_type",
  "subject",
  "type",
  "weak_key",
  "rejected"
)

/** A reason from {@link InvalidTokenReason}. */
export type InvalidTokenReason = typeof InvalidTokenReason.Type

const invalidTokenDescriptions: Record<InvalidTokenReason, string> = {
  malformed: "The access token is malformed",
  too_large: "The access token is too large",
  algorithm: "The access token is signed with an algorithm this server does not accept",
  unknown_key: "The access token is signed with an unknown key",
  signature: "The access token signature is invalid",
  header: "The access token has a header this server does not accept",
  issuer: "The access token was issued by an untrusted issuer",
  audience: "The access token was not issued for this resource",
  expired: "The access token expired",
  not_yet_valid: "The access token is not valid yet",
  issued_in_future: "The access token was issued in the future",
  missing_claim: "The access token lacks a required claim",
  claim_type: "The access token has a claim of the wrong type",
  subject: "The access token has no valid subject",
  type: "The access token has the wrong type",
  weak_key: "The access token is signed with a key that is too weak",
  rejected: "The access token was rejected"
}

/** Why an upstream (identity provider) call could not be completed. */
export const UpstreamFailure = Schema.Literal("unreachable", "timeout", "status", "bad_response", "too_large")

/** A reason from {@link UpstreamFailure}. */
export type UpstreamFailure = typeof UpstreamFailure.Type

/** No credentials at all, or another scheme: 401 with a challenge that carries no `error`. */
export class MissingToken extends Schema.TaggedError<MissingToken>("@mcp-oauth/auth-core/MissingToken")(
  "MissingToken",
  {}
) {
  /** Human-readable summary. */
  override get message(): string {
    return "No bearer token was presented"
  }
}

/** A malformed request (broken Bearer syntax, two Authorization headers): 400 `invalid_request`. */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>("@mcp-oauth/auth-core/InvalidRequest")(
  "InvalidRequest",
  { description: Schema.String }
) {
  /** Human-readable summary. */
  override get message(): string {
    return this.description
  }
}

/** A token that is bad, expired or meant for someone else: 401 `invalid_token`. */
export class InvalidToken extends Schema.TaggedError<InvalidToken>("@mcp-oauth/auth-core/InvalidToken")(
  "InvalidToken",
  { reason: InvalidTokenReason }
) {
  /** A fixed description for the reason, safe to send to the client. */
  get description(): string {
    return invalidTokenDescriptions[this.reason]
  }
  /** Human-readable summary. */
  override get message(): string {
    return this.description
  }
}

/** A valid token lacking scopes the operation needs: 403 `insufficient_scope`. */
export class InsufficientScope extends Schema.TaggedError<InsufficientScope>(
  "@mcp-oauth/auth-core/InsufficientScope"
)("InsufficientScope", {
  /** Every scope the operation needs (not only the missing ones), for step-up. */
  required: Schema.Array(Schema.String),
  description: Schema.optional(Schema.String)
}) {
  /** Human-readable summary. */
  override get message(): string {
    return this.description ?? "The access token lacks a scope this operation requires"
  }
}

/**
 * A valid token whose user may not perform the operation (a role, permission or rule, not a scope): 403
 * `access_denied`, without a step-up challenge since no scope would help.
 */
export class AccessDenied extends Schema.TaggedError<AccessDenied>("@mcp-oauth/auth-core/AccessDenied")(
  "AccessDenied",
  { description: Schema.String }
) {
  /** Human-readable summary. */
  override get message(): string {
    return this.description
  }
}

/** The identity provider is unreachable or misbehaving: 503 with Retry-After, never 401 or 500. */
export class UpstreamUnavailable extends Schema.TaggedError<UpstreamUnavailable>(
  "@mcp-oauth/auth-core/UpstreamUnavailable"
)("UpstreamUnavailable", {
  reason: UpstreamFailure,
  /** What was being fetched, e.g. "jwks" or "authorization server metadata". */
  target: Schema.String,
  retryAfterSeconds: Schema.Number
}) {
  /** Human-readable summary; names no URL or secret. */
  override get message(): string {
    return this.target === "store"
      ? `The state store could not be reached (${this.reason})`
      : `The identity provider could not be reached (${this.target}: ${this.reason})`
  }
}

/** Every error the bearer guard can fail with. */
export type AuthError =
  | MissingToken
  | InvalidRequest
  | InvalidToken
  | InsufficientScope
  | AccessDenied
  | UpstreamUnavailable


// ---------------------------------------------------------------------------------------------------------------------
// Errors of the OAuth proxy's endpoints (RFC 6749 §4.1.2.1 / §5.2, RFC 7591 §3.2.2, RFC 8707 §2, RFC 7009 §2.2.1).
// Each `description` is written by this library, never copied from a request or an upstream answer.

/** An unknown client, or failed client authentication at the token endpoint: 401 `invalid_client`. */
export class InvalidClient extends Schema.TaggedError<InvalidClient>("@mcp-oauth/auth-core/InvalidClient")(
  "InvalidClient",
  {
    description: Schema.String,
    /** The client tried HTTP Basic: the 401 then carries `WWW-Authenticate: Basic` (RFC 6749 §5.2). */
    basic: Schema.optionalWith(Schema.Boolean, { default: () => false })
  }
) {
  /** Human-readable summary. */
  override get message(): string {
    return this.description
  }
}

/** Unacceptable client metadata at registration: 400 `invalid_client_metadata`. */
export class InvalidClientMetadata extends Schema.TaggedError<InvalidClientMetadata>(
  "@mcp-oauth/auth-core/InvalidClientMetadata"
)("InvalidClientMetadata", { description: Schema.String }) {
  /** Human-readable summary. */
  override get message(): string {
    return this.description
  }
}

/** A redirect URI that may not be registered: 400 `invalid_redirect_uri`. */
export class InvalidRedirectUri extends Schema.TaggedError<InvalidRedirectUri>("@mcp-oauth/auth-core/InvalidRedirectUri")(
  "InvalidRedirectUri",
  { description: Schema.String }
) {
  /** Human-readable summary. */
  override get message(): string {
    return this.description
  }
}

/** A code or refresh token that is unknown, used, expired, revoked or someone else's: 400 `invalid_grant`. */
export class InvalidGrant extends Schema.TaggedError<InvalidGrant>("@mcp-oauth/auth-core/InvalidGrant")(
  "InvalidGrant",
  { description: Schema.String }
) {
  /** Human-readable summary. */
  override get message(): string {
    return this.description
  }
}

/** A `resource` other than this server (RFC 8707 §2): 400 `invalid_target`. */
export class InvalidTarget extends Schema.TaggedError<InvalidTarget>("@mcp-oauth/auth-core/InvalidTarget")(
  "InvalidTarget",
  { description: Schema.String }
) {
  /** Human-readable summary. */
  override get message(): string {
    return this.description
  }
}

/** A scope this server does not offer, or wider than granted: 400 `invalid_scope`. */
export class InvalidScope extends Schema.TaggedError<InvalidScope>("@mcp-oauth/auth-core/InvalidScope")(
  "InvalidScope",
  { description: Schema.String }
) {
  /** Human-readable summary. */
  override get message(): string {
    return this.description
  }
}

/** A grant type or response type this server or this client does not support. */
export class UnsupportedGrant extends Schema.TaggedError<UnsupportedGrant>("@mcp-oauth/auth-core/UnsupportedGrant")(
  "UnsupportedGrant",
  {
    /** Which OAuth error it becomes. */
    error: Schema.Literal("unsupported_grant_type", "unsupported_response_type", "unauthorized_client"),
    description: Schema.String
  }
) {
  /** Human-readable summary. */
  override get message(): string {
    return this.description
  }
}

/** Too many requests from one source: 429 with `Retry-After`. */
export class RateLimited extends Schema.TaggedError<RateLimited>("@mcp-oauth/auth-core/RateLimited")("RateLimited", {
  /** What was limited, e.g. "registration". */
  target: Schema.String,
  retryAfterSeconds: Schema.Number
}) {
  /** Human-readable summary. */
  override get message(): string {
    return `Too many ${this.target} requests; try again later`
  }
}

/** Every error an OAuth proxy endpoint can fail with. */
export type OAuthEndpointError =
  | InvalidRequest
  | AccessDenied
  | UpstreamUnavailable
  | InvalidClient
  | InvalidClientMetadata
  | InvalidRedirectUri
  | InvalidGrant
  | InvalidTarget
  | InvalidScope
  | UnsupportedGrant
  | RateLimited
