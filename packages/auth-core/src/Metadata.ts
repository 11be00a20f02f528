/**
 * Schemas of the OAuth documents this library serves, mirrors or reads.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

const Strings = Schema.Array(Schema.String)

/** RFC 9728 §2 protected resource metadata. */
export const ProtectedResourceMetadata = Schema.Struct({
  resource: Schema.String,
  authorization_servers: Strings,
  scopes_supported: Schema.optional(Strings),
  bearer_methods_supported: Schema.optional(Strings),
  resource_name: Schema.optional(Schema.String),
  resource_documentation: Schema.optional(Schema.String),
  resource_signing_alg_values_supported: Schema.optional(Strings)
})

/** A decoded {@link ProtectedResourceMetadata}. */
export type ProtectedResourceMetadata = typeof ProtectedResourceMetadata.Type

/** RFC 8414 §2 authorization server metadata; unknown members are kept because these documents are mirrored. */
export const AuthorizationServerMetadata = Schema.Struct(
  {
    issuer: Schema.String,
    authorization_endpoint: Schema.optional(Schema.String),
    token_endpoint: Schema.optional(Schema.String),
    registration_endpoint: Schema.optional(Schema.String),
    revocation_endpoint: Schema.optional(Schema.String),
    introspection_endpoint: Schema.optional(Schema.String),
    jwks_uri: Schema.optional(Schema.String),
    scopes_supported: Schema.optional(Strings),
    response_types_supported: Schema.optional(Strings),
    grant_types_supported: Schema.optional(Strings),
    code_challenge_methods_supported: Schema.optional(Strings),
    token_endpoint_auth_methods_supported: Schema.optional(Strings),
    client_id_metadata_document_supported: Schema.optional(Schema.Boolean),
    authorization_response_iss_parameter_supported: Schema.optional(Schema.Boolean)
  },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)

/** A decoded {@link AuthorizationServerMetadata}. */
export type AuthorizationServerMetadata = typeof AuthorizationServerMetadata.Type

/** RFC 6749 §5.2 / RFC 6750 §3.1 error body. */
export const OAuthErrorBody = Schema.Struct({
  error: Schema.String,
  error_description: Schema.optional(Schema.String),
  error_uri: Schema.optional(Schema.String)
})

/** A decoded {@link OAuthErrorBody}. */
export type OAuthErrorBody = typeof OAuthErrorBody.Type

/** RFC 9068 §2.2 JWT access-token claims as this library reads them; other claims are kept. */
export const AccessTokenClaims = Schema.Struct(
  {
    iss: Schema.String,
    sub: Schema.NonEmptyString,
    aud: Schema.Union(Schema.String, Strings),
    exp: Schema.Number,
    iat: Schema.optional(Schema.Number),
    nbf: Schema.optional(Schema.Number),
    jti: Schema.optional(Schema.String),
    client_id: Schema.optional(Schema.String),
    scope: Schema.optional(Schema.String),
    scp: Schema.optional(Schema.Union(Schema.String, Strings))
  },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)

/** A decoded {@link AccessTokenClaims}. */
export type AccessTokenClaims = typeof AccessTokenClaims.Type
