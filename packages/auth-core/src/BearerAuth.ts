/**
 * The bearer guard: RFC 6750 header parsing, token verification, required scopes, and the exact challenge.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
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
  /**
   * `authenticate`'s verdict when it can be reached at once: a refused header, or a token the verifier judges without
   * waiting (`TokenVerifier.immediate`). Undefined when only `authenticate` can tell. No fiber, no span.
   */
  readonly immediate: (
    authorization: ReadonlyArray<string>,
    requirements: Requirements | undefined,
    now: number
  ) => Exit.Exit<AuthInfo, AuthError> | undefined
  /** The answer for a guard error, with this server's challenge. */
  readonly answer: (error: AuthError, requirements?: Requirements) => HttpAnswer.HttpAnswer
}

/** The bearer guard service. */
export class BearerAuth extends Context.Tag("@mcp-oauth/auth-core/BearerAuth")<BearerAuth, Service>() {}

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const b64token = /^[A-Za-z0-9\-._~+/]+=*$/
const bearerScheme = /^bearer(?:$|[ \t])/i

// fixed refusals, made once: a client's first request carries no token, and junk headers arrive in bulk
const missing = new MissingToken()
const repeated = new InvalidRequest({ description: "Only one Authorization header is allowed" })
const malformed = new InvalidRequest({ description: "The Authorization header is not a valid Bearer credential" })

/** The bearer token of `Authorization` header values (RFC 6750 §2.1), or why there is none. */
export const readBearer = (values: ReadonlyArray<string>): Redacted.Redacted<string> | MissingToken | InvalidRequest => {
  if (values.length === 0) return missing
  if (values.length > 1) return repeated
  const value = values[0]!.trim()
  if (!bearerScheme.test(value)) return missing
  const credentials = value.slice("bearer".length)
  const token = credentials.replace(/^ +/, "")
  if (token === "" || credentials === token || !b64token.test(token)) return malformed
  return Redacted.make(token)
}

/** Parses `Authorization` header values into a bearer token (RFC 6750 §2.1). */
export const parseAuthorization = (
  values: ReadonlyArray<string>
): Effect.Effect<Redacted.Redacted<string>, MissingToken | InvalidRequest> => {
  const read = readBearer(values)
  return Redacted.isRedacted(read) ? Effect.succeed(read) : Effect.fail(read)
}

/** Builds the guard from the verifier and the resource configuration in context. */
export const make: Effect.Effect<Service, never, TokenVerifier | ResourceServer | Provider> = Effect.gen(function* () {
  const verifier = yield* TokenVerifier
  const server = yield* ResourceServer
  const advertised = yield* ProtectedResource.scopesSupported

  // the server's own scopes, made once: most requests add none, and this runs on every verification
  const serverScopes: ReadonlyArray<string> = [...new Set(server.requiredScopes)]
  const neededScopes = (requirements?: Requirements): ReadonlyArray<string> => {
    const extra = requirements?.scopes ?? []
    return extra.length === 0 ? serverScopes : [...new Set([...serverScopes, ...extra])]
  }

  // the scopes a valid token still lacks, as the refusal; undefined when it holds them all
  const scopeRefusal = (info: AuthInfo, requirements?: Requirements): InsufficientScope | undefined => {
    const required = neededScopes(requirements)
    return ScopeHierarchy.missing(info.scopes, required, server.scopeImplications).length > 0
      ? new InsufficientScope({ required })
      : undefined
  }

  const authenticate = Effect.fnUntraced(function* (
    authorization: ReadonlyArray<string>,
    requirements?: Requirements
  ) {
    const token = yield* parseAuthorization(authorization)
    const info = yield* verifier.verify(token)
    const refusal = scopeRefusal(info, requirements)
    if (refusal !== undefined) return yield* refusal
    return info
  })

  const judge = verifier.immediate
  const immediate = (
    authorization: ReadonlyArray<string>,
    requirements: Requirements | undefined,
    now: number
  ): Exit.Exit<AuthInfo, AuthError> | undefined => {
    const token = readBearer(authorization)
    if (!Redacted.isRedacted(token)) return Exit.fail(token)
    const verdict = judge?.(token, now)
    if (verdict === undefined || Exit.isFailure(verdict)) return verdict
    const refusal = scopeRefusal(verdict.value, requirements)
    return refusal === undefined ? verdict : Exit.fail(refusal)
  }

  const answer = (error: AuthError, requirements?: Requirements) => {
    const scope = neededScopes(requirements)
    return HttpAnswer.fromAuthError(error, {
      resourceMetadataUrl: server.metadataUrl,
      scope: scope.length > 0 ? scope : advertised
    })
  }

  return { authenticate, immediate, answer }
})

/** A layer of the guard over the verifier and resource configuration in context. */
export const layer: Layer.Layer<BearerAuth, never, TokenVerifier | ResourceServer | Provider> = Layer.effect(
  BearerAuth,
  make
)
