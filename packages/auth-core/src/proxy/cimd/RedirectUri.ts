/**
 * Which redirect URIs a client may register (Client ID Metadata Document or dynamic registration): https, or http on
 * a loopback host for native apps (RFC 8252 §7.3); never a fragment, credentials, wildcards, or a scheme a browser
 * would run or read locally (`javascript:`, `data:`, `file:`, …). Authorization requests then compare the
 * registered string exactly.
 *
 * @since 0.1.0
 */
import { isLoopback } from "../../ResourceUrl.js"

/** Why a redirect URI is refused. */
export type RedirectUriProblem =
  | "not_a_url"
  | "too_long"
  | "characters"
  | "scheme"
  | "insecure"
  | "userinfo"
  | "fragment"
  | "wildcard"

/** Fixed descriptions of the problems, safe to show to a client (they quote nothing it sent). */
export const descriptions: Readonly<Record<RedirectUriProblem, string>> = {
  not_a_url: "is not an absolute URL",
  too_long: "is too long",
  characters: "contains characters that are not allowed in a URI",
  scheme: "must use https (or http on a loopback host)",
  insecure: "may use http only on a loopback host (127.0.0.1, [::1] or localhost)",
  userinfo: "must not contain a user name or password",
  fragment: "must not contain a fragment",
  wildcard: "must not contain wildcards"
}

/** Longest accepted redirect URI (default of {@link check}). */
export const defaultMaxLength = 2000

// printable ASCII without space, `"`, `<`, `>`, `\`, `^`, backtick, `{`, `|`, `}`: what RFC 3986 allows unencoded.
// A backslash is refused because WHATWG parsers read it as `/` in http(s) URLs, which changes where the host ends.
const uriCharacters = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/

/**
 * The problem with a redirect URI, or `undefined` when it may be registered. Checks the raw string as well as the
 * parsed URL, since the WHATWG parser silently drops tabs and newlines and rewrites backslashes.
 */
export const check = (uri: string, options: { readonly maxLength?: number | undefined } = {}): RedirectUriProblem | undefined => {
  if (uri.length > (options.maxLength ?? defaultMaxLength)) return "too_long"
  if (!uriCharacters.test(uri)) return "characters"
  if (uri.includes("#")) return "fragment"
  if (uri.includes("*")) return "wildcard"
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri)?.[1]?.toLowerCase()
  if (scheme === undefined) return "not_a_url"
  if (scheme !== "https" && scheme !== "http") return "scheme"
  // WHATWG accepts `https:host/path` and `https:/host`; a registered URI must spell its authority out
  if (!uri.slice(scheme.length + 1).startsWith("//")) return "not_a_url"
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    return "not_a_url"
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "scheme"
  // a raw check too: `https://good@evil/` and `https://a:b@evil/` put the real host after the `@`
  const authority = uri.slice(scheme.length + 3).split(/[/?]/, 1)[0] ?? ""
  if (url.username !== "" || url.password !== "" || authority.includes("@")) return "userinfo"
  if (url.hostname === "") return "not_a_url"
  if (url.protocol === "http:" && !isLoopback(url)) return "insecure"
  return undefined
}

/** Whether a (valid) redirect URI is a loopback one, where RFC 8252 §7.3 lets the port vary at authorization time. */
export const isLoopbackRedirect = (uri: string): boolean => {
  try {
    const url = new URL(uri)
    return url.protocol === "http:" && isLoopback(url)
  } catch {
    return false
  }
}
