/**
 * With the tracer off, the guard answers without running a fiber whenever it can: a refused header, a held verdict,
 * a JWT whose key is held. That shortcut must never change an answer: the same requests, in the same order, get the
 * same outcome from a guard that always runs the fiber (tracer on).
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as jose from "jose"
import * as Authorization from "../src/Authorization.js"
import * as McpAuth from "../src/McpAuth.js"
import * as Custom from "../src/providers/Custom.js"
import { serveKeySet } from "./support/staticJwks.js"
import * as SessionBindings from "../src/SessionBindings.js"

let keySet: Awaited<ReturnType<typeof serveKeySet>>
let issuer: string
let privateKey: CryptoKey
const resource = "http://127.0.0.1:9/mcp"
const kid = "known-key"
const tokens: Record<string, string> = {}

const mint = (subject: string, scope: string, audience = resource, expiresIn = "5m") =>
  new jose.SignJWT({ scope })
    .setProtectedHeader({ alg: "ES256", kid })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(privateKey)

const policy = () => new Authorization.Policy().set("tool", "admin-tool", { scopes: ["admin"] })

const build = (telemetry: boolean) =>
  McpAuth.make(
    McpAuth.layer(
      { resource, scopesSupported: ["mcp", "admin"] },
      Custom.layer({ issuer, jwksUri: keySet.jwksUri, mirrorMetadata: false }),
      { telemetry }
    ),
    { policy: policy(), sessions: SessionBindings.make() }
  )

beforeAll(async () => {
  keySet = await serveKeySet("ES256", kid)
  privateKey = keySet.privateKey
  issuer = keySet.issuer
  tokens["alice"] = await mint("alice", "mcp")
  tokens["alice-admin"] = await mint("alice", "mcp admin")
  tokens["bob"] = await mint("bob", "mcp")
  tokens["no-scope"] = await mint("carol", "")
  tokens["expired"] = await mint("alice", "mcp", resource, "-5m")
  tokens["other-audience"] = await mint("alice", "mcp", "https://elsewhere.example/mcp")
})

afterAll(async () => {
  await keySet?.close()
})

// mostly valid tokens, so that repeats (held verdicts) meet every other condition: a session another subject opened,
// a body or requirement needing a scope the token lacks, an origin
const bearer = (...names: Array<string>) => fc.constantFrom(...names).map((name) => [`Bearer ${tokens[name]}`])
const headers = fc.oneof(
  { arbitrary: bearer("alice", "alice-admin", "bob", "no-scope"), weight: 8 },
  { arbitrary: bearer("expired", "other-audience"), weight: 1 },
  { arbitrary: fc.constant([] as Array<string>), weight: 1 },
  { arbitrary: fc.constantFrom(["Bearer"], ["Basic dXNlcjpwYXNz"], ["Bearer a b"], ["Bearer x", "Bearer y"], ["Bearer not.a.jwt"]), weight: 1 }
)
const bodies = fc.constantFrom(
  undefined,
  undefined,
  { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "admin-tool" } },
  { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "open-tool" } },
  [{ jsonrpc: "2.0", id: 3, method: "tools/list" }]
)
const guardRequest = fc.record({
  authorization: headers,
  body: bodies,
  sessionId: fc.constantFrom(undefined, "session-1", "session-1", "session-2"),
  requirements: fc.constantFrom(undefined, undefined, { scopes: ["admin"] }),
  origin: fc.constantFrom(undefined, "https://client.example")
})

// what a client sees of an outcome, plus the principal an accepted request carries
const seen = (outcome: McpAuth.GuardOutcome) =>
  outcome.ok
    ? { ok: true, subject: outcome.authInfo.subject, scopes: outcome.authInfo.scopes, sdkScopes: outcome.sdkAuthInfo.scopes, headers: outcome.headers }
    : { ok: false, status: outcome.answer.status, headers: outcome.answer.headers, body: outcome.answer.body }

describe("McpAuth: verdicts reached without a fiber", () => {
  it("gives every request the outcome the fiber path gives it, in any order", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(guardRequest, { minLength: 1, maxLength: 30 }), async (requests) => {
        // fresh guards per sequence: their verified-token caches and session bindings start empty alike
        const [fast, traced] = [await build(false), await build(true)]
        try {
          for (const request of requests) {
            const viaFast = await fast.check(request)
            const viaFiber = await traced.check(request)
            expect(seen(viaFast)).toEqual(seen(viaFiber))
          }
        } finally {
          await Promise.all([fast.dispose(), traced.dispose()])
        }
      }),
      { numRuns: 60 }
    )
  })

  it("answers a repeated token and a missing one in the same tick, with the token the request presented", async () => {
    const auth = await build(false)
    try {
      const first = await auth.check({ authorization: [`Bearer ${tokens["alice"]}`] })
      expect(first.ok).toBe(true)
      const again = auth.check({ authorization: [`Bearer ${tokens["alice"]}`] })
      expect(again).not.toBeInstanceOf(Promise)
      expect((again as McpAuth.GuardOutcome).ok && (again as { sdkAuthInfo: { token: string } }).sdkAuthInfo.token).toBe(tokens["alice"])
      const missing = auth.check({ authorization: [] })
      expect(missing).not.toBeInstanceOf(Promise)
      expect((missing as McpAuth.GuardOutcome).ok === false && (missing as { answer: { status: number } }).answer.status).toBe(401)
    } finally {
      await auth.dispose()
    }
  })
})
