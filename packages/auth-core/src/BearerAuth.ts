/**
 * The bearer guard: RFC 6750 header parsing, token verification, required scopes, and the exact challenge.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type { AuthInfo } from "./AuthInfo.js"
import { type AuthError, InsufficientScope, InvalidRequest, MissingToken } from "./Errors.js"
import * as HttpAnswer from "./HttpAnswer.js"
import * as ProtectedResource from "./ProtectedResource.js"
import * as ScopeHierarchy from "./ScopeHierarchy.js"
import type { Provider } from "./Provider.js"
import { ResourceServer } from "./ResourceServer.js"
import { TokenVerifier } from "./TokenVerifier.js"

/** What one request needs beyond a valid token. */
export interface Requirements {
  /** Scopes the token must carry (all of them). */
  readonly scopes?: ReadonlyArray<string> | undefined
}

/** The guard. */
export interface Service {
  /**
   * Authenticates a request from every `Authorization` header value it carried (more than one is a malformed request).
   * Tokens are only ever read from this header, never from the query string or body.
   */
  readonly authenticate: (
    authorization: ReadonlyArray<string>,
    requirements?: Requirements
  ) => Effect.Effect<AuthInfo, AuthError>
  /** The answer for a guard error, with this server's challenge. */
  readonly answer: (error: AuthError, requirements?: Requirements) => HttpAnswer.HttpAnswer
}

/** The bearer guard service. */
export class BearerAuth extends Context.Tag("@mcp-oauth/auth-core/BearerAuth")<BearerAuth, Service>() {}

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const b64token = /^[A-Za-z0-9\-._~+/]+=*$/
const bearerScheme = /^bearer(?:$|[ \t])/i

// fixed refusals, made once: a client's first request carries no token, and junk headers arrive in bulk
const missing = Effect.fail(new MissingToken())
const repeated = Effect.fail(new InvalidRequest({ description: "Only one Authorization header is allowed" }))
const malformed = Effect.fail(new InvalidRequest({ description: "The Authorization header is not a valid Bearer credential" }))

/** Parses `Authorization` header values into a bearer token (RFC 6750 §2.1). */
export const parseAuthorization = (
  values: ReadonlyArray<string>
): Effect.Effect<Redacted.Redacted<string>, MissingToken | InvalidRequest> => {
  if (values.length === 0) return missing
  if (values.length > 1) return repeated
  const value = values[0]!.trim()
  if (!bearerScheme.test(value)) return missing
  const credentials = value.slice("bearer".length)
  const token = credentials.replace(/^ +/, "")
  if (token === "" || credentials === token || !b64token.test(token)) return malformed
  return Effect.succeed(Redacted.make(token))
}

/** Builds the guard from the verifier and the resource configuration in context. */
export const make: Effect.Effect<Service, never, TokenVerifier | ResourceServer | Provider> = Effect.gen(function* () {
  const verifier = yield* TokenVerifier
  const server = yield* ResourceServer
  const advertised = yield* ProtectedResource.scopesSupported

  const neededScopes = (requirements?: Requirements): Array<string> => [
    ...new Set([...server.requiredScopes, ...(requirements?.scopes ?? [])])
  ]

  const authenticate = Effect.fnUntraced(function* (
    authorization: ReadonlyArray<string>,
    requirements?: Requirements
  ) {
    const token = yield* parseAuthorization(authorization)
    const info = yield* verifier.verify(token)
    const required = neededScopes(requirements)
    if (ScopeHierarchy.missing(info.scopes, required, server.scopeImplications).length > 0) {
      return yield* new InsufficientScope({ required })
    }
    return info
  })

  const answer = (error: AuthError, requirements?: Requirements) => {
    const scope = neededScopes(requirements)
    return HttpAnswer.fromAuthError(error, {
      resourceMetadataUrl: server.metadataUrl,
      scope: scope.length > 0 ? scope : advertised
    })
  }

  return { authenticate, answer }
})

/** A layer of the guard over the verifier and resource configuration in context. */
export const layer: Layer.Layer<BearerAuth, never, TokenVerifier | ResourceServer | Provider> = Layer.effect(
  BearerAuth,
  make
)
