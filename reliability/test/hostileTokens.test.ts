/**
 * Issue 7, item 2 (the guard): the public hostile-token corpus (forged signatures, algorithm confusion, wrong
 * issuers and audiences, expired, malformed, oversized, homoglyphs...) against every adapter, all cases at once and
 * each one twice, so that shared per-reason answers and verdict caches are exercised under concurrency. Every case
 * must get its exact status and challenge, and never a 5xx or the attacker's token echoed back.
 */
import { Custom, McpAuth } from "@mcp-oauth/auth-core"
import { type HostileCase, isExpectedOutcome, startTokenForge, type TokenForge } from "@mcp-oauth/testing"
import { freePort } from "@mcp-oauth/testing/contract"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { adapterNames, type Served, serveWith } from "../support/adapters.js"
import { callWhoami } from "../support/clients.js"

describe.each(adapterNames)("the hostile-token corpus against %s, concurrently", (adapter) => {
  let forge: TokenForge
  let served: Served
  let resource: string
  let corpus: ReadonlyArray<HostileCase>
  beforeAll(async () => {
    const port = await freePort()
    resource = `http://127.0.0.1:${port}/mcp`
    forge = await startTokenForge({ audience: resource })
    const auth = await McpAuth.make(McpAuth.layer({ resource, scopesSupported: ["mcp"], resourceName: "hostile" }, Custom.layer({ issuer: forge.issuer })))
    served = await serveWith(adapter, auth, port)
    // this server does not require typ at+jwt, so the cases wrong only by typ do not apply
    corpus = (await forge.hostileCorpus({ resource })).filter((c) => c.requiresTyp !== true)
  })
  afterAll(async () => {
    await served?.close()
    await forge?.close()
  })

  it("answers every case exactly, twice over, with all of them in flight together", async () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60)
    const twice = [...corpus, ...corpus].sort(() => Math.random() - 0.5)
    const wrong: Array<string> = []
    await Promise.all(
      twice.map(async (hostile) => {
        const answer = await callWhoami(resource, hostile.authorization)
        const header = answer.headers.get("www-authenticate")
        if (answer.status >= 500 || !isExpectedOutcome(hostile, answer)) {
          wrong.push(`${hostile.name}: expected ${JSON.stringify(hostile.expect)}, got ${answer.status} ${header} ${answer.text.slice(0, 120)}`)
        }
        if (hostile.token !== undefined && hostile.token.length > 8 && (answer.status !== 200) && (answer.text.includes(hostile.token) || header?.includes(hostile.token))) {
          wrong.push(`${hostile.name}: token echoed`)
        }
      })
    )
    expect(wrong).toEqual([])
    expect(forge.requests("/attacker/*")).toBe(0)
  })
})
