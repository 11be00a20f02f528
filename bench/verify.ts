/**
 * 1. Verification cost: the guard (Authorization header → AuthInfo through McpAuth and BearerAuth, key set already
 * cached) against raw `jose.jwtVerify` with a local key, on the same tokens, in interleaved rounds; then the cost of
 * a repeated token with the verified-token cache.
 */
import type { McpAuth } from "@mcp-oauth/auth-core"
import * as jose from "jose"
import { bearer, makeAuth } from "./lib/auth.js"
import { pick } from "./lib/env.js"
import { type Alg, algorithms, claims, mint, type SigningKey, signingKey, startJwksServer } from "./lib/idp.js"
import { emit, log, type Row } from "./lib/report.js"
import { median, quantile, rotate, round } from "./lib/stats.js"

const batch = pick(250, 10)
const rounds = pick(10, 2)
const repeatedBatch = pick(1000, 20)
const resource = "http://127.0.0.1:9/mcp"

type Verify = (token: string) => Promise<unknown>

interface Variant {
  readonly name: string
  readonly verify: Verify
}

const guardOf = (auth: McpAuth.McpAuth): Verify => async (token) => {
  const outcome = await auth.guard({ authorization: bearer(token) })
  if (!outcome.ok) throw new Error(`the guard refused a valid token: ${outcome.answer.status} ${outcome.answer.body ?? ""}`)
  return outcome
}

/** Microseconds per operation over `tokens`, one after another (each awaited: the latency a request sees). */
const timeBatch = async (verify: Verify, tokens: ReadonlyArray<string>): Promise<number> => {
  const start = performance.now()
  for (const token of tokens) await verify(token)
  return ((performance.now() - start) * 1000) / tokens.length
}

/**
 * Per round, every variant verifies the same tokens, taking turns every `chunk` operations (A B C, B C A, ...) so that
 * a burst of load from elsewhere on the machine hits all of them alike. Each operation is timed on its own and each
 * round reports each variant's median latency; the first operation of a turn (which may pay for the other variant's
 * garbage) is not counted.
 */
const chunk = 20

const interleaved = async (variants: ReadonlyArray<Variant>, slice: (round: number) => ReadonlyArray<string>) => {
  const perRound: Record<string, Array<number>> = Object.fromEntries(variants.map((v) => [v.name, []]))
  for (let r = 0; r < rounds; r++) {
    const samples: Record<string, Array<number>> = Object.fromEntries(variants.map((v) => [v.name, []]))
    const tokens = slice(r)
    for (let from = 0; from < tokens.length; from += chunk) {
      for (const variant of rotate(variants, from / chunk + r)) {
        const to = Math.min(tokens.length, from + chunk)
        for (let i = from; i < to; i++) {
          const start = performance.now()
          await variant.verify(tokens[i]!)
          if (i > from) samples[variant.name]!.push((performance.now() - start) * 1000)
        }
      }
    }
    for (const variant of variants) perRound[variant.name]!.push(median(samples[variant.name]!))
  }
  return perRound
}

/** Per-round ratios a/b, and their median and interquartile range. */
const ratios = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => {
  const each = a.map((x, i) => x / b[i]!)
  return { median: median(each), p25: quantile(each, 0.25), p75: quantile(each, 0.75), each: each.map((x) => round(x, 3)) }
}

const main = async () => {
  const keys = Object.fromEntries(await Promise.all(algorithms.map(async (alg) => [alg, await signingKey(alg)] as const))) as Record<Alg, SigningKey>
  const idp = await startJwksServer(Object.values(keys))
  const uncached = await makeAuth({ idp, resource, cache: false })
  const cached = await makeAuth({ idp, resource })
  const traced = await makeAuth({ idp, resource, cache: false, tracing: true })
  const rows: Array<Row> = []
  const details: Record<string, unknown> = { batch, rounds, repeatedBatch }

  for (const alg of algorithms) {
    const key = keys[alg]
    log(`verify ${alg}: minting ${(rounds + 1) * batch} tokens`)
    const tokens = await Promise.all(Array.from({ length: (rounds + 1) * batch }, (_, n) => mint(key, claims(idp.issuer, resource, n))))
    const local: Verify = (token) => jose.jwtVerify(token, key.publicKey, { issuer: idp.issuer, audience: resource, algorithms: [alg] })
    const variants: Array<Variant> = [
      { name: "jose", verify: local },
      { name: "guard", verify: guardOf(uncached) },
      { name: "guard+cache", verify: guardOf(cached) },
      { name: "guard+tracing", verify: guardOf(traced) }
    ]
    // warm-up on the last slice: fetches and imports the key, and lets the JIT settle
    const warm = tokens.slice(rounds * batch)
    for (const variant of variants) await timeBatch(variant.verify, warm)
    const slice = (r: number) => tokens.slice(r * batch, (r + 1) * batch)
    const perRound = await interleaved(variants, slice)
    const guard = ratios(perRound["guard"]!, perRound["jose"]!)
    const miss = ratios(perRound["guard+cache"]!, perRound["jose"]!)
    const tracing = ratios(perRound["guard+tracing"]!, perRound["guard"]!)
    rows.push({
      section: "verify",
      name: `${alg} guard, distinct tokens, cache off`,
      value: median(perRound["guard"]!),
      unit: "µs/op",
      baseline: { name: "jose.jwtVerify", value: median(perRound["jose"]!) },
      ratio: guard.median,
      target: "<= 1.15",
      pass: guard.median <= 1.15,
      note: `ratio IQR ${round(guard.p25)}–${round(guard.p75)}`
    })
    rows.push({
      section: "verify",
      name: `${alg} guard, distinct tokens, cache on (all misses)`,
      value: median(perRound["guard+cache"]!),
      unit: "µs/op",
      baseline: { name: "jose.jwtVerify", value: median(perRound["jose"]!) },
      ratio: miss.median,
      target: "<= 1.15",
      pass: miss.median <= 1.15,
      note: `ratio IQR ${round(miss.p25)}–${round(miss.p75)}`
    })
    rows.push({
      section: "verify",
      name: `${alg} guard with Effect's tracer on (spans made, exported nowhere), cache off`,
      value: median(perRound["guard+tracing"]!),
      unit: "µs/op",
      baseline: { name: "guard, tracer off (the default)", value: median(perRound["guard"]!) },
      ratio: tracing.median,
      note: `ratio IQR ${round(tracing.p25)}–${round(tracing.p75)}; spans mcp_oauth.guard and mcp_oauth.verify_token per request`
    })

    // the same token again and again: a client reusing its access token
    const repeated = Array.from({ length: repeatedBatch }, () => tokens[0]!)
    const hitVariants: Array<Variant> = [
      { name: "jose", verify: local },
      { name: "guard+cache", verify: guardOf(cached) }
    ]
    for (const variant of hitVariants) await timeBatch(variant.verify, repeated.slice(0, 50))
    const hits = await interleaved(hitVariants, () => repeated)
    const speedup = ratios(hits["jose"]!, hits["guard+cache"]!)
    rows.push({
      section: "verify",
      name: `${alg} guard, repeated token, cache on`,
      value: median(hits["guard+cache"]!),
      unit: "µs/op",
      baseline: { name: "jose.jwtVerify", value: median(hits["jose"]!) },
      ratio: speedup.median,
      target: ">= 5 (speed-up)",
      pass: speedup.median >= 5,
      note: `speed-up IQR ${round(speedup.p25)}–${round(speedup.p75)}`
    })
    details[alg] = { perRound, hits, ratios: { guard, miss, tracing, speedup } }
  }

  await uncached.dispose()
  await cached.dispose()
  await traced.dispose()
  await idp.close()
  emit({ section: "verify", rows, details })
}

await main()
