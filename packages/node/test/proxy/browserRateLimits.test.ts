/**
 * Per-source rate limits of the browser-facing steps after /authorize (issue 5): the consent POST and the upstream
 * callback count like /register, /authorize and /token, and answer 429 pages with Retry-After past the limit;
 * a spoofed `X-Forwarded-For` does not reset the count when no reverse proxy is trusted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Telemetry from "@mcp-oauth/auth-core/Telemetry"
import { Effect, Metric } from "effect"
import { type ProxyStack, startProxyStack } from "./support/proxyStack.js"

describe("OAuth proxy: consent and callback rate limits", () => {
  let stack: ProxyStack
  beforeAll(async () => {
    stack = await startProxyStack({
      proxy: { rateLimits: { consent: { limit: 3, window: "1 minute" }, callback: { limit: 3, window: "1 minute" } } }
    })
  })
  afterAll(() => stack?.close())

  const statuses = async (send: (i: number) => Promise<Response>, count: number) => {
    const seen: Array<{ status: number; retryAfter: string | null; type: string | null }> = []
    for (let i = 0; i < count; i++) {
      const response = await send(i)
      await response.body?.cancel()
      seen.push({ status: response.status, retryAfter: response.headers.get("retry-after"), type: response.headers.get("content-type") })
    }
    return seen
  }

  /** The proxy-step counter for one step and outcome (metrics live in one process-wide registry). */
  const stepCount = (step: string, outcome: string) =>
    Effect.runSync(Metric.value(Metric.tagged(Metric.tagged(Telemetry.proxySteps, "step", step), "outcome", outcome))).count

  it("limits consent submissions per source", async () => {
    const refusedBefore = stepCount("consent", "refused")
    const seen = await statuses(
      (i) =>
        fetch(`${stack.origin}/consent`, {
          method: "POST",
          redirect: "manual",
          headers: { "content-type": "application/x-www-form-urlencoded", origin: stack.origin, "x-forwarded-for": `203.0.113.${i}` },
          body: "request_id=unknown&csrf_token=wrong&decision=approve"
        }),
      5
    )
    expect(seen.slice(0, 3).map((s) => s.status)).toEqual([400, 400, 400])
    expect(seen.slice(3).map((s) => s.status)).toEqual([429, 429])
    expect(Number(seen[3]!.retryAfter)).toBe(60)
    expect(seen[3]!.type).toMatch(/^text\/html/)
    // every step is counted by step and outcome
    expect(stepCount("consent", "refused") - refusedBefore).toBe(5)
  })

  it("limits upstream callbacks per source", async () => {
    const seen = await statuses(
      (i) => fetch(`${stack.origin}/oauth/callback?state=invented-${i}&code=x`, { redirect: "manual", headers: { "x-forwarded-for": `198.51.100.${i}` } }),
      5
    )
    expect(seen.slice(0, 3).map((s) => s.status)).toEqual([400, 400, 400])
    expect(seen.slice(3).map((s) => s.status)).toEqual([429, 429])
    expect(Number(seen[4]!.retryAfter)).toBe(60)
  })
})
