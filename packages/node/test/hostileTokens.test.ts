import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Challenge } from "@mcp-oauth/auth-core"
import { type HostileCase, isExpectedOutcome, startTokenForge, type TokenForge } from "@mcp-oauth/testing"
import { callTool, freePort, type Protected, startProtected } from "./support/harness.js"

/**
 * The public hostile-token corpus at the HTTP level, against two servers: one requiring `typ: at+jwt` and
 * scope `admin` (every case applies), one with defaults (cases that are wrong only by `typ` do not apply).
 */
const suites: Array<{ name: string; typ?: "at+jwt"; requiredScopes?: Array<string> }> = [
  { name: "strict (typ at+jwt, scope admin required)", typ: "at+jwt", requiredScopes: ["mcp", "admin"] },
  { name: "defaults" }
]

describe.each(suites)("hostile tokens against the node adapter, $name", (suite) => {
  let forge: TokenForge
  let server: Protected
  let corpus: ReadonlyArray<HostileCase>
  const statuses = new Map<string, number>()

  beforeAll(async () => {
    const port = await freePort()
    const resource = `http://127.0.0.1:${port}/mcp`
    forge = await startTokenForge({ audience: resource })
    server = await startProtected({
      port,
      provider: { issuer: forge.issuer, typ: suite.typ },
      ...(suite.requiredScopes === undefined ? {} : { requiredScopes: suite.requiredScopes })
    })
    const all = await forge.hostileCorpus({ resource, ...(suite.requiredScopes === undefined ? {} : { requiredScopes: suite.requiredScopes }) })
    corpus = suite.typ === undefined ? all.filter((c) => c.requiresTyp !== true) : all
  })
  afterAll(async () => {
    await server?.close()
    await forge?.close()
  })

  it("has at least 60 cases, most of them must-reject", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60)
    expect(corpus.filter((c) => c.expect.status !== 200).length).toBeGreaterThanOrEqual(60)
  })

  it("answers every case with the exact status and challenge, never 2xx for a must-reject and never 5xx", async () => {
    const wrong: Array<string> = []
    for (const hostile of corpus) {
      const response = await callTool(server.origin, hostile.authorization)
      statuses.set(hostile.name, response.status)
      const header = response.headers.get("www-authenticate")
      if (!isExpectedOutcome(hostile, response)) {
        wrong.push(`${hostile.name}: expected ${JSON.stringify(hostile.expect)}, got ${response.status} ${header}`)
      }
      if (response.status >= 500) wrong.push(`${hostile.name}: ${response.status}`)
      if (response.status === 400 || response.status === 401 || response.status === 403) {
        // every refusal carries a strictly parseable challenge pointing at our metadata
        const parsed = header === null ? undefined : Challenge.parse(header)
        if (parsed?.params.get("resource_metadata") !== server.metadataUrl) wrong.push(`${hostile.name}: challenge ${header}`)
        // the attacker's token never comes back to them in the challenge or body
        const body = await response.text()
        if (hostile.token !== undefined && hostile.token.length > 8 && (body.includes(hostile.token) || header?.includes(hostile.token))) {
          wrong.push(`${hostile.name}: token echoed`)
        }
      } else {
        await response.body?.cancel()
      }
    }
    expect(wrong).toEqual([])
  })

  it("never fetches keys from URLs an attacker put in a token", () => {
    expect(forge.requests("/attacker/*")).toBe(0)
  })

  it("rejects a 1 MB token without parsing it", async () => {
    const huge = `Bearer ${"a".repeat(1024 * 1024)}`
    const before = forge.requests("/jwks")
    const response = await callTool(server.origin, huge)
    expect([401, 431]).toContain(response.status)
    expect(forge.requests("/jwks")).toBe(before)
  })
})
