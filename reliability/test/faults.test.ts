/**
 * Issue 7, item 1: faults of the identity provider and the OAuth upstream, through real HTTP on every adapter.
 * The key set is fetched through a faulty front of the TestIdp that can fail, hang, drip, answer HTML, garbage or
 * huge bodies, or publish rotated keys; the proxy's upstream token endpoint goes through the same front.
 * Expected: known keys keep verifying (stale-if-error), never a 5xx other than 503 with Retry-After, and only where
 * the server cannot decide, every request answered (each call has a deadline), recovery as soon as the fault ends.
 */
import { getTokens, startTokenForge, type TokenForge } from "@mcp-oauth/testing"
import type { Duration } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { adapterNames } from "../support/adapters.js"
import { runs } from "../support/runs.js"
import { type Answer, authorize, callWhoami, jsonOf, redeem, refresh, registerClient, toolResult } from "../support/clients.js"
import type { Fault } from "../support/faultyUpstream.js"
import { startProxyStack, startVerifierStack, type Stack } from "../support/stacks.js"

const bearer = (token: string) => `Bearer ${token}`

/** A 503 that says when to come back, as RFC 6750 and RFC 9110 allow. */
const expectUnavailable = (answer: Answer) => {
  expect(answer.status).toBe(503)
  expect(Number(answer.headers.get("retry-after"))).toBeGreaterThanOrEqual(1)
}

/**
 * Asks until the answer is not a 503, as a client told to retry would: after a fault ends, a loaded machine may need
 * one more attempt, but every answer on the way must be a 503 with Retry-After.
 */
const recovers = async (ask: () => Promise<Answer>): Promise<Answer> => {
  for (let attempt = 1; ; attempt++) {
    const answer = await ask()
    if (answer.status !== 503 || attempt === 5) return answer
    expectUnavailable(answer)
  }
}

/** The faults a key set endpoint can have; each one is a failed fetch, never a key set. */
const jwksFaults: ReadonlyArray<readonly [string, Fault]> = [
  ["HTTP 500", { kind: "status", status: 500 }],
  ["an HTML login page", { kind: "html" }],
  ["random bytes as JSON", { kind: "garbage" }],
  ["a 20 MB body", { kind: "huge", bytes: 20 * 1024 * 1024 }],
  ["a JSON document that is not a key set", { kind: "json", body: { keys: "none", error: "nope" } }],
  ["a connection reset", { kind: "reset" }],
  ["no answer at all", { kind: "hang" }],
  ["a body dripping one byte at a time", { kind: "drip", everyMs: 50 }]
]

describe("identity provider key set faults", () => {
  let forge: TokenForge
  const stacks: Array<Stack> = []
  afterAll(async () => {
    await Promise.all(stacks.map((s) => s.close()))
    await forge?.close()
  })

  // the key set is always stale (maxAge 0), so every request during a fault tries to refresh it; no cooldown, so
  // recovery is seen at the first request after the fault; no verdict cache, so every request looks the key up
  const start = async (adapter: (typeof adapterNames)[number], timeout: Duration.DurationInput = "1 second") => {
    const stack = await startVerifierStack({
      adapter,
      jwks: { timeout, maxAge: "0 millis", cooldown: "0 millis" },
      verifiedTokenCache: false
    })
    stacks.push(stack)
    forge ??= await startTokenForge({ audience: stack.resource, issuer: stack.idp.issuer })
    return stack
  }
  // a well-formed token for the stack, signed by a key its IdP never published: only the key set can tell
  const unknownKeyToken = (stack: Stack) => forge.token({ iss: stack.idp.issuer, aud: stack.resource }, { kid: "not-published-yet" })

  it.each(jwksFaults)("key set answering %s: cold 503, recovery, then stale-if-error for known keys", async (_name, fault) => {
    const stack = await start("node")
    const token = (await getTokens({ idp: stack.idp })).access_token
    const stranger = await unknownKeyToken(stack)

    // cold: no key set was ever fetched, so the server cannot decide
    stack.front.faults.set("/jwks", fault)
    expectUnavailable(await callWhoami(stack.resource, bearer(token)))
    expectUnavailable(await callWhoami(stack.resource, bearer(stranger)))
    // requests that need no key are still answered precisely: no token, a token that is not a JWT, an algorithm
    // no key set could serve
    expect((await callWhoami(stack.resource, undefined)).status).toBe(401)
    expect((await callWhoami(stack.resource, bearer("not-a-jwt"))).status).toBe(401)
    const none = `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${token.split(".")[1]}.`
    expect((await callWhoami(stack.resource, bearer(none))).status).toBe(401)

    // the fault ends: the next request recovers on its own
    stack.front.faults.delete("/jwks")
    const recovered = await recovers(() => callWhoami(stack.resource, bearer(token)))
    expect(recovered.status).toBe(200)
    expect(toolResult(recovered)["userId"]).toBe("test-user")
    expect((await recovers(() => callWhoami(stack.resource, bearer(stranger)))).status).toBe(401)

    // the fault returns: a token never seen before, signed by a known key, verifies with the stale set, and the
    // refresh attempts really reached the failing endpoint
    stack.front.faults.set("/jwks", fault)
    const before = stack.front.hits("/jwks")
    const fresh = (await getTokens({ idp: stack.idp })).access_token
    for (const presented of [fresh, token, fresh]) {
      const answer = await callWhoami(stack.resource, bearer(presented))
      expect(answer.status).toBe(200)
      expect(toolResult(answer)["userId"]).toBe("test-user")
    }
    // an unknown key cannot be told apart from a rotation the server cannot see: it may not be refused as invalid
    expectUnavailable(await callWhoami(stack.resource, bearer(stranger)))
    expect(stack.front.hits("/jwks")).toBeGreaterThan(before)
    stack.front.faults.delete("/jwks")
    expect((await recovers(() => callWhoami(stack.resource, bearer(stranger)))).status).toBe(401)
    expect(stack.logs.join("\n")).toMatch(/upstream fetch failed/)
  })

  it.each(adapterNames)("%s passes the 503 and its Retry-After through while the key set hangs", async (adapter) => {
    const stack = await start(adapter)
    const token = (await getTokens({ idp: stack.idp })).access_token
    stack.front.faults.set("/jwks", { kind: "hang" })
    const answers = await Promise.all(Array.from({ length: 8 }, () => callWhoami(stack.resource, bearer(token))))
    for (const answer of answers) {
      expectUnavailable(answer)
      expect(jsonOf(answer)["error"] ?? answer.headers.get("www-authenticate")).toBeTruthy()
    }
    stack.front.faults.delete("/jwks")
    expect((await recovers(() => callWhoami(stack.resource, bearer(token)))).status).toBe(200)
  })

  it("rotates keys under load: every request sent after a change gets that key set's verdict, never a 5xx", async () => {
    // the default fetch timeout: a loaded machine must not turn a slow loopback answer into a failure here
    const stack = await start("node", "5 seconds")
    const idpKeys = ((await (await fetch(stack.idp.jwksUri)).json()) as { keys: Array<Record<string, unknown>> }).keys
    const forgeKey = forge.jwks.keys.find((key) => key.kid === "rsa-1")!
    const oldTokens = await Promise.all(Array.from({ length: 4 }, async () => (await getTokens({ idp: stack.idp })).access_token))
    const newTokens = await Promise.all(Array.from({ length: 4 }, () => forge.token({ iss: stack.idp.issuer, aud: stack.resource })))

    const phases = [
      { name: "old key only", keys: idpKeys, old: 200, new: 401 },
      { name: "old and new keys", keys: [...idpKeys, forgeKey], old: 200, new: 200 },
      { name: "new key only", keys: [forgeKey], old: 401, new: 200 }
    ] as const
    stack.front.faults.set("/jwks", { kind: "json", body: { keys: phases[0].keys } })

    const concurrency = 12
    const perPhase = runs(120)
    let previous: (typeof phases)[number] | undefined
    for (const phase of phases) {
      let sent = 0
      const outcomes: Array<{ readonly kind: "old" | "new"; readonly afterSwitch: boolean; readonly status: number }> = []
      let switched = previous === undefined
      const worker = async (id: number) => {
        while (sent < perPhase) {
          const n = sent++
          // the key set changes while the other workers have requests in flight
          if (!switched && n === Math.floor(perPhase / 4)) {
            stack.front.faults.set("/jwks", { kind: "json", body: { keys: phase.keys } })
            switched = true
          }
          const afterSwitch = switched
          const kind = (n + id) % 2 === 0 ? "old" : "new"
          const pool = kind === "old" ? oldTokens : newTokens
          const answer = await callWhoami(stack.resource, bearer(pool[n % pool.length]!))
          outcomes.push({ kind, afterSwitch, status: answer.status })
        }
      }
      await Promise.all(Array.from({ length: concurrency }, (_, id) => worker(id)))
      expect(outcomes).toHaveLength(perPhase)
      for (const outcome of outcomes) {
        expect(outcome.status, `${phase.name}: ${outcome.kind} token; logs:\n${stack.logs.filter((l) => /WARN|ERROR/.test(l)).join("\n")}`).toBeLessThan(500)
        const now = phase[outcome.kind]
        const then = previous?.[outcome.kind] ?? now
        // a key that appears is used from the first request that meets it (the unknown kid refreshes the set);
        // a withdrawn key is trusted until the refresh that drops it, which the first later request starts
        const allowed = outcome.afterSwitch && (now === 200 || outcome.kind === "new") ? [now] : [now, then]
        expect(allowed, `${phase.name}: ${outcome.kind} token answered ${outcome.status}`).toContain(outcome.status)
      }
      // once the phase has settled, every verdict is exact
      for (const [kind, pool] of [["old", oldTokens], ["new", newTokens]] as const) {
        for (const token of pool) expect((await callWhoami(stack.resource, bearer(token))).status, `${phase.name} settled: ${kind}`).toBe(phase[kind])
      }
      previous = phase
    }
  })
})

describe("the proxy's upstream token endpoint failing mid-flow", () => {
  const upstreamFaults: ReadonlyArray<readonly [string, Fault]> = [
    ["HTTP 500", { kind: "status", status: 500 }],
    ["an HTML page", { kind: "html" }],
    ["garbage", { kind: "garbage" }],
    ["a 20 MB body", { kind: "huge", bytes: 20 * 1024 * 1024 }],
    ["a connection reset", { kind: "reset" }],
    ["no answer", { kind: "hang" }],
    ["a dripping body", { kind: "drip", everyMs: 50 }]
  ]

  for (const adapter of adapterNames) {
    describe(adapter, () => {
      let stack: Awaited<ReturnType<typeof startProxyStack>>
      // upstream tokens live 20 s, inside the proxy's 30 s margin: every client refresh refreshes upstream too
      beforeAll(async () => {
        stack = await startProxyStack({ adapter, upstreamSecret: `secret-${crypto.randomUUID()}`, upstreamTokenTtlSeconds: 20 })
      })
      afterAll(async () => {
        await stack?.close()
      })

      it.each(adapter === "node" ? upstreamFaults : upstreamFaults.filter(([name]) => name === "no answer" || name === "HTTP 500"))(
        "upstream answering %s: sign-in reports temporarily_unavailable, refresh answers 503 and keeps the token, both recover",
        async (_name, fault) => {
          const client = await registerClient(stack.origin, false)
          const first = await authorize(stack, client)
          const tokens = jsonOf(await redeem(stack, client, first))
          expect(typeof tokens["access_token"]).toBe("string")
          const refreshToken = String(tokens["refresh_token"])

          stack.front.faults.set("/token", fault)
          // a sign-in whose upstream code exchange fails ends at the client with a precise error, not a 500 page
          const failed = await authorize(stack, client)
          expect(failed.callback.searchParams.get("code")).toBeNull()
          expect(failed.callback.searchParams.get("error")).toBe("temporarily_unavailable")
          // a refresh that needs the upstream cannot be decided: 503 with Retry-After, the refresh token kept
          const refused = await refresh(stack.origin, client, refreshToken)
          expectUnavailable(refused)
          expect(jsonOf(refused)["error"]).toBe("temporarily_unavailable")
          // the access token already issued keeps working: the MCP endpoint does not need the upstream
          expect((await callWhoami(stack.resource, bearer(String(tokens["access_token"])))).status).toBe(200)

          stack.front.faults.delete("/token")
          const refreshed = await refresh(stack.origin, client, refreshToken)
          expect(refreshed.status).toBe(200)
          const rotated = jsonOf(refreshed)
          expect((await callWhoami(stack.resource, bearer(String(rotated["access_token"])))).status).toBe(200)
          const again = await authorize(stack, client)
          expect((await redeem(stack, client, again)).status).toBe(200)
        }
      )
    })
  }
})
