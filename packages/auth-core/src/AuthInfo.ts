/**
 * The authenticated principal, and its conversion to the MCP SDK's `AuthInfo`.
 *
 * @since 0.1.0
 */
import * as Redacted from "effect/Redacted"

/** The user behind a token, as tools see it. */
export interface User {
  readonly userId: string
  readonly email?: string | undefined
  readonly name?: string | undefined
  readonly roles: ReadonlyArray<string>
  readonly permissions: ReadonlyArray<string>
}

/** A verified bearer token's principal. */
export interface AuthInfo {
  readonly token: Redacted.Redacted<string>
  readonly subject: string
  readonly issuer: string
  readonly audience: ReadonlyArray<string>
  readonly clientId?: string | undefined
  readonly scopes: ReadonlyArray<string>
  /** Expiry in seconds since the epoch. */
  readonly expiresAt?: number | undefined
  readonly claims: Readonly<Record<string, unknown>>
  readonly user: User
}

/** The shape of the official MCP SDK's `AuthInfo` (v1 `req.auth` / `extra.authInfo`, v2 `ctx.http.authInfo`). */
export interface SdkAuthInfo {
  token: string
  clientId: string
  scopes: Array<string>
  expiresAt?: number
  resource?: URL
  extra?: Record<string, unknown>
}

/** Key under `SdkAuthInfo.extra` that carries this library's {@link AuthInfo} (token still redacted). */
export const extraKey = "mcpOAuth"

/** Converts to the SDK's `AuthInfo`; the SDK needs the raw token, so it is unwrapped only here. */
export const toSdkAuthInfo = (info: AuthInfo, resource: string): SdkAuthInfo => {
  const sdk: SdkAuthInfo = {
    token: Redacted.value(info.token),
    clientId: info.clientId ?? "",
    scopes: [...info.scopes],
    resource: new URL(resource),
    extra: {
      [extraKey]: info,
      user: info.user,
      subject: info.subject,
      issuer: info.issuer,
      claims: info.claims
    }
  }
  if (info.expiresAt !== undefined) sdk.expiresAt = info.expiresAt
  return sdk
}

/** Reads this library's {@link AuthInfo} back from an SDK `AuthInfo`, if it was made by {@link toSdkAuthInfo}. */
export const fromSdkAuthInfo = (sdk: { readonly extra?: Record<string, unknown> | undefined } | undefined): AuthInfo | undefined => {
  const value = sdk?.extra?.[extraKey]
  return typeof value === "object" && value !== null && "subject" in value ? (value as AuthInfo) : undefined
}
