/**
 * Byte-level JWS helpers for tokens that jose (rightly) refuses to produce: arbitrary headers, raw JSON text,
 * weak keys, malformed signatures.
 */
import * as crypto from "node:crypto"

/** base64url without padding. */
export const b64u = (input: string | Uint8Array): string => Buffer.from(input).toString("base64url")

/** base64url of a value's JSON text (or of the text itself when already a string of JSON). */
export const segment = (value: unknown): string => b64u(typeof value === "string" ? value : JSON.stringify(value))

/** Algorithms the raw signer implements. */
export type RawAlgorithm = "RS256" | "PS256" | "ES256" | "EdDSA" | "HS256"

/** Signs `input` and returns the base64url signature. */
export const rawSignature = (alg: RawAlgorithm, key: crypto.KeyObject | Uint8Array, input: string | Uint8Array): string => {
  const data = typeof input === "string" ? Buffer.from(input, "utf8") : input
  if (alg === "HS256") {
    if (!(key instanceof Uint8Array)) throw new TypeError("HS256 needs a byte secret")
    return b64u(crypto.createHmac("sha256", key).update(data).digest())
  }
  if (key instanceof Uint8Array) throw new TypeError(`${alg} needs a private key`)
  switch (alg) {
    case "RS256":
      return b64u(crypto.sign("sha256", data, key))
    case "PS256":
      return b64u(
        crypto.sign("sha256", data, { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
      )
    case "ES256":
      return b64u(crypto.sign("sha256", data, { key, dsaEncoding: "ieee-p1363" }))
    case "EdDSA":
      return b64u(crypto.sign(null, data, key))
  }
}

/** A compact JWS from header and payload (objects or exact JSON text), signed with `alg`. */
export const rawCompact = (
  header: unknown,
  payload: unknown,
  alg: RawAlgorithm,
  key: crypto.KeyObject | Uint8Array
): string => {
  const input = `${segment(header)}.${segment(payload)}`
  return `${input}.${rawSignature(alg, key, input)}`
}
