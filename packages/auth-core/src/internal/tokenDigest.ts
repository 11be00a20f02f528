/** The one way a token becomes a cache key: its SHA-256 digest, so no map or heap dump ever holds a token. */
import * as NodeCrypto from "node:crypto"

// `crypto.hash` (Node 20.12+) is a one-shot digest without the streaming Hash object; older Node 20 falls back
const oneShot = (NodeCrypto as { readonly hash?: (algorithm: string, data: string, encoding: "base64url") => string }).hash

/** The SHA-256 digest of a token, base64url; synchronous, as it runs on every verification. */
export const tokenDigest = (token: string): string =>
  oneShot !== undefined
    ? oneShot("sha256", token, "base64url")
    : NodeCrypto.createHash("sha256").update(token, "utf8").digest("base64url")
