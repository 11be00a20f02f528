/**
 * Encryption at rest of what the proxy keeps for later (the upstream tokens, its own upstream PKCE verifier):
 * AES-256-GCM with a random 96-bit nonce per value, and the value's Store key as associated data, so a sealed
 * value copied under another key does not open.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { base64url, fromBase64, randomToken, utf8 } from "./internal/bytes.js"

/** Seals and opens values with one key. */
export interface Sealer {
  /** `v1.<nonce>.<ciphertext and tag>`, base64url. */
  readonly seal: (plaintext: string, context: string) => Effect.Effect<string>
  /** The plaintext, or none when the value was not sealed by this key for this context (or was altered). */
  readonly open: (sealed: string, context: string) => Effect.Effect<Option.Option<string>>
}

/** Length of the key in bytes. */
export const keyBytes = 32

/** Decodes a 256-bit key written as base64url, base64 or hex; undefined when it is not one. */
export const decodeKey = (text: string): Uint8Array<ArrayBuffer> | undefined => {
  const trimmed = text.trim()
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) {
    return new Uint8Array(trimmed.match(/../g)!.map((h) => parseInt(h, 16)))
  }
  const bytes = fromBase64(trimmed)
  return bytes !== undefined && bytes.length === keyBytes ? bytes : undefined
}

/** A new random key, base64url-encoded (what `MCP_OAUTH_PROXY_ENCRYPTION_KEY` holds). */
export const generateKey = (): string => randomToken(keyBytes)

/** A sealer over a 256-bit key. */
export const make = (key: Uint8Array<ArrayBuffer>): Effect.Effect<Sealer> =>
  Effect.gen(function* () {
    const cryptoKey = yield* Effect.promise(() =>
      crypto.subtle.importKey("raw", key, { name: "AES-GCM" }, false, ["encrypt", "decrypt"])
    )
    const seal = (plaintext: string, context: string) =>
      Effect.promise(async () => {
        const iv = crypto.getRandomValues(new Uint8Array(12))
        const sealed = await crypto.subtle.encrypt(
          { name: "AES-GCM", iv, additionalData: utf8(context) },
          cryptoKey,
          utf8(plaintext)
        )
        return `v1.${base64url(iv)}.${base64url(new Uint8Array(sealed))}`
      })
    const open = (sealed: string, context: string) => {
      const [version, ivText, dataText, extra] = sealed.split(".")
      const iv = ivText === undefined ? undefined : fromBase64(ivText)
      const data = dataText === undefined ? undefined : fromBase64(dataText)
      if (version !== "v1" || extra !== undefined || iv?.length !== 12 || data === undefined) {
        return Effect.succeed(Option.none<string>())
      }
      return Effect.tryPromise(() =>
        crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: utf8(context) }, cryptoKey, data)
      ).pipe(
        Effect.map((plain) => Option.some(new TextDecoder().decode(plain))),
        Effect.orElseSucceed(() => Option.none<string>())
      )
    }
    return { seal, open }
  })
