/**
 * Where a provider's tokens keep the user's identity, roles, permissions and scopes.
 *
 * @since 0.1.0
 */
import type { User } from "./AuthInfo.js"

/**
 * A claim location: a claim name (tried literally first, so namespaced names such as
 * `https://example.com/roles` work) or a dotted path into nested objects such as `realm_access.roles`.
 */
export type ClaimPath = string

/** Claim locations for each user field; arrays of paths are merged (roles from several places). */
export interface ClaimMapping {
  readonly userId?: ClaimPath | undefined
  readonly email?: ClaimPath | undefined
  readonly name?: ClaimPath | undefined
  readonly roles?: ReadonlyArray<ClaimPath> | undefined
  readonly permissions?: ReadonlyArray<ClaimPath> | undefined
}

/** Defaults that fit most OIDC providers. */
export const defaults: {
  readonly userId: ClaimPath
  readonly email: ClaimPath
  readonly name: ClaimPath
  readonly roles: ReadonlyArray<ClaimPath>
  readonly permissions: ReadonlyArray<ClaimPath>
} = {
  userId: "sub",
  email: "email",
  name: "name",
  roles: ["roles"],
  permissions: ["permissions"]
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** Reads a claim by name or dotted path, never walking inherited properties such as `__proto__`. */
export const read = (claims: Readonly<Record<string, unknown>>, path: ClaimPath): unknown => {
  if (Object.hasOwn(claims, path)) return claims[path]
  let current: unknown = claims
  for (const segment of path.split(".")) {
    if (!isRecord(current) || !Object.hasOwn(current, segment)) return undefined
    current = current[segment]
  }
  return current
}

const optionalString = (u: unknown): string | undefined => (typeof u === "string" && u !== "" ? u : undefined)

/** Strings from a claim that is a string array or a space-delimited string. */
export const stringList = (u: unknown): Array<string> => {
  if (typeof u === "string") return u.split(" ").filter((s) => s !== "")
  if (Array.isArray(u)) return u.filter((s): s is string => typeof s === "string" && s !== "")
  return []
}

const collect = (claims: Readonly<Record<string, unknown>>, paths: ReadonlyArray<ClaimPath>): Array<string> => [
  ...new Set(paths.flatMap((path) => stringList(read(claims, path))))
]

/** Scopes from `scope` (space-delimited string) and `scp` (string or array), merged. */
export const scopes = (claims: Readonly<Record<string, unknown>>): Array<string> => {
  const fromScope = typeof claims["scope"] === "string" ? stringList(claims["scope"]) : []
  return [...new Set([...fromScope, ...stringList(claims["scp"])])]
}

/** Builds the {@link User} of a token; `userId` falls back to `sub`. */
export const toUser = (claims: Readonly<Record<string, unknown>>, mapping: ClaimMapping = {}): User => {
  return {
    userId: optionalString(read(claims, mapping.userId ?? defaults.userId)) ?? String(claims["sub"]),
    email: optionalString(read(claims, mapping.email ?? defaults.email)),
    name: optionalString(read(claims, mapping.name ?? defaults.name)),
    roles: collect(claims, mapping.roles ?? defaults.roles),
    permissions: collect(claims, mapping.permissions ?? defaults.permissions)
  }
}
