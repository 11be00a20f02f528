/**
 * Observability against the real test IdP: the spans a guard request emits (names, outcome and failure reason), the
 * counters it moves, that nothing a tracer or the metric registry sees ever holds a token or a secret, and that
 * without a `telemetry` option the runtime's tracer is off.
 */
import { Custom, McpAuth, MultiIssuer } from "@mcp-oauth/auth-core"
import * as Introspection from "@mcp-oauth/auth-core/providers/Introspection"
import * as Telemetry from "@mcp-oauth/auth-core/Telemetry"
import { getTokens, startTestIdp, type TestIdp } from "@mcp-oauth/testing"
import { FastCheck as fc, FiberRef, Layer, ManagedRuntime, Redacted } from "effect"
import * as jose from "jose"
import * as crypto from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { counted, everythingSeen, makeRecorder, type RecordedSpan } from "./support/recordingTracer.js"
import { freePort } from "./support/harness.js"

const client = {
  client_id: "telemetry-resource-server",
  client_secret: `telemetry-secret-${crypto.randomBytes(12).toString("hex")}`,
  token_endpoint_auth_method: "client_secret_basic" as const,
  redirect_uris: [],
  response_types: [],
  grant_types: []
}
const basicCredentials = Buffer.from(`${client.client_id}:${client.client_secret}`).toString("base64")

/** The documented span names, plus the HTTP client's own spans (`http.client GET` …) around outbound calls. */
const documented = new Set<string>([...Object.values(Telemetry.Span), ...Object.values(Telemetry.StoreSpan)])
const isDocumented = (name: string) => documented.has(name) || name.startsWith("http.client ")

const recorder = makeRecorder()
let idp: TestIdp
let resource: string
let opaqueResource: string
let jwtAuth: McpAuth.McpAuth
let introspectedAuth: McpAuth.McpAuth
let deadAuth: McpAuth.McpAuth

const bearer = (token: string) => ({ authorization: [`Bearer ${token}`] })
const named = (name: string, spans: ReadonlyArray<RecordedSpan> = recorder.spans) => spans.filter((s) => s.name === name)
const attribute = (span: RecordedSpan | undefined, key: string) => span?.attributes.get(key)

beforeAll(async () => {
  const port = await freePort()
  resource = `http://127.0.0.1:${port}/mcp`
  opaqueResource = `http://127.0.0.1:${port}/opaque`
  idp = await startTestIdp({
    resource,
    opaqueResources: [opaqueResource],
    staticClients: [client],
    // a real IdP-signed token that is already expired, for the account named so
    customizeAccessToken: ({ payload }) => {
      if (payload["sub"] === "expired-user" && typeof payload["iat"] === "number") payload["exp"] = payload["iat"] - 600
    }
  })
  const introspection = (endpoint?: string) =>
    Introspection.layer({
      issuer: idp.issuer,
      clientId: client.client_id,
      clientSecret: Redacted.make(client.client_secret),
      ...(endpoint === undefined ? {} : { endpoint })
    })
  jwtAuth = await McpAuth.make(
    McpAuth.layer({ resource, scopesSupported: ["mcp"] }, Custom.layer({ issuer: idp.issuer }), { telemetry: recorder.layer })
  )
  introspectedAuth = await McpAuth.make(
    McpAuth.layer({ resource: opaqueResource, scopesSupported: ["mcp"] }, introspection(), { telemetry: recorder.layer })
  )
  const deadPort = await freePort()
  deadAuth = await McpAuth.make(
    McpAuth.layer(
      { resource: opaqueResource, scopesSupported: ["mcp"] },
      introspection(`http://127.0.0.1:${deadPort}/token/introspection`),
      { telemetry: recorder.layer }
    )
  )
})

afterAll(async () => {
  await Promise.all([jwtAuth?.dispose(), introspectedAuth?.dispose(), deadAuth?.dispose()])
  await idp?.close()
})

describe("spans and counters of a guard request", () => {
  it("a valid token: documented spans only, the verification ok, the key set and metadata fetched and counted", async () => {
    const jwksBefore = await counted(Telemetry.outboundCalls, { target: "jwks", outcome: "ok" })
    const metadataBefore = await counted(Telemetry.outboundCalls, { target: "authorization server metadata", outcome: "ok" })
    const successesBefore = await counted(Telemetry.authSuccesses, {})
    const tokens = await getTokens({ idp, resource, scope: "mcp" })
    recorder.clear()
    const outcome = await jwtAuth.guard(bearer(tokens.access_token))
    expect(outcome.ok).toBe(true)
    expect(await counted(Telemetry.authSuccesses, {})).toBe(successesBefore + 1)

    expect(recorder.spans.map((s) => s.name).filter((name) => !isDocumented(name))).toEqual([])
    const guard = named(Telemetry.Span.guard)
    expect(guard.map((s) => attribute(s, Telemetry.Attribute.outcome))).toEqual(["ok"])
    const verify = named(Telemetry.Span.verifyToken)
    expect(verify).toHaveLength(1)
    expect(verify[0]?.parentId).toBe(guard[0]?.spanId)
    expect(attribute(verify[0], Telemetry.Attribute.outcome)).toBe("ok")
    expect(attribute(verify[0], Telemetry.Attribute.verifier)).toBe("jwt")
    expect(verify[0]?.attributes.has(Telemetry.Attribute.failureReason)).toBe(false)

    // the first token made this server discover the issuer and fetch its keys, each an outbound call in its step
    const discovery = named(Telemetry.Span.discoveryFetch)
    expect(discovery.map((s) => attribute(s, Telemetry.Attribute.issuer))).toEqual([idp.issuer])
    expect(attribute(discovery[0], Telemetry.Attribute.outcome)).toBe("ok")
    const calls = named(Telemetry.Span.outboundCall)
    expect(calls.map((s) => attribute(s, Telemetry.Attribute.target)).sort()).toEqual(["authorization server metadata", "jwks"])
    const metadataCall = calls.find((s) => attribute(s, Telemetry.Attribute.target) === "authorization server metadata")
    expect(metadataCall?.parentId).toBe(discovery[0]?.spanId)
    expect(calls.every((s) => attribute(s, Telemetry.Attribute.outcome) === "ok")).toBe(true)
    expect(await counted(Telemetry.outboundCalls, { target: "jwks", outcome: "ok" })).toBe(jwksBefore + 1)
    expect(await counted(Telemetry.outboundCalls, { target: "authorization server metadata", outcome: "ok" })).toBe(metadataBefore + 1)
  })

  it("an expired IdP-signed token: refused with the reason `expired` on the verification span", async () => {
    const expiredBefore = await counted(Telemetry.authFailures, { reason: "expired" })
    const tokens = await getTokens({ idp, resource, scope: "mcp", loginHint: "expired-user" })
    recorder.clear()
    const outcome = await jwtAuth.guard(bearer(tokens.access_token))
    expect(outcome.ok === false && outcome.answer.status).toBe(401)
    expect(await counted(Telemetry.authFailures, { reason: "expired" })).toBe(expiredBefore + 1)
    expect(named(Telemetry.Span.guard).map((s) => attribute(s, Telemetry.Attribute.failureReason))).toEqual(["expired"])
    const verify = named(Telemetry.Span.verifyToken)
    expect(verify).toHaveLength(1)
    expect(attribute(verify[0], Telemetry.Attribute.outcome)).toBe("refused")
    expect(attribute(verify[0], Telemetry.Attribute.failureReason)).toBe("expired")
    // the keys are cached by now: no outbound call for this request
    expect(named(Telemetry.Span.outboundCall)).toEqual([])
  })

  it("a signed token from an unknown issuer: refused as `issuer` before any key is fetched", async () => {
    const { privateKey } = await jose.generateKeyPair("ES256")
    const token = await new jose.SignJWT({ scope: "mcp" })
      .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: "elsewhere" })
      .setIssuer("https://unknown-issuer.example")
      .setAudience(resource)
      .setSubject("someone")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(privateKey)
    const issuerBefore = await counted(Telemetry.authFailures, { reason: "issuer" })
    recorder.clear()
    const outcome = await jwtAuth.guard(bearer(token))
    expect(outcome.ok === false && outcome.answer.status).toBe(401)
    expect(await counted(Telemetry.authFailures, { reason: "issuer" })).toBe(issuerBefore + 1)
    const verify = named(Telemetry.Span.verifyToken)
    expect(verify.map((s) => attribute(s, Telemetry.Attribute.failureReason))).toEqual(["issuer"])
    expect(named(Telemetry.Span.jwksFetch)).toEqual([])
  })

  it("several issuers: a token from none of them is refused by the router, with its own verification span", async () => {
    const auth = await McpAuth.make(
      McpAuth.layer({ resource, scopesSupported: ["mcp"] }, MultiIssuer.layer([Custom.layer({ issuer: idp.issuer })]), {
        telemetry: recorder.layer
      })
    )
    try {
      const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url")
      const token = `${encode({ alg: "RS256" })}.${encode({ iss: "https://unknown-issuer.example", sub: "x" })}.c2ln`
      recorder.clear()
      const outcome = await auth.guard(bearer(token))
      expect(outcome.ok === false && outcome.answer.status).toBe(401)
      const verify = named(Telemetry.Span.verifyToken)
      expect(verify.map((s) => [attribute(s, Telemetry.Attribute.verifier), attribute(s, Telemetry.Attribute.failureReason)])).toEqual([
        ["multi_issuer", "issuer"]
      ])
    } finally {
      await auth.dispose()
    }
  })

  it("a verifyToken function: its verdicts are the verification spans, named `function`", async () => {
    const good = crypto.randomBytes(24).toString("base64url")
    const auth = await McpAuth.make(
      McpAuth.layer(
        { resource, scopesSupported: ["mcp"] },
        Custom.layer({
          issuer: idp.issuer,
          verifyToken: async (token) => {
            if (token !== good) throw new Error("unknown token")
            return { subject: "function-user", scopes: ["mcp"] }
          }
        }),
        { telemetry: recorder.layer }
      )
    )
    try {
      recorder.clear()
      expect((await auth.guard(bearer(good))).ok).toBe(true)
      expect((await auth.guard(bearer(crypto.randomBytes(24).toString("base64url")))).ok).toBe(false)
      const verify = named(Telemetry.Span.verifyToken)
      expect(verify.map((s) => [attribute(s, Telemetry.Attribute.verifier), attribute(s, Telemetry.Attribute.outcome), attribute(s, Telemetry.Attribute.failureReason)])).toEqual([
        ["function", "ok", undefined],
        ["function", "refused", "rejected"]
      ])
    } finally {
      await auth.dispose()
    }
  })

  it("introspection: the call is a child span of the verification and is counted; an inactive token is `rejected`", async () => {
    const okBefore = await counted(Telemetry.outboundCalls, { target: "token introspection", outcome: "ok" })
    const tokens = await getTokens({ idp, resource: opaqueResource, scope: "mcp" })
    recorder.clear()
    expect((await introspectedAuth.guard(bearer(tokens.access_token))).ok).toBe(true)
    const verify = named(Telemetry.Span.verifyToken)
    const introspect = named(Telemetry.Span.introspect)
    expect(verify.map((s) => attribute(s, Telemetry.Attribute.verifier))).toEqual(["introspection"])
    expect(introspect).toHaveLength(1)
    expect(introspect[0]?.parentId).toBe(verify[0]?.spanId)
    expect(attribute(introspect[0], Telemetry.Attribute.clientId)).toBe(client.client_id)
    expect(attribute(introspect[0], Telemetry.Attribute.outcome)).toBe("ok")

    recorder.clear()
    const inactive = await introspectedAuth.guard(bearer(crypto.randomBytes(24).toString("base64url")))
    expect(inactive.ok === false && inactive.answer.status).toBe(401)
    expect(named(Telemetry.Span.introspect).map((s) => attribute(s, Telemetry.Attribute.failureReason))).toEqual(["rejected"])
    expect(named(Telemetry.Span.verifyToken).map((s) => attribute(s, Telemetry.Attribute.outcome))).toEqual(["refused"])
    // one exchange for the active token and one for the inactive one (the endpoint came from metadata, counted apart)
    expect(await counted(Telemetry.outboundCalls, { target: "token introspection", outcome: "ok" })).toBe(okBefore + 2)
  })

  it("an unreachable introspection endpoint: 503, an `error` outcome, counted as `unreachable`", async () => {
    const before = await counted(Telemetry.outboundCalls, { target: "token introspection", outcome: "unreachable" })
    const failuresBefore = await counted(Telemetry.authFailures, { reason: "UpstreamUnavailable" })
    recorder.clear()
    const outcome = await deadAuth.guard(bearer(crypto.randomBytes(24).toString("base64url")))
    expect(outcome.ok === false && outcome.answer.status).toBe(503)
    expect(await counted(Telemetry.authFailures, { reason: "UpstreamUnavailable" })).toBe(failuresBefore + 1)
    const guard = named(Telemetry.Span.guard)
    expect(guard.map((s) => [attribute(s, Telemetry.Attribute.outcome), attribute(s, Telemetry.Attribute.failureReason)])).toEqual([
      ["error", "UpstreamUnavailable"]
    ])
    const call = named(Telemetry.Span.outboundCall).find((s) => attribute(s, Telemetry.Attribute.target) === "token introspection")
    expect(attribute(call, Telemetry.Attribute.failureReason)).toBe("unreachable")
    expect(named(Telemetry.Span.verifyToken).map((s) => attribute(s, Telemetry.Attribute.outcome))).toEqual(["error"])
    expect(await counted(Telemetry.outboundCalls, { target: "token introspection", outcome: "unreachable" })).toBe(before + 1)
  })
})

describe("what telemetry records never holds a token or a secret", () => {
  const secrets = () => [client.client_secret, basicCredentials]

  const assertClean = async (tokens: ReadonlyArray<string>) => {
    const seen = (await everythingSeen(recorder.spans)).join("\n")
    for (const value of [...tokens, ...secrets()]) expect(seen.includes(value), "telemetry recorded a token or secret").toBe(false)
  }

  it("for IdP tokens, valid or expired, on both verifiers", async () => {
    const issued = await Promise.all([
      getTokens({ idp, resource, scope: "mcp" }),
      getTokens({ idp, resource, scope: "mcp", loginHint: "expired-user" }),
      getTokens({ idp, resource: opaqueResource, scope: "mcp" })
    ])
    recorder.clear()
    for (const tokens of issued) {
      await jwtAuth.guard(bearer(tokens.access_token))
      await introspectedAuth.guard(bearer(tokens.access_token))
    }
    // the introspection call must really have happened, or the secrets had no chance to appear
    expect(named(Telemetry.Span.introspect).length).toBeGreaterThan(0)
    expect(recorder.spans.length).toBeGreaterThan(issued.length)
    await assertClean(issued.map((t) => t.access_token))
  })

  it("for generated tokens: opaque ones sent for introspection, and JWT-shaped ones naming the real issuer", async () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9_-]{16,48}$/)
    const jwtShaped = fc.record({ jti: segment, signature: segment }).map(({ jti, signature }) => {
      const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url")
      const header = encode({ alg: "RS256", typ: "at+jwt" })
      const payload = encode({ iss: idp.issuer, aud: resource, sub: "someone", jti, exp: Math.floor(Date.now() / 1000) + 300 })
      return `${header}.${payload}.${signature}`
    })
    await fc.assert(
      fc.asyncProperty(segment, jwtShaped, async (opaque, jwt) => {
        recorder.clear()
        const refused = [await introspectedAuth.guard(bearer(opaque)), await jwtAuth.guard(bearer(jwt))]
        expect(refused.map((o) => o.ok)).toEqual([false, false])
        expect(named(Telemetry.Span.verifyToken)).toHaveLength(2)
        await assertClean([opaque, jwt])
      }),
      { numRuns: 25 }
    )
  })
})

describe("the tracer switch", () => {
  const layerWith = (options: McpAuth.LayerOptions) =>
    McpAuth.layer({ resource, scopesSupported: ["mcp"] }, Custom.layer({ issuer: idp.issuer }), options)
  const tracerEnabled = async (options: McpAuth.LayerOptions) => {
    const runtime = ManagedRuntime.make(layerWith(options))
    try {
      return await runtime.runPromise(FiberRef.get(FiberRef.currentTracerEnabled))
    } finally {
      await runtime.dispose()
    }
  }

  it("is off without a telemetry option, on with `true` or a tracer layer", async () => {
    expect(await tracerEnabled({})).toBe(false)
    expect(await tracerEnabled({ telemetry: false })).toBe(false)
    expect(await tracerEnabled({ telemetry: true })).toBe(true)
    expect(await tracerEnabled({ telemetry: recorder.layer })).toBe(true)
  })

  it("without a telemetry option a tracer installed around the layer records nothing, while counters still move", async () => {
    const around = makeRecorder()
    const guardOnce = async (options: McpAuth.LayerOptions) => {
      const auth = await McpAuth.make(layerWith(options).pipe(Layer.provideMerge(around.layer)))
      try {
        const tokens = await getTokens({ idp, resource, scope: "mcp" })
        expect((await auth.guard(bearer(tokens.access_token))).ok).toBe(true)
      } finally {
        await auth.dispose()
      }
    }
    const before = await counted(Telemetry.outboundCalls, { target: "jwks", outcome: "ok" })
    await guardOnce({})
    expect(around.spans.map((s) => s.name)).toEqual([])
    expect(await counted(Telemetry.outboundCalls, { target: "jwks", outcome: "ok" })).toBe(before + 1)
    // the same tracer does see the request once the option keeps Effect's tracer on
    await guardOnce({ telemetry: true })
    expect(named(Telemetry.Span.verifyToken, around.spans)).toHaveLength(1)
  })
})
