/**
 * The typed auth context tool, resource and prompt callbacks read from the MCP SDK's handler argument,
 * and a wrapper that refuses a call before the callback runs.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Redacted from "effect/Redacted"
import { type AuthInfo, fromSdkAuthInfo, type User } from "./AuthInfo.js"
import * as Authorization from "./Authorization.js"
import * as ScopeHierarchy from "./ScopeHierarchy.js"

/** What a callback knows about its caller. */
export interface AuthContext {
  readonly user: User
  readonly subject: string
  readonly issuer: string
  readonly clientId: string | undefined
  readonly scopes: ReadonlyArray<string>
  readonly roles: ReadonlyArray<string>
  readonly permissions: ReadonlyArray<string>
  /** Expiry in seconds since the epoch. */
  readonly expiresAt: number | undefined
  readonly claims: Readonly<Record<string, unknown>>
  /** The bearer token, for calling APIs that accept it on the user's behalf (never log it). */
  readonly token: Redacted.Redacted<string>
  /** Whether the caller holds a scope, directly or through an implication. */
  readonly hasScope: (scope: string) => boolean
}

type Sdk = { readonly authInfo?: { readonly extra?: Record<string, unknown> | undefined } | undefined }

/** The SDK's AuthInfo from a handler argument: v1 `extra.authInfo`, v2 `ctx.http.authInfo`. */
const sdkAuthInfoOf = (handlerArgument: unknown) => {
  if (typeof handlerArgument !== "object" || handlerArgument === null) return undefined
  const v1 = (handlerArgument as Sdk).authInfo
  const v2 = (handlerArgument as { readonly http?: Sdk | undefined }).http?.authInfo
  return v1 ?? v2
}

/** Builds the context from an {@link AuthInfo}. */
export const fromAuthInfo = (info: AuthInfo, implications: ScopeHierarchy.ScopeImplications = {}): AuthContext => {
  const granted = ScopeHierarchy.expand(info.scopes, implications)
  return {
    user: info.user,
    subject: info.subject,
    issuer: info.issuer,
    clientId: info.clientId,
    scopes: info.scopes,
    roles: info.user.roles,
    permissions: info.user.permissions,
    expiresAt: info.expiresAt,
    claims: info.claims,
    token: info.token,
    hasScope: (scope) => granted.has(scope)
  }
}

/** The auth context of a handler argument (v1 `extra`, v2 `ctx`), or undefined when the request was not authenticated. */
export const of = (handlerArgument: unknown, implications?: ScopeHierarchy.ScopeImplications): AuthContext | undefined => {
  const info = fromSdkAuthInfo(sdkAuthInfoOf(handlerArgument))
  return info === undefined ? undefined : fromAuthInfo(info, implications)
}

/** Thrown into the SDK when a call is refused; the SDK turns it into an error result for the client. */
export class CallRefused extends Error {
  override readonly name = "CallRefused"
}

/**
 * Wraps an SDK callback (any arity; its last argument is the SDK's `extra` / `ctx`) so that it runs only for a
 * caller meeting `requirement`; otherwise it throws {@link CallRefused} before the callback starts.
 */
export const guarded =
  <Args extends Array<unknown>, R>(
    requirement: Authorization.Requirement,
    handler: (...args: Args) => R | Promise<R>,
    implications?: ScopeHierarchy.ScopeImplications
  ) =>
  async (...args: Args): Promise<R> => {
    const info = fromSdkAuthInfo(sdkAuthInfoOf(args[args.length - 1]))
    if (info === undefined) throw new CallRefused("Unauthenticated")
    const verdict = await Effect.runPromise(Effect.either(Authorization.check(requirement, info, implications)))
    if (Either.isLeft(verdict)) {
      const error = verdict.left
      throw new CallRefused(
        error._tag === "InsufficientScope" ? `Forbidden: requires the scopes ${error.required.join(" ")}` : `Forbidden: ${error.description}`
      )
    }
    return handler(...args)
  }
