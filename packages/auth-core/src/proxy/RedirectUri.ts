/**
 * Redirect URIs of the OAuth proxy's clients: what may be registered (https, or http on a loopback host; no
 * credentials, fragments, wildcards or script schemes — the rules of `cimd/RedirectUri`, shared with Client ID
 * Metadata Documents), and how an authorization request's `redirect_uri` is matched against them: exact string
 * comparison, with only the port free for loopback URIs (RFC 8252 §7.3, OAuth 2.1 §2.3.1).
 *
 * @since 0.1.0
 */
import * as Cimd from "./cimd/RedirectUri.js"

/** Why a redirect URI may not be registered. */
export type Problem = Cimd.RedirectUriProblem | "not_canonical"

/** Fixed descriptions of the problems, safe to show to a client (they quote nothing it sent). */
export const descriptions: Readonly<Record<Problem, string>> = {
  ...Cimd.descriptions,
  not_canonical: "must be written in canonical form (lower-case scheme and host, no default port, no dot segments)"
}

/**
 * The problem with a redirect URI offered at registration, or undefined when it may be registered. Beyond the shared
 * rules, the URI must be written as a URL parser writes it back (apart from an omitted root `/`): percent-encoding
 * tricks, dot segments, upper-case hosts, IDN and default ports then cannot make two spellings of one URI, or one
 * spelling that two parsers read differently.
 */
export const check = (uri: string): Problem | undefined => {
  const problem = Cimd.check(uri)
  if (problem !== undefined) return problem
  const href = new URL(uri).href
  return href === uri || href === `${uri}/` ? undefined : "not_canonical"
}

/** Splits an http(s) URI into scheme, host (without port), port and the rest, on the raw string. */
const split = (uri: string) => {
  const m = /^(https?):\/\/(\[[0-9A-Fa-f:.]+\]|[^/?:#@[\]]+)(?::(\d{1,5}))?([/?].*)?$/.exec(uri)
  return m === null ? undefined : { scheme: m[1]!, host: m[2]!, port: m[3], rest: m[4] ?? "" }
}

/**
 * The registered redirect URI that `presented` designates, or undefined. The comparison is on exact strings; for a
 * registered loopback URI (`http://127.0.0.1/cb`, `http://[::1]/cb`, `http://localhost/cb`) the port alone may
 * differ, since native apps pick a free port at run time. A non-loopback URI with another port does not match.
 */
export const match = (registered: ReadonlyArray<string>, presented: string): string | undefined => {
  const exact = registered.find((uri) => uri === presented)
  if (exact !== undefined) return exact
  if (Cimd.check(presented) !== undefined) return undefined
  const offered = split(presented)
  if (offered === undefined || offered.scheme !== "http") return undefined
  return registered.find((uri) => {
    if (!Cimd.isLoopbackRedirect(uri)) return false
    const known = split(uri)
    return known !== undefined && known.scheme === "http" && known.host === offered.host && known.rest === offered.rest
  })
}

/** The host of a redirect URI as shown on the consent page. */
export const displayHost = (uri: string): string => {
  try {
    return new URL(uri).host
  } catch {
    return uri
  }
}
