/**
 * PROXY-THREATS.md row "secret leakage": the upstream token endpoint answers 400, 401, 500, a redirect, garbage, or
 * never. The proxy's client secret must travel only in the Basic header (or the POST body when so configured), never
 * in a URL, redirect, response body, log line or error; redirects are not followed. Logs are captured at every level.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest"
import { BrowserDriver, createPkce } from "@mcp-oauth/testing"
import {
  authorizeUrl,
  CLIENT_REDIRECT,
  type FakeServer,
  type ProxyStack,
  register,
  startFakeServer,
  startProxyStack,
  type TestClient,
  UPSTREAM_CLIENT_ID,
  UPSTREAM_SECRET
} from "./support/proxyStack.js"

type Mode = "400" | "401" | "500" | "redirect" | "garbage" | "hang"

const basicCredentials = Buffer.from(`${UPSTREAM_CLIENT_ID}:${UPSTREAM_SECRET}`).toString("base64")
const secretForms = [UPSTREAM_SECRET, basicCredentials, encodeURIComponent(UPSTREAM_SECRET)]

describe.each(["client_secret_basic", "client_secret_post"] as const)("OAuth proxy: the upstream secret (%s)", (method) => {
  let stack: ProxyStack
  let fake: FakeServer
  let capture: FakeServer
  let client: TestClient
  let mode: Mode = "400"
  const seen: Array<string> = []
  const consoleLines: Array<string> = []

  beforeAll(async () => {
    capture = await startFakeServer((_req, res) => res.end("captured"))
    fake = await startFakeServer((req, res, body) => {
      // a hostile or broken upstream that echoes everything it received
      const echo = `${req.headers.authorization ?? ""} ${body} ${req.url}`
      switch (mode) {
        case "400":
          res.writeHead(400, { "content-type": "application/json" })
          return res.end(JSON.stringify({ error: "invalid_grant", error_description: `bad: ${echo}` }))
        case "401":
          res.writeHead(401, { "content-type": "application/json", "www-authenticate": `Basic realm="${echo}"` })
          return res.end(JSON.stringify({ error: "invalid_client", error_description: echo }))
        case "500":
          res.writeHead(500, { "content-type": "text/html" })
          return res.end(`<html>${echo}</html>`)
        case "redirect":
          res.writeHead(307, { location: `${capture.url}/steal?${new URLSearchParams({ echo })}` })
          return res.end()
        case "garbage":
          res.writeHead(200, { "content-type": "application/json" })
          return res.end(`{"access_token": ${JSON.stringify(echo)}`)
        case "hang":
          return
      }
    })
    stack = await startProxyStack({
      upstream: { tokenEndpoint: `${fake.url}/token`, tokenEndpointAuthMethod: method, timeout: "2 seconds" }
    })
    client = await register(stack.origin)
  })
  afterAll(async () => {
    await stack?.close()
    await fake?.close()
    await capture?.close()
  })
  afterEach(() => vi.restoreAllMocks())

  const recordingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init)
    const body = await response.clone().text()
    seen.push(`${String(input)} ${response.status} ${JSON.stringify([...response.headers])} ${body}`)
    return response
  }

  const modes: Array<[Mode, string]> = [
    ["400", "access_denied"],
    ["401", "access_denied"],
    ["500", "temporarily_unavailable"],
    ["redirect", "temporarily_unavailable"],
    ["garbage", "temporarily_unavailable"],
    ["hang", "temporarily_unavailable"]
  ]

  it.each(modes)("upstream answers %s: the client hears %s and the secret appears nowhere", async (which, expected) => {
    mode = which
    seen.length = 0
    stack.logs.length = 0
    consoleLines.length = 0
    for (const level of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: Array<unknown>) => void consoleLines.push(args.map(String).join(" ")))
    }
    const requestsBefore = fake.requests.length
    const browser = new BrowserDriver({ approveConsent: true, fetch: recordingFetch })
    const callback = await browser.navigate(authorizeUrl(stack, client, createPkce()), CLIENT_REDIRECT)
    expect(callback.searchParams.get("code")).toBeNull()
    expect(callback.searchParams.get("error")).toBe(expected)

    // exactly one exchange reached the upstream, carrying the secret only where the method says
    expect(fake.requests.length).toBe(requestsBefore + 1)
    const exchange = fake.requests.at(-1)!
    expect(exchange.method).toBe("POST")
    expect(exchange.url).toBe("/token")
    const form = new URLSearchParams(exchange.body)
    if (method === "client_secret_basic") {
      expect(exchange.headers.authorization).toBe(`Basic ${basicCredentials}`)
      expect(form.has("client_secret")).toBe(false)
    } else {
      expect(exchange.headers.authorization).toBeUndefined()
      expect(form.get("client_secret")).toBe(UPSTREAM_SECRET)
    }
    // a redirect at the token endpoint was not followed
    expect(capture.requests).toHaveLength(0)

    const everything = [callback.href, ...seen, ...stack.logs, ...consoleLines].join("\n")
    for (const secret of secretForms) expect(everything).not.toContain(secret)
    // and something was logged about the failure, so operators can see it
    expect(stack.logs.join("\n")).toMatch(/upstream/)
  })

  it("never puts the secret in the upstream authorization URL", async () => {
    const browser = new BrowserDriver({ approveConsent: true })
    const upstream = await browser.navigate(authorizeUrl(stack, client, createPkce()), stack.idp.issuer)
    for (const secret of secretForms) expect(upstream.href).not.toContain(secret)
    expect(upstream.searchParams.has("client_secret")).toBe(false)
  })
})
