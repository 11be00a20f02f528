/**
 * Scope implications (a broader scope satisfies a narrower one), honoured wherever scopes are checked.
 *
 * @since 0.1.0
 */

/** Which scopes each scope implies, e.g. `{ "files:write": ["files:read"], admin: ["files:write"] }`. */
export type ScopeImplications = Readonly<Record<string, ReadonlyArray<string>>>

/** Granted scopes plus everything they imply, transitively (cycles are harmless). */
export const expand = (granted: ReadonlyArray<string>, implications: ScopeImplications = {}): Set<string> => {
  const result = new Set<string>()
  const pending = [...granted]
  while (pending.length > 0) {
    const scope = pending.pop()!
    if (result.has(scope)) continue
    result.add(scope)
    if (Object.hasOwn(implications, scope)) pending.push(...(implications[scope] ?? []))
  }
  return result
}

/** Scopes of `required` not satisfied by `granted` under the implications. */
export const missing = (
  granted: ReadonlyArray<string>,
  required: ReadonlyArray<string>,
  implications: ScopeImplications = {}
): Array<string> => {
  if (required.length === 0) return []
  const have = expand(granted, implications)
  return required.filter((scope) => !have.has(scope))
}
