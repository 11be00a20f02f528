import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Metric } from "effect"
import * as jose from "jose"
import * as McpAuth from "../src/McpAuth.js"
import * as Custom from "../src/providers/Custom.js"
import { serveKeySet } from "./support/staticJwks.js"
import * as Telemetry from "../src/Telemetry.js"

// a real key set over HTTP, so that the first verification has to wait for the fetch and later ones do not
let keySet: Awaited<ReturnType<typeof serveKeySet>>
let issuer: string
let privateKey: CryptoKey
let auth: McpAuth.McpAuth
const resource = "http://127.0.0.1:9/mcp"
const kid = "check-key"

const mint = (claims: Record<string, unknown>, expiresIn = "5m") =>
  new jose.SignJWT({ scope: "mcp", ...claims })
    .setProtectedHeader({ alg: "ES256", kid })
    .setIssuer(issuer)
    .setAudience(resource)
    .setSubject("someone")
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(privateKey)

const count = (counter: Metric.Metric.Counter<number>, reason?: string) =>
  Effect.runSync(Metric.value(reason === undefined ? counter : Metric.tagged(counter, "reason", reason))).count

const request = (token: string) => ({ authorization: [`Bearer ${token}`] })

beforeAll(async () => {
  keySet = await serveKeySet("ES256", kid)
  privateKey = keySet.privateKey
  issuer = keySet.issuer
  auth = await McpAuth.make(
    McpAuth.layer({ resource, scopesSupported: ["mcp"] }, Custom.layer({ issuer, jwksUri: keySet.jwksUri, mirrorMetadata: false }))
  )
})

afterAll(async () => {
  await auth?.dispose()
  await keySet?.close()
})

describe("McpAuth.check", () => {
  it("waits for the key set once, then answers at once: valid, cached and refused tokens alike", async () => {
    const first = auth.check(request(await mint({ jti: "first" })))
    expect(first).toBeInstanceOf(Promise)
    expect((await first).ok).toBe(true)

    const fresh = auth.check(request(await mint({ jti: "second" })))
    expect(fresh).not.toBeInstanceOf(Promise)
    expect((fresh as McpAuth.GuardOutcome).ok).toBe(true)

    const expired = auth.check(request(await mint({ jti: "old" }, "-5m")))
    expect(expired).not.toBeInstanceOf(Promise)
    const refused = expired as McpAuth.GuardOutcome
    expect(refused.ok === false && refused.answer.status).toBe(401)
    expect(refused.ok === false && refused.answer.headers["www-authenticate"]).toContain('error="invalid_token"')
  })

  it("agrees with guard, and counts successes and failures by reason", async () => {
    const token = await mint({ jti: "counted" })
    const successes = count(Telemetry.authSuccesses)
    const expired = count(Telemetry.authFailures, "expired")
    const missing = count(Telemetry.authFailures, "MissingToken")
    const viaCheck = auth.check(request(token)) as McpAuth.GuardOutcome
    const viaGuard = await auth.guard(request(token))
    expect(viaCheck.ok && viaGuard.ok && viaCheck.authInfo.subject === viaGuard.authInfo.subject).toBe(true)
    await auth.guard(request(await mint({ jti: "late" }, "-5m")))
    await auth.guard({ authorization: [] })
    expect(count(Telemetry.authSuccesses)).toBe(successes + 2)
    expect(count(Telemetry.authFailures, "expired")).toBe(expired + 1)
    expect(count(Telemetry.authFailures, "MissingToken")).toBe(missing + 1)
  })

  it("hands every accepted request the same CORS headers, frozen so no request can change the next one's", async () => {
    const a = auth.check(request(await mint({ jti: "a" }))) as McpAuth.GuardOutcome
    const b = auth.check(request(await mint({ jti: "b" }))) as McpAuth.GuardOutcome
    expect(a.ok && b.ok && a.headers === b.headers).toBe(true)
    expect(a.ok && a.headers["access-control-allow-origin"]).toBe("*")
    expect(a.ok && Object.isFrozen(a.headers)).toBe(true)
  })

  it("renders a refusal once per reason and shares it frozen, while extra requirements still get their own challenge", async () => {
    const refuse = async (token: string, scopes?: ReadonlyArray<string>) => {
      const outcome = await auth.guard({ ...request(token), ...(scopes === undefined ? {} : { requirements: { scopes } }) })
      if (outcome.ok) throw new Error("accepted")
      return outcome.answer
    }
    const [first, second] = [await refuse(await mint({ jti: "x" }, "-5m")), await refuse(await mint({ jti: "y" }, "-5m"))]
    expect(first).toBe(second)
    expect(Object.isFrozen(first) && Object.isFrozen(first.headers)).toBe(true)
    const other = await refuse("not-a-jwt")
    expect(other).not.toBe(first)
    expect(JSON.parse(other.body!).error_description).not.toBe(JSON.parse(first.body!).error_description)
    const stepUp = await refuse(await mint({ jti: "z" }, "-5m"), ["admin"])
    expect(stepUp).not.toBe(first)
    expect(stepUp.headers["www-authenticate"]).toContain('scope="admin"')
  })
})
