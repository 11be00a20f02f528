/**
 * 4. Memory: 100,000 distinct valid tokens, then 100,000 garbage tokens, through the guard with the default settings;
 * heap growth after a full GC (run with `node --expose-gc`). The verified-token cache is bounded (10,000 entries by
 * default), so growth stops there; a fiftieth as many valid tokens with the cache off, in the same process, shows what
 * the rest of the guard keeps. Tokens are minted up front so that they are part of the baseline heap.
 */
import { randomBytes } from "node:crypto"
import * as VerifiedTokenCache from "@mcp-oauth/auth-core/VerifiedTokenCache"
import type { McpAuth } from "@mcp-oauth/auth-core"
import { bearer, makeAuth } from "./lib/auth.js"
import { pick } from "./lib/env.js"
import { claims, fastSigner, signingKey, startJwksServer, unsignedWithKid } from "./lib/idp.js"
import { emit, log, type Row } from "./lib/report.js"
import { round, since } from "./lib/stats.js"

const count = Number(process.env["BENCH_MEMORY_COUNT"] ?? pick(100_000, 500))
const concurrency = 64
const resource = "http://127.0.0.1:9/mcp"

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error("run with node --expose-gc")

const heapAfterGc = async (): Promise<number> => {
  // twice, with a turn of the event loop between, so that weak references and finalizers are settled
  gc()
  await new Promise((resolve) => setImmediate(resolve))
  gc()
  return process.memoryUsage().heapUsed
}

const mb = (bytes: number) => bytes / (1024 * 1024)

/** Runs every token through the guard, `concurrency` at a time; returns how many were accepted. */
const drive = async (auth: McpAuth.McpAuth, tokens: ReadonlyArray<string>): Promise<number> => {
  let next = 0
  let accepted = 0
  const worker = async () => {
    while (next < tokens.length) {
      const token = tokens[next++]!
      if ((await auth.guard({ authorization: bearer(token) })).ok) accepted++
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return accepted
}

/** Garbage of several shapes: random text, three random segments, unknown kids, and signatures that do not match. */
const garbage = (n: number, issuer: string, sample: string): Array<string> =>
  Array.from({ length: n }, (_, i) => {
    switch (i % 4) {
      case 0:
        return randomBytes(48).toString("base64url")
      case 1:
        return `${randomBytes(24).toString("base64url")}.${randomBytes(120).toString("base64url")}.${randomBytes(64).toString("base64url")}`
      case 2:
        return unsignedWithKid(`nope-${i}`, claims(issuer, resource, i))
      default: {
        const [h, , s] = sample.split(".")
        return `${h}.${Buffer.from(JSON.stringify(claims(issuer, resource, i))).toString("base64url")}.${s}`
      }
    }
  })

const main = async () => {
  const key = await signingKey("EdDSA")
  const idp = await startJwksServer([key])
  const sign = fastSigner(key)
  log(`memory: minting ${count} tokens`)
  const valid = Array.from({ length: count }, (_, n) => sign(claims(idp.issuer, resource, n)))
  const junk = garbage(count, idp.issuer, valid[0]!)
  const warmJunk = garbage(200, idp.issuer, valid[0]!)
  const rows: Array<Row> = []
  const details: Record<string, unknown> = { count, concurrency }

  for (const { cache, validCount, junkCount } of [
    { cache: true, validCount: count, junkCount: count },
    { cache: false, validCount: Math.ceil(count / 50), junkCount: 0 }
  ]) {
    const label = cache ? "cache on" : "cache off"
    const auth = await makeAuth({ idp, resource, cache })
    // warm: the key set is fetched and imported, both paths are compiled, before the baseline is taken
    await drive(auth, valid.slice(0, 100))
    await drive(auth, warmJunk)
    const base = await heapAfterGc()
    // in quarters, with the heap measured after each: growth that stops once the cache is full is a bounded cache
    const checkpoints: Array<number> = []
    let accepted = 0
    let validMs = 0
    for (let q = 0; q < 4; q++) {
      const part = valid.slice(Math.floor((validCount * q) / 4), Math.floor((validCount * (q + 1)) / 4))
      const partStart = performance.now()
      accepted += await drive(auth, part)
      validMs += since(partStart)
      checkpoints.push(mb((await heapAfterGc()) - base))
    }
    const afterValid = await heapAfterGc()
    const junkCheckpoints: Array<number> = []
    let junkAccepted = 0
    let junkMs = 0
    for (let q = 0; q < (junkCount > 0 ? 4 : 0); q++) {
      const part = junk.slice(Math.floor((junkCount * q) / 4), Math.floor((junkCount * (q + 1)) / 4))
      const partStart = performance.now()
      junkAccepted += await drive(auth, part)
      junkMs += since(partStart)
      junkCheckpoints.push(mb((await heapAfterGc()) - afterValid))
    }
    const afterJunk = await heapAfterGc()
    if (accepted !== validCount || junkAccepted !== 0) throw new Error(`${label}: ${accepted} valid accepted, ${junkAccepted} garbage accepted`)
    const validGrowth = mb(afterValid - base)
    const junkGrowth = mb(afterJunk - afterValid)
    log(`memory ${label}: valid +${round(validGrowth)} MB in ${Math.round(validMs)} ms, garbage +${round(junkGrowth)} MB in ${Math.round(junkMs)} ms`)
    rows.push({
      section: "memory",
      name: `${validCount} distinct valid tokens, ${label}: heap growth`,
      value: validGrowth,
      unit: "MB",
      note: cache
        ? `after each quarter ${checkpoints.map((c) => round(c, 1)).join(" / ")} MB; the cache holds at most ${VerifiedTokenCache.defaults.maxEntries} entries (≈ ${Math.round((validGrowth * 1024 * 1024) / Math.min(validCount, VerifiedTokenCache.defaults.maxEntries))} B each); ${Math.round(validMs)} ms`
        : `after each quarter ${checkpoints.map((c) => round(c, 1)).join(" / ")} MB; ${Math.round(validMs)} ms`
    })
    if (junkCount > 0) rows.push({
      section: "memory",
      name: `${junkCount} garbage tokens, ${label}: heap growth`,
      value: junkGrowth,
      unit: "MB",
      note: `after each quarter ${junkCheckpoints.map((c) => round(c, 1)).join(" / ")} MB; refusals are never cached; ${Math.round(junkMs)} ms`
    })
    details[label] = { base, checkpoints, afterValid, junkCheckpoints, afterJunk, validMs, junkMs }
    await auth.dispose()
  }
  await idp.close()
  emit({ section: "memory", rows, details })
}

await main()
