/**
 * Issue 7, item 3: sustained loopback load on each adapter (node, express, hono) with valid and invalid tokens mixed,
 * every response checked. The protected `whoami` MCP server runs in a child process (reliability/support/load-server.ts)
 * and autocannon drives it from this one at capacity (many connections, no pacing).
 *
 * Tokens come from the real test IdP (oidc-provider): several distinct valid ones (each repeated as the request list
 * cycles), and invalid ones of every kind the guard must refuse: expired (IdP-signed with a past `exp`), issued for
 * another resource, without the required scope, a signature taken from another token, a payload edited under a
 * valid signature, signed by an unknown key under the IdP's `kid`, garbage, a malformed bearer header, another
 * scheme, and none at all.
 * A response is right only if it is the exact answer: 200 with the token's own subject in the tool result, or the
 * exact status and RFC 6750 error code. Any 5xx, connection error or timeout fails the run.
 *
 * Environment: RELIABILITY_LOAD_SECONDS (default 60, 3 under RELIABILITY_QUICK=1), RELIABILITY_LOAD_CONNECTIONS
 * (default 32), RELIABILITY_ADAPTERS (default node,express,hono).
 */
import { randomBytes } from "node:crypto"
import autocannon from "autocannon"
import * as jose from "jose"
import { getTokens, startTestIdp } from "@mcp-oauth/testing"
import { freePort, startChild } from "./support/load-child.js"
import { emit, envNumber, log, quick, type Row } from "./support/load-report.js"
import { whoamiCall, whoamiHeaders, whoamiText } from "./support/load-tools.js"

const seconds = envNumber("RELIABILITY_LOAD_SECONDS", quick ? 3 : 60)
const connections = envNumber("RELIABILITY_LOAD_CONNECTIONS", quick ? 8 : 32)
const distinctValid = quick ? 4 : 24
const adapters = (process.env["RELIABILITY_ADAPTERS"] ?? "node,express,hono").split(",").filter((a) => a !== "")

/** One request of the mix and the only answer that is right for it. */
interface Case {
  readonly kind: string
  readonly authorization?: string | undefined
  /** 200 with this subject in the tool result, or a refusal. */
  readonly expect: { readonly status: 200; readonly subject: string } | { readonly status: 400 | 401 | 403; readonly error: string | undefined }
}

/** Per-kind tallies of one adapter's run. */
interface Tally {
  readonly responses: Record<string, number>
  readonly wrong: Record<string, number>
  readonly examples: Array<string>
  serverErrors: number
}

const segments = (token: string) => token.split(".") as [string, string, string]

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")

/** The token mix, from the test IdP plus local forgeries of its tokens. */
const buildCases = async (idp: Awaited<ReturnType<typeof startTestIdp>>, resource: string, other: string): Promise<Array<Case>> => {
  const valid = await Promise.all(
    Array.from({ length: distinctValid }, async (_, i) => {
      const subject = `load-user-${i}`
      const { access_token } = await getTokens({ idp, resource, scope: "mcp", loginHint: subject })
      return { subject, token: access_token }
    })
  )
  const expired = (await getTokens({ idp, resource, scope: "mcp", loginHint: "expired-user" })).access_token
  const otherAudience = (await getTokens({ idp, resource: other, scope: "mcp", loginHint: "load-user-0" })).access_token
  const noScope = (await getTokens({ idp, resource, scope: "admin", loginHint: "load-user-1" })).access_token

  const [h0, p0] = segments(valid[0]!.token)
  const [, p1, s1] = segments(valid[1]!.token)
  // the payload of one valid token under the signature of another: both parts genuine, the pair not
  const swappedSignature = `${h0}.${p0}.${s1}`
  // a valid token whose subject was edited afterwards: the one forgery that would change who the caller is
  const editedPayload = `${h0}.${b64({ ...JSON.parse(Buffer.from(p1, "base64url").toString()), sub: valid[0]!.subject })}.${s1}`
  const header = JSON.parse(Buffer.from(h0, "base64url").toString()) as { alg: string; kid: string }
  const attacker = await jose.generateKeyPair(header.alg, { extractable: true })
  const unknownKey = await new jose.SignJWT(JSON.parse(Buffer.from(p0, "base64url").toString()) as jose.JWTPayload)
    .setProtectedHeader({ alg: header.alg, kid: header.kid, typ: "at+jwt" })
    .sign(attacker.privateKey)

  const refused = (kind: string, authorization: string | undefined, status: 400 | 401 | 403, error: string | undefined): Case => ({
    kind,
    authorization,
    expect: { status, error }
  })
  const invalid: Array<Case> = [
    refused("expired", `Bearer ${expired}`, 401, "invalid_token"),
    refused("wrong audience", `Bearer ${otherAudience}`, 401, "invalid_token"),
    refused("forged: swapped signature", `Bearer ${swappedSignature}`, 401, "invalid_token"),
    refused("forged: edited payload", `Bearer ${editedPayload}`, 401, "invalid_token"),
    refused("forged: unknown key", `Bearer ${unknownKey}`, 401, "invalid_token"),
    refused("garbage", `Bearer ${randomBytes(24).toString("base64url")}`, 401, "invalid_token"),
    refused("garbage", `Bearer ${randomBytes(12).toString("base64url")}.${randomBytes(40).toString("base64url")}.${randomBytes(32).toString("base64url")}`, 401, "invalid_token"),
    refused("malformed bearer", `Bearer ${randomBytes(8).toString("hex")} ${randomBytes(8).toString("hex")}`, 400, "invalid_request"),
    // another scheme carries no bearer token at all (RFC 6750 §3.1: a bare challenge, no error code)
    refused("other scheme", `Basic ${Buffer.from("user:pass").toString("base64")}`, 401, undefined),
    refused("missing", undefined, 401, undefined),
    refused("insufficient scope", `Bearer ${noScope}`, 403, "insufficient_scope")
  ]
  // valid and invalid alternate, so every connection sees both kinds back to back
  const cases: Array<Case> = []
  const rounds = Math.max(valid.length, invalid.length)
  for (let i = 0; i < rounds; i++) {
    const ok = valid[i % valid.length]!
    cases.push({ kind: "valid", authorization: `Bearer ${ok.token}`, expect: { status: 200, subject: ok.subject } })
    cases.push(invalid[i % invalid.length]!)
  }
  return cases
}

/** Whether a response is exactly the answer `c` calls for; a reason when not. */
const judge = (c: Case, status: number, body: string, headers: Record<string, unknown>): string | undefined => {
  if (status !== c.expect.status) return `status ${status}, expected ${c.expect.status}`
  if (c.expect.status === 200) return body.includes(whoamiText(c.expect.subject)) ? undefined : `200 without ${whoamiText(c.expect.subject)}: ${body.slice(0, 200)}`
  const challenge = String(headers["www-authenticate"] ?? "")
  if (!challenge.startsWith("Bearer ")) return `no Bearer challenge (${challenge})`
  if (!challenge.includes("resource_metadata=")) return `challenge without resource_metadata (${challenge})`
  const error = /error="([^"]*)"/.exec(challenge)?.[1]
  return error === c.expect.error ? undefined : `error ${error ?? "none"}, expected ${c.expect.error ?? "none"}`
}

const loadAdapter = async (adapter: string, cases: ReadonlyArray<Case>, env: Record<string, string>, port: number) => {
  const server = await startChild("reliability/support/load-server.ts", { ...env, RELIABILITY_ADAPTER: adapter })
  const tally: Tally = { responses: {}, wrong: {}, examples: [], serverErrors: 0 }
  const record = (c: Case, status: number, body: string, headers: Record<string, unknown>) => {
    tally.responses[c.kind] = (tally.responses[c.kind] ?? 0) + 1
    if (status >= 500) tally.serverErrors++
    const wrong = judge(c, status, body, headers)
    if (wrong === undefined) return
    tally.wrong[c.kind] = (tally.wrong[c.kind] ?? 0) + 1
    if (tally.examples.length < 5) tally.examples.push(`${c.kind}: ${wrong}`)
  }
  try {
    // one pass over the mix first (checked like the rest): the key set is fetched and the code warmed before the clock runs
    for (const c of cases) {
      const response = await fetch(`http://127.0.0.1:${port}/mcp`, {
        method: "POST",
        headers: c.authorization === undefined ? whoamiHeaders() : { ...whoamiHeaders(), authorization: c.authorization },
        body: whoamiCall,
        signal: AbortSignal.timeout(30_000)
      })
      record(c, response.status, await response.text(), Object.fromEntries(response.headers))
    }
    const result = await autocannon({
      url: `http://127.0.0.1:${port}/mcp`,
      connections,
      duration: seconds,
      // a request that hangs is a failure, not a slow sample
      timeout: 10,
      requests: cases.map((c) => ({
        method: "POST" as const,
        path: "/mcp",
        headers: c.authorization === undefined ? whoamiHeaders() : { ...whoamiHeaders(), authorization: c.authorization },
        body: whoamiCall,
        onResponse: (status: number, body: string, _context: unknown, headers: Record<string, unknown> = {}) => record(c, status, body, headers)
      }))
    })
    const alive = !server.exited()
    return { result, tally, alive, logs: server.stderr() }
  } finally {
    await server.stop()
  }
}

const main = async () => {
  const port = await freePort()
  const resource = `http://127.0.0.1:${port}/mcp`
  const other = `http://127.0.0.1:${port}/other`
  const idp = await startTestIdp({
    resource: [resource, other],
    scopes: ["mcp", "admin"],
    // the IdP signs this account's tokens already expired: a real signature over a past `exp`
    customizeAccessToken: ({ payload }) => {
      if (payload["sub"] === "expired-user") {
        const now = Math.floor(Date.now() / 1000)
        Object.assign(payload, { iat: now - 600, nbf: now - 600, exp: now - 300 })
      }
    }
  })
  const rows: Array<Row> = []
  const details: Record<string, unknown> = { seconds, connections, distinctValid }
  try {
    const cases = await buildCases(idp, resource, other)
    log(`load: ${adapters.join(", ")}; ${seconds}s each at ${connections} connections; ${cases.length} requests in the mix (${distinctValid} distinct valid tokens)`)
    const env = { RELIABILITY_PORT: String(port), RELIABILITY_ISSUER: idp.issuer, RELIABILITY_JWKS_URI: idp.jwksUri, RELIABILITY_RESOURCE: resource }
    for (const adapter of adapters) {
      log(`load: ${adapter}`)
      const { result, tally, alive, logs } = await loadAdapter(adapter, cases, env, port)
      const checked = Object.values(tally.responses).reduce((a, b) => a + b, 0)
      const valid = tally.responses["valid"] ?? 0
      const wrong = Object.values(tally.wrong).reduce((a, b) => a + b, 0)
      const failures = result.errors + result.timeouts
      const pass = wrong === 0 && tally.serverErrors === 0 && failures === 0 && alive && checked > 0 && valid > 0 && checked - valid > 0
      const rps = result.requests.total / Math.max(result.duration, 0.001)
      rows.push({
        section: "load",
        name: `${adapter}: mixed tokens, every response checked`,
        value: rps,
        unit: "req/s",
        target: "0 wrong, 0 5xx, 0 errors",
        pass,
        note:
          `${checked} checked (${valid} valid, ${checked - valid} invalid), ${wrong} wrong, ${tally.serverErrors} 5xx, ` +
          `${result.errors} errors, ${result.timeouts} timeouts; p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms` +
          (alive ? "" : "; server died") +
          (tally.examples.length > 0 ? `; e.g. ${tally.examples.join(" | ")}` : "")
      })
      details[adapter] = {
        rps,
        total: result.requests.total,
        checked,
        responses: tally.responses,
        wrong: tally.wrong,
        examples: tally.examples,
        serverErrors: tally.serverErrors,
        errors: result.errors,
        timeouts: result.timeouts,
        latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
        serverLogTail: logs.slice(-1000)
      }
    }
  } finally {
    await idp.close()
  }
  emit({ section: "load", rows, details })
}

await main()
