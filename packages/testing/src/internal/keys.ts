/**
 * Process-wide cache of generated key pairs: RSA generation is slow, so every key is made once.
 */
import * as crypto from "node:crypto"

/** The kinds of key pair the testing package uses. */
export type KeyKind = "rsa-2048" | "rsa-1024" | "ec-p256" | "ed25519"

/** A generated key pair with its JWK forms. */
export interface KeyPair {
  readonly privateKey: crypto.KeyObject
  readonly publicKey: crypto.KeyObject
  readonly privateJwk: crypto.JsonWebKey
  readonly publicJwk: crypto.JsonWebKey
}

const cache = new Map<string, Promise<KeyPair>>()

const generate = (kind: KeyKind): Promise<{ privateKey: crypto.KeyObject; publicKey: crypto.KeyObject }> =>
  new Promise((resolve, reject) => {
    const done = (error: Error | null, publicKey: crypto.KeyObject, privateKey: crypto.KeyObject) =>
      error ? reject(error) : resolve({ privateKey, publicKey })
    switch (kind) {
      case "rsa-2048":
        return crypto.generateKeyPair("rsa", { modulusLength: 2048 }, done)
      case "rsa-1024":
        return crypto.generateKeyPair("rsa", { modulusLength: 1024 }, done)
      case "ec-p256":
        return crypto.generateKeyPair("ec", { namedCurve: "P-256" }, done)
      case "ed25519":
        return crypto.generateKeyPair("ed25519", undefined, done)
    }
  })

/**
 * The key pair of `kind` cached under `slot` for the life of the process.
 * Different slots give independent keys of the same kind (e.g. the IdP's key and an attacker's key).
 */
export const keyPair = (kind: KeyKind, slot = "default"): Promise<KeyPair> => {
  const id = `${kind}/${slot}`
  let pending = cache.get(id)
  if (pending === undefined) {
    pending = generate(kind).then(({ privateKey, publicKey }) => ({
      privateKey,
      publicKey,
      privateJwk: privateKey.export({ format: "jwk" }),
      publicJwk: publicKey.export({ format: "jwk" })
    }))
    pending.catch(() => cache.delete(id))
    cache.set(id, pending)
  }
  return pending
}
