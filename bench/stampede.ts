/**
 * 3. Key-set stampede, counted at a local JWKS server: (a) 1,000 concurrent verifications with a `kid` the cache has
 * not seen (the identity provider just rotated) cause exactly one fetch, and all succeed; (b) 10,000 verifications
 * with random unknown kids, sent over several cooldown windows, cause at most one fetch per window.
 */
import * as Duration from "effect/Duration"
import { bearer, makeAuth } from "./lib/auth.js"
import { pick } from "./lib/env.js"
import { claims, mint, signingKey, startJwksServer, unsignedWithKid } from "./lib/idp.js"
import { emit, log, type Row } from "./lib/report.js"
import { since } from "./lib/stats.js"

const rotated = pick(1_000, 50)
const unknown = pick(10_000, 200)
const cooldownMs = pick(1_000, 200)
const windows = pick(4, 2)
const resource = "http://127.0.0.1:9/mcp"

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const main = async () => {
  const first = await signingKey("ES256", "key-1")
  const idp = await startJwksServer([first])
  const auth = await makeAuth({ idp, resource, cooldown: Duration.millis(cooldownMs) })
  const warm = await auth.guard({ authorization: bearer(await mint(first, claims(idp.issuer, resource, 0))) })
  if (!warm.ok) throw new Error("warm-up token refused")
  const rows: Array<Row> = []

  // (a) rotation: a new key is published; tokens signed with it arrive all at once
  const second = await signingKey("ES256", "key-2")
  idp.publish([first, second])
  const tokens = await Promise.all(Array.from({ length: rotated }, (_, n) => mint(second, claims(idp.issuer, resource, n))))
  await sleep(cooldownMs + 50) // the unknown-kid refresh is allowed again
  let before = idp.fetches()
  let start = performance.now()
  const outcomes = await Promise.all(tokens.map((token) => auth.guard({ authorization: bearer(token) })))
  const rotationMs = since(start)
  const rotationFetches = idp.fetches() - before
  const accepted = outcomes.filter((o) => o.ok).length
  log(`stampede: ${rotated} concurrent new-kid tokens → ${rotationFetches} fetch(es), ${accepted} accepted in ${Math.round(rotationMs)} ms`)
  rows.push({
    section: "stampede",
    name: `${rotated} concurrent tokens with a new kid: JWKS fetches`,
    value: rotationFetches,
    unit: "fetches",
    ratio: rotationFetches,
    target: "== 1",
    pass: rotationFetches === 1 && accepted === rotated,
    note: `${accepted}/${rotated} accepted, ${Math.round(rotationMs)} ms for the burst`
  })

  // (b) junk: random unknown kids, spread over several cooldown windows
  await sleep(cooldownMs + 50)
  before = idp.fetches()
  const perWave = Math.ceil(unknown / (windows * 10))
  let sent = 0
  let refused = 0
  start = performance.now()
  while (sent < unknown) {
    const wave = Array.from({ length: Math.min(perWave, unknown - sent) }, (_, i) =>
      unsignedWithKid(`junk-${sent + i}-${Math.random().toString(36).slice(2)}`, claims(idp.issuer, resource, sent + i))
    )
    sent += wave.length
    const answers = await Promise.all(wave.map((token) => auth.guard({ authorization: bearer(token) })))
    refused += answers.filter((o) => !o.ok && o.answer.status === 401).length
    await sleep(cooldownMs / 10)
  }
  const junkMs = since(start)
  const junkFetches = idp.fetches() - before
  // a window starts at each fetch's end; over `junkMs` at most ⌈junkMs / cooldown⌉ windows can open
  const allowed = Math.ceil(junkMs / cooldownMs)
  log(`stampede: ${unknown} unknown-kid tokens over ${Math.round(junkMs)} ms → ${junkFetches} fetch(es), at most ${allowed} allowed`)
  rows.push({
    section: "stampede",
    name: `${unknown} tokens with random unknown kids: fetches per ${cooldownMs} ms cooldown window`,
    value: junkFetches,
    unit: "fetches",
    baseline: { name: "windows elapsed", value: allowed },
    ratio: junkFetches / allowed,
    target: "<= 1 per window",
    pass: junkFetches <= allowed && refused === unknown,
    note: `${refused}/${unknown} refused with 401 over ${Math.round(junkMs)} ms`
  })

  await auth.dispose()
  await idp.close()
  emit({ section: "stampede", rows, details: { rotated, unknown, cooldownMs, windows, rotationMs, junkMs } })
}

await main()
