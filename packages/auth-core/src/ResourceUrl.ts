/**
 * The canonical resource URI of an MCP server (RFC 8707 §2) and well-known URL construction (RFC 9728 §3, RFC 8414 §3).
 *
 * @since 0.1.0
 */

/** Why a URL cannot be a resource identifier. */
export type ResourceUrlProblem = "not_a_url" | "scheme" | "fragment" | "userinfo" | "insecure"

const isLoopbackHost = (hostname: string): boolean =>
  hostname === "localhost" || hostname === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(hostname)

/** Whether a URL's host is loopback (http is acceptable there, RFC 8252 §7.3). */
export const isLoopback = (url: URL): boolean => isLoopbackHost(url.hostname)

/**
 * Canonical form of a resource URL (RFC 3986 §6.2.2 syntax-based normalization): lowercase scheme and host,
 * default port dropped, no fragment, and no trailing slash for the root path. The path is kept exactly: `/mcp/` and
 * `/mcp` are different resources. Returns the problem instead when the input cannot be a resource identifier.
 */
export const canonicalize = (input: string): { readonly url: string } | { readonly problem: ResourceUrlProblem } => {
  let url: URL
  try {
    url = new URL(input)
  } catch {
    return { problem: "not_a_url" }
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return { problem: "scheme" }
  if (url.hash !== "" || input.includes("#")) return { problem: "fragment" }
  if (url.username !== "" || url.password !== "") return { problem: "userinfo" }
  if (url.protocol === "http:" && !isLoopback(url)) return { problem: "insecure" }
  const path = url.pathname === "/" ? "" : url.pathname
  return { url: `${url.protocol}//${url.host}${path}${url.search}` }
}

/**
 * Whether a token's `aud` value names this resource. RFC 7519 §2 compares StringOrURI values as case-sensitive
 * strings with no canonicalization, so the audience must equal the configured value or its canonical form exactly:
 * a trailing slash, an upper-case host or any prefix is another audience. Non-URL audiences (`api://default`)
 * compare as plain strings.
 */
export const sameResource = (audience: string, expected: string): boolean => {
  if (audience === expected) return true
  const canonical = canonicalize(expected)
  return "url" in canonical && audience === canonical.url
}

/** Inserts a well-known suffix between host and path (RFC 9728 §3.1, RFC 8414 §3.1): `https://h/.well-known/x/path`. */
export const wellKnownUrl = (base: string, suffix: string): string => {
  const url = new URL(base)
  const path = url.pathname === "/" ? "" : url.pathname.replace(/\/$/, "")
  return `${url.origin}/.well-known/${suffix}${path}`
}

/** The URL of the protected resource metadata for a resource, as put in `resource_metadata` challenges. */
export const protectedResourceMetadataUrl = (resource: string): string =>
  wellKnownUrl(resource, "oauth-protected-resource")
