/**
 * Observability of the OAuth proxy: a whole flow by the official SDK client (register, consent, upstream sign-in,
 * callback, token, tool call) emits the documented step spans and counts, and nothing the tracer or the metric
 * registry saw holds any authorization code, state, cookie, token or the upstream client secret of that flow.
 */
import { McpAuth, OAuthProxy } from "@mcp-oauth/auth-core"
import * as Telemetry from "@mcp-oauth/auth-core/Telemetry"
import { BrowserDriver, connectSdkV1, startTestIdp, type TestIdp } from "@mcp-oauth/testing"
import { Redacted } from "effect"
import * as crypto from "node:crypto"
import { afterAll, beforeAll, expect, it } from "vitest"
import { listen, type Listening } from "../src/index.js"
import { statelessHandlerV1 } from "../src/sdkV1.js"
import { createWhoamiServer, freePort } from "./support/harness.js"
import { counted, everythingSeen, makeRecorder } from "./support/recordingTracer.js"

const upstreamClientId = "telemetry-proxy-upstream"
const upstreamSecret = `telemetry-proxy-secret-${crypto.randomBytes(12).toString("hex")}`

const recorder = makeRecorder()
let idp: TestIdp
let running: Listening
let resource: string

beforeAll(async () => {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  resource = `${origin}/mcp`
  idp = await startTestIdp({
    resource,
    registration: false,
    staticClients: [
      {
        client_id: upstreamClientId,
        client_secret: upstreamSecret,
        redirect_uris: [`${origin}/oauth/callback`],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic"
      }
    ]
  })
  const auth = await McpAuth.make(
    McpAuth.layer(
      { resource, scopesSupported: ["mcp"] },
      OAuthProxy.layer({ upstream: { issuer: idp.issuer, clientId: upstreamClientId, clientSecret: Redacted.make(upstreamSecret) } }),
      { telemetry: recorder.layer }
    )
  )
  running = await listen(auth, statelessHandlerV1(createWhoamiServer), { port })
})

afterAll(async () => {
  await running?.close()
  await idp?.close()
})

it("a whole proxy flow: step spans and counts, and no code, state, cookie, token or secret in telemetry", async () => {
  // every value the browser carried: query parameters of each URL it visited or was redirected to, and cookies set
  const carried = new Set<string>()
  const keep = (value: string | null | undefined) => {
    if (value !== null && value !== undefined && value.length >= 8) carried.add(value)
  }
  const codes = new Set<string>()
  const noteUrl = (url: string | URL) => {
    for (const [name, value] of new URL(url).searchParams) {
      if (name === "code") codes.add(value)
      if (["code", "state", "code_challenge"].includes(name)) keep(value)
    }
  }
  const recordingFetch: typeof fetch = async (input, init) => {
    noteUrl(input instanceof Request ? input.url : input)
    const response = await fetch(input, init)
    const location = response.headers.get("location")
    if (location !== null) noteUrl(new URL(location, response.url))
    for (const cookie of response.headers.getSetCookie()) keep(/^[^=]+=([^;]*)/.exec(cookie)?.[1])
    return response
  }
  const tokenBefore = await counted(Telemetry.proxySteps, { step: "token", outcome: "ok" })
  recorder.clear()

  const session = await connectSdkV1({
    url: resource,
    approveConsent: true,
    browser: new BrowserDriver({ fetch: recordingFetch, approveConsent: true })
  })
  try {
    const whoami = JSON.parse((await session.callTool("whoami")).content[0]?.text ?? "null") as { user?: { userId?: string } }
    expect(whoami.user?.userId).toBe("test-user")
  } finally {
    await session.close()
  }

  const names = new Set(recorder.spans.map((s) => s.name))
  for (const step of [
    Telemetry.Span.proxyRegister,
    Telemetry.Span.proxyAuthorize,
    Telemetry.Span.proxyConsent,
    Telemetry.Span.proxyCallback,
    Telemetry.Span.proxyToken
  ]) {
    expect(names.has(step), step).toBe(true)
  }
  expect(await counted(Telemetry.proxySteps, { step: "token", outcome: "ok" })).toBe(tokenBefore + 1)

  // the flow really carried codes and states (the proxy's and the upstream's), and issued tokens
  const tokens = session.provider.tokenHistory.flatMap((t) => [t.access_token, t.refresh_token ?? ""]).filter((t) => t !== "")
  expect(tokens.length).toBeGreaterThan(0)
  // two authorization codes: the upstream's to the proxy's callback, and the proxy's own to the client
  expect(codes.size).toBe(2)
  expect(carried.size).toBeGreaterThan(codes.size)
  const seen = (await everythingSeen(recorder.spans)).join("\n")
  for (const value of [...carried, ...tokens, upstreamSecret]) {
    expect(seen.includes(value), "telemetry recorded a code, state, cookie, token or secret").toBe(false)
  }
})
