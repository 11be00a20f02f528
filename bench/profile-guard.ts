/** Profiling aid: a tight loop of guard calls (BENCH_PROFILE_TOKENS=repeated|distinct, BENCH_PROFILE_ALG). */
import * as jose from "jose"
import { bearer, makeAuth } from "./lib/auth.js"
import { type Alg, claims, mint, signingKey, startJwksServer } from "./lib/idp.js"

const alg = (process.env["BENCH_PROFILE_ALG"] ?? "ES256") as Alg
const mode = process.env["BENCH_PROFILE_TOKENS"] ?? "distinct"
const count = Number(process.env["BENCH_PROFILE_COUNT"] ?? 5000)
const resource = "http://127.0.0.1:9/mcp"
const key = await signingKey(alg)
const idp = await startJwksServer([key])
const auth = await makeAuth({ idp, resource, cache: process.env["BENCH_PROFILE_CACHE"] !== "0" })
const tokens = await Promise.all(Array.from({ length: mode === "repeated" ? 1 : count }, (_, n) => mint(key, claims(idp.issuer, resource, n))))
const at = (i: number) => tokens[mode === "repeated" ? 0 : i]!
for (let pass = 0; pass < 2; pass++) {
  let start = performance.now()
  for (let i = 0; i < count; i++) {
    const outcome = await auth.guard({ authorization: bearer(at(i)) })
    if (!outcome.ok) throw new Error("refused")
  }
  const guardUs = ((performance.now() - start) * 1000) / count
  start = performance.now()
  for (let i = 0; i < count; i++) await jose.jwtVerify(at(i), key.publicKey, { issuer: idp.issuer, audience: resource })
  const joseUs = ((performance.now() - start) * 1000) / count
  console.log(`pass ${pass}: guard ${guardUs.toFixed(1)} µs/op, jose ${joseUs.toFixed(1)} µs/op, ratio ${(guardUs / joseUs).toFixed(2)}`)
}
await auth.dispose()
await idp.close()
