/**
 * Binding MCP sessions to the subject that opened them: sessions never authenticate, and another subject's
 * token on a session is refused.
 *
 * @since 0.1.0
 */
import type { AuthInfo } from "./AuthInfo.js"

/** Session-to-subject bindings, bounded in size (the oldest binding is forgotten first). */
export interface SessionBindings {
  /**
   * Whether `auth` may use the session. The first authenticated request carrying a session id binds it (the
   * initializing client's next message, since only that client received the id); later requests must match.
   */
  readonly allows: (sessionId: string, auth: AuthInfo) => boolean
  /** Forgets a session (e.g. after DELETE). */
  readonly forget: (sessionId: string) => void
}

/** In-memory bindings for one server instance. */
export const make = (options: { readonly maxSessions?: number } = {}): SessionBindings => {
  const maxSessions = options.maxSessions ?? 10_000
  const bindings = new Map<string, string>()
  return {
    allows: (sessionId, auth) => {
      const subject = `${auth.issuer}\u0000${auth.subject}`
      const bound = bindings.get(sessionId)
      if (bound !== undefined) return bound === subject
      if (bindings.size >= maxSessions) bindings.delete(bindings.keys().next().value!)
      bindings.set(sessionId, subject)
      return true
    },
    forget: (sessionId) => {
      bindings.delete(sessionId)
    }
  }
}
