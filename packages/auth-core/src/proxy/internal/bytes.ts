/** Randomness, hashing and encodings of the OAuth proxy, on WebCrypto (no node-only API, so edge runtimes work too). */
import * as Effect from "effect/Effect"

const encoder = new TextEncoder()

/** UTF-8 bytes of a string. */
export const utf8 = (text: string): Uint8Array<ArrayBuffer> => encoder.encode(text)

/** base64url without padding (RFC 4648 §5). */
export const base64url = (bytes: Uint8Array): string => {
  let binary = ""
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")
}

/** Decodes base64url (or standard base64, padded or not); undefined when the text is not base64. */
export const fromBase64 = (text: string): Uint8Array<ArrayBuffer> | undefined => {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) return undefined
  try {
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, ""))
    const bytes = new Uint8Array(binary.length)
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
    return bytes
  } catch {
    return undefined
  }
}

/**
 * A random token of `bytes` bytes from the platform's CSPRNG, base64url-encoded: every byte is used as is, so no
 * modulo bias can creep in (a peer advisory was about biased random strings).
 */
export const randomToken = (bytes = 32): string => base64url(crypto.getRandomValues(new Uint8Array(bytes)))

/** SHA-256 of a string, base64url-encoded. */
export const sha256 = (text: string): Effect.Effect<string> =>
  Effect.promise(() => crypto.subtle.digest("SHA-256", utf8(text))).pipe(Effect.map((d) => base64url(new Uint8Array(d))))

/** Compares two strings in time independent of where they differ (their lengths may leak, as usual). */
export const constantTimeEqual = (a: string, b: string): boolean => {
  const x = utf8(a)
  const y = utf8(b)
  let difference = x.length ^ y.length
  for (let i = 0; i < Math.max(x.length, y.length); i++) difference |= (x[i] ?? 0) ^ (y[i] ?? 0)
  return difference === 0
}

/** An HMAC-SHA256 key for `purpose`, derived from a secret with HKDF, so one secret never serves two purposes. */
export const hmacKey = (secret: Uint8Array<ArrayBuffer>, purpose: string): Effect.Effect<CryptoKey> =>
  Effect.promise(async () => {
    const base = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveKey"])
    return crypto.subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt: utf8("@mcp-oauth/proxy"), info: utf8(purpose) },
      base,
      { name: "HMAC", hash: "SHA-256", length: 256 },
      false,
      ["sign", "verify"]
    )
  })

/** HMAC-SHA256 of a string, base64url-encoded. */
export const hmac = (key: CryptoKey, text: string): Effect.Effect<string> =>
  Effect.promise(() => crypto.subtle.sign("HMAC", key, utf8(text))).pipe(Effect.map((d) => base64url(new Uint8Array(d))))
