/**
 * With the tracer off, the guard judges a token outside any fiber whenever it can (a held verdict, a JWT whose key is
 * held). The hostile corpus must get exactly the answers it gets through the fiber (tracer on), with the verified-token
 * cache on and off, on first sight and when repeated, and every answer must be one the corpus expects.
 */
import { Custom, McpAuth } from "@mcp-oauth/auth-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { isExpectedOutcome, startTokenForge } from "../src/index.js"
import type { HostileCase, TokenForge } from "../src/index.js"

const RESOURCE = "http://localhost:4200/mcp"
const REQUIRED = ["mcp:read"]

let forge: TokenForge
let corpus: ReadonlyArray<HostileCase>
const guards: Record<"fiber" | "immediate" | "immediateNoCache", McpAuth.McpAuth> = {} as never

const build = (telemetry: boolean, cache: boolean) =>
  McpAuth.make(
    McpAuth.layer(
      { resource: RESOURCE, scopesSupported: REQUIRED, requiredScopes: REQUIRED },
      Custom.layer({ issuer: forge.issuer, jwksUri: forge.jwksUri, mirrorMetadata: false, ...(cache ? {} : { verifiedTokenCache: false }) }),
      { telemetry }
    )
  )

beforeAll(async () => {
  forge = await startTokenForge({ audience: RESOURCE, scope: "mcp:read" })
  corpus = await forge.hostileCorpus({ requiredScopes: REQUIRED })
  guards.fiber = await build(true, true)
  guards.immediate = await build(false, true)
  guards.immediateNoCache = await build(false, false)
  // every guard holds the key set before the corpus runs, so the immediate paths are the ones taken
  const warm = await forge.token({ scope: "mcp:read" })
  for (const guard of Object.values(guards)) expect((await guard.guard({ authorization: [`Bearer ${warm}`] })).ok).toBe(true)
})

afterAll(async () => {
  await Promise.all(Object.values(guards).map((guard) => guard?.dispose()))
  await forge?.close()
})

const answerOf = (outcome: McpAuth.GuardOutcome) =>
  outcome.ok
    ? { status: 200, headers: outcome.headers, subject: outcome.authInfo.subject, scopes: outcome.authInfo.scopes }
    : { status: outcome.answer.status, headers: outcome.answer.headers, body: outcome.answer.body }

describe("immediate verdicts agree with the fiber", () => {
  it("answers every corpus case as the fiber does, first time and repeated, and as the corpus expects", async () => {
    expect(corpus.length).toBeGreaterThan(20)
    for (const hostile of corpus) {
      for (const round of [1, 2]) {
        const request = { authorization: [hostile.authorization] }
        const viaFiber = answerOf(await guards.fiber.guard(request))
        const viaImmediate = answerOf(await guards.immediate.guard(request))
        const viaImmediateNoCache = answerOf(await guards.immediateNoCache.guard(request))
        expect({ case: hostile.name, round, answer: viaImmediate }).toEqual({ case: hostile.name, round, answer: viaFiber })
        expect({ case: hostile.name, round, answer: viaImmediateNoCache }).toEqual({ case: hostile.name, round, answer: viaFiber })
        const headers = { get: (name: string) => (viaImmediate.headers as Record<string, string>)[name] ?? null }
        expect({ case: hostile.name, expected: isExpectedOutcome(hostile, { status: viaImmediate.status, headers }) || hostile.requiresTyp === true })
          .toEqual({ case: hostile.name, expected: true })
      }
    }
  })

  it("judges a valid token whose key is held in the same tick, with the cache off too", async () => {
    const token = await forge.token({ scope: "mcp:read", jti: "same-tick" })
    const outcome = guards.immediateNoCache.check({ authorization: [`Bearer ${token}`] })
    expect(outcome).not.toBeInstanceOf(Promise)
    expect((outcome as McpAuth.GuardOutcome).ok).toBe(true)
  })
})
