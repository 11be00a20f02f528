/** Strict decoding of a JWS compact serialization's header and payload, before any signature check. */

const segment = /^[A-Za-z0-9_-]+$/

const decodeJsonObject = (part: string): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"))
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

/** Header and payload objects of a three-part compact JWS, or undefined for anything else (JWE, JSON serialization, junk). */
export const decodeCompact = (
  token: string
): { readonly header: Record<string, unknown>; readonly payload: Record<string, unknown> } | undefined => {
  const parts = token.split(".")
  if (parts.length !== 3) return undefined
  const [h, p, s] = parts as [string, string, string]
  // an empty signature is how `alg: none` tokens look; every segment must be non-empty base64url
  if (!segment.test(h) || !segment.test(p) || !segment.test(s)) return undefined
  const header = decodeJsonObject(h)
  const payload = header === undefined ? undefined : decodeJsonObject(p)
  return header === undefined || payload === undefined ? undefined : { header, payload }
}
