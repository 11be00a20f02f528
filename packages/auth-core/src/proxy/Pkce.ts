/**
 * PKCE (RFC 7636) with S256 only: the proxy verifies its clients' challenges and runs its own pair with the upstream.
 * `plain` and a challenge without a method are refused (a downgrade to `plain` lets a stolen code be redeemed).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { constantTimeEqual, randomToken, sha256 } from "./internal/bytes.js"

// RFC 7636 §4.1: code-verifier = 43*128unreserved
const verifierSyntax = /^[A-Za-z0-9\-._~]{43,128}$/
// an S256 challenge is BASE64URL(SHA-256(verifier)) without padding: exactly 43 characters
const challengeSyntax = /^[A-Za-z0-9_-]{43}$/

/** Whether a string is a syntactically valid code verifier. */
export const isVerifier = (verifier: string): boolean => verifierSyntax.test(verifier)

/** Whether a string is a syntactically valid S256 code challenge. */
export const isS256Challenge = (challenge: string): boolean => challengeSyntax.test(challenge)

/** The S256 challenge of a verifier. */
export const challengeOf = (verifier: string): Effect.Effect<string> => sha256(verifier)

/** Whether `verifier` is valid and hashes to `challenge`, compared in constant time. */
export const verify = (verifier: string, challenge: string): Effect.Effect<boolean> =>
  isVerifier(verifier) && isS256Challenge(challenge)
    ? Effect.map(challengeOf(verifier), (computed) => constantTimeEqual(computed, challenge))
    : Effect.succeed(false)

/** A fresh verifier (256 random bits) and its S256 challenge, for the proxy's own request to the upstream. */
export const make: Effect.Effect<{ readonly verifier: string; readonly challenge: string }> = Effect.suspend(() => {
  const verifier = randomToken(32)
  return Effect.map(challengeOf(verifier), (challenge) => ({ verifier, challenge }))
})
