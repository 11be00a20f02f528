/**
 * `WWW-Authenticate: Bearer` challenges (RFC 6750 §3, RFC 9728 §5.1): rendering, and a strict parser for tests and tools.
 *
 * @since 0.1.0
 */

/** The attributes of one Bearer challenge. */
export interface BearerChallenge {
  readonly resourceMetadata: string
  readonly scope?: ReadonlyArray<string> | undefined
  readonly error?: "invalid_request" | "invalid_token" | "insufficient_scope" | undefined
  readonly errorDescription?: string | undefined
  readonly realm?: string | undefined
}

// RFC 6750 §3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const scopeToken = /^[\x21\x23-\x5B\x5D-\x7E]+$/
// RFC 6750 §3: error_description = *( %x20-21 / %x23-5B / %x5D-7E )
const descriptionUnsafe = /[^\x20\x21\x23-\x5B\x5D-\x7E]/g

/** Whether a string is a valid RFC 6749 scope token. */
export const isScopeToken = (s: string): boolean => scopeToken.test(s)

/** Makes free text safe for `error_description`: only allowed characters, no attribute-like text, bounded length. */
export const sanitizeDescription = (text: string): string =>
  text
    .replace(descriptionUnsafe, "")
    // clients parse challenges loosely; text such as `scope=` inside a description can be misread as an attribute
    .replace(/(scope|resource_metadata|error|realm)\s*=/gi, "$1:")
    .slice(0, 200)

/** Quoted-string for URL-like values: only printable ASCII without `"` and `\`, percent-encoding anything else. */
const quoteUrl = (value: string): string =>
  `"${value.replace(/[^\x21\x23-\x5B\x5D-\x7E]/g, (c) => encodeURIComponent(c))}"`

/** Renders one challenge; attribute values are quoted, attacker-controlled text never reaches it unsanitized. */
export const render = (challenge: BearerChallenge): string => {
  const parts: Array<string> = []
  if (challenge.realm !== undefined) parts.push(`realm="${sanitizeDescription(challenge.realm)}"`)
  parts.push(`resource_metadata=${quoteUrl(challenge.resourceMetadata)}`)
  const scopes = (challenge.scope ?? []).filter(isScopeToken)
  if (scopes.length > 0) parts.push(`scope="${scopes.join(" ")}"`)
  if (challenge.error !== undefined) {
    parts.push(`error="${challenge.error}"`)
    if (challenge.errorDescription !== undefined) {
      parts.push(`error_description="${sanitizeDescription(challenge.errorDescription)}"`)
    }
  }
  return `Bearer ${parts.join(", ")}`
}

/** A parsed challenge: its scheme and attributes in order of appearance. */
export interface ParsedChallenge {
  readonly scheme: string
  readonly params: ReadonlyMap<string, string>
}

/**
 * Strictly parses a single challenge of the form `scheme 1*SP auth-param *( OWS "," OWS auth-param )`
 * with quoted-string values (RFC 9110 §11.2); returns undefined on any deviation or a repeated attribute.
 */
export const parse = (header: string): ParsedChallenge | undefined => {
  const scheme = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+) +/.exec(header)
  if (scheme === null) return undefined
  const params = new Map<string, string>()
  let rest = header.slice(scheme[0].length)
  const param = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)="((?:[\t\x20\x21\x23-\x5B\x5D-\x7E\x80-\xFF]|\\[\t\x20-\x7E\x80-\xFF])*)"/
  for (;;) {
    const m = param.exec(rest)
    if (m === null) return undefined
    const name = m[1]!.toLowerCase()
    if (params.has(name)) return undefined
    params.set(name, m[2]!.replace(/\\(.)/g, "$1"))
    rest = rest.slice(m[0].length)
    if (rest === "") return { scheme: scheme[1]!, params }
    const sep = /^[ \t]*,[ \t]*/.exec(rest)
    if (sep === null) return undefined
    rest = rest.slice(sep[0].length)
  }
}
