/**
 * Issue 5 acceptance 3: a flow that starts on one server instance and finishes on another sharing a Store succeeds,
 * and single-use codes and states stay single-use across instances. Two proxy instances (two runtimes, two ports)
 * share one Store and the same keys, and are configured with the same public origin, as behind a load balancer;
 * each step is sent to a chosen instance. The shared Store here is one in-memory Store; `@mcp-oauth/redis` provides
 * the same service for separate processes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Store } from "@mcp-oauth/auth-core"
import { BrowserDriver, createPkce, findPostForm } from "@mcp-oauth/testing"
import { Effect, Redacted } from "effect"
import { freePort } from "../support/harness.js"
import {
  authorizeUrl,
  CLIENT_REDIRECT,
  type ProxyInstance,
  type ProxyStack,
  register,
  startProxyInstance,
  startProxyStack,
  tokenRequest,
  UPSTREAM_CLIENT_ID,
  UPSTREAM_SECRET,
  whoami
} from "./support/proxyStack.js"

/** The same URL on another instance (the "load balancer" picking B). */
const on = (instance: { readonly port: number }, url: string | URL): string => {
  const moved = new URL(url)
  moved.port = String(instance.port)
  return moved.href
}

describe("OAuth proxy across two instances sharing a Store", () => {
  let a: ProxyStack
  let b: ProxyInstance & { readonly port: number }
  beforeAll(async () => {
    const store = await Effect.runPromise(Store.makeMemory())
    a = await startProxyStack({ store })
    const port = await freePort()
    const instance = await startProxyInstance({
      port,
      origin: a.origin,
      upstream: { issuer: a.idp.issuer, clientId: UPSTREAM_CLIENT_ID, clientSecret: Redacted.make(UPSTREAM_SECRET) },
      keys: a.keys,
      store
    })
    b = { ...instance, port }
  })
  afterAll(async () => {
    await b?.close()
    await a?.close()
  })

  it("registers on A, consents on B, calls back on A, redeems on B, refreshes on A, calls tools on both", async () => {
    const client = await register(a.origin)
    const browser = new BrowserDriver()
    const pkce = createPkce()
    const url = authorizeUrl(a, client, pkce, { login_hint: "carol" })
    // the consent page from B, the decision on A
    const pageResponse = await browser.request(on(b, url))
    expect(pageResponse.status).toBe(200)
    const form = findPostForm(await pageResponse.text(), url, "approve")!
    const approved = await browser.request(form.action, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: a.origin },
      body: new URLSearchParams(form.fields.map(([n, v]) => [n, v])).toString()
    })
    expect(approved.status).toBe(302)
    const callback = await browser.navigate(approved.headers.get("location")!, `${a.origin}/oauth/callback`)
    // the callback lands on B
    const answered = await browser.request(on(b, callback))
    expect(answered.status).toBe(302)
    const location = new URL(answered.headers.get("location")!)
    expect(`${location.origin}${location.pathname}`).toBe(CLIENT_REDIRECT)
    const code = location.searchParams.get("code")!
    // the state is spent everywhere
    expect((await browser.request(callback)).status).toBe(400)

    const tokens = await tokenRequest(on(b, a.origin).replace(/\/$/, ""), {
      grant_type: "authorization_code",
      code,
      redirect_uri: CLIENT_REDIRECT,
      code_verifier: pkce.verifier,
      client_id: client.client_id
    })
    expect(tokens.status).toBe(200)
    const access = tokens.body["access_token"] as string
    expect((await whoami(a.resource, access)).result?.["user"]).toMatchObject({ userId: "carol" })
    expect((await whoami(on(b, a.resource), access)).result?.["user"]).toMatchObject({ userId: "carol" })

    const refreshed = await tokenRequest(a.origin, { grant_type: "refresh_token", refresh_token: tokens.body["refresh_token"] as string, client_id: client.client_id })
    expect(refreshed.status).toBe(200)
    // the rotated token reused on the other instance is reuse: the family dies on both
    const reuse = await tokenRequest(on(b, a.origin).replace(/\/$/, ""), {
      grant_type: "refresh_token",
      refresh_token: tokens.body["refresh_token"] as string,
      client_id: client.client_id
    })
    expect(reuse.body["error"]).toBe("invalid_grant")
    expect((await whoami(a.resource, refreshed.body["access_token"] as string)).status).toBe(401)
    expect((await whoami(on(b, a.resource), refreshed.body["access_token"] as string)).status).toBe(401)
  })

  it("keeps a code single-use across instances: redeemed on A, replayed on B, revoked on both", async () => {
    const client = await register(on(b, a.origin).replace(/\/$/, ""))
    const browser = new BrowserDriver({ approveConsent: true })
    const pkce = createPkce()
    const callback = await browser.navigate(authorizeUrl(a, client, pkce), CLIENT_REDIRECT)
    const params = {
      grant_type: "authorization_code",
      code: callback.searchParams.get("code")!,
      redirect_uri: CLIENT_REDIRECT,
      code_verifier: pkce.verifier,
      client_id: client.client_id
    }
    const first = await tokenRequest(a.origin, params)
    expect(first.status).toBe(200)
    const replay = await tokenRequest(on(b, a.origin).replace(/\/$/, ""), params)
    expect(replay.body["error"]).toBe("invalid_grant")
    expect((await whoami(a.resource, first.body["access_token"] as string)).status).toBe(401)
  })

  it("lets concurrent redemptions of one code on both instances yield at most one token", async () => {
    const client = await register(a.origin)
    const browser = new BrowserDriver({ approveConsent: true })
    const pkce = createPkce()
    const callback = await browser.navigate(authorizeUrl(a, client, pkce), CLIENT_REDIRECT)
    const params = {
      grant_type: "authorization_code",
      code: callback.searchParams.get("code")!,
      redirect_uri: CLIENT_REDIRECT,
      code_verifier: pkce.verifier,
      client_id: client.client_id
    }
    const results = await Promise.all([
      tokenRequest(a.origin, params),
      tokenRequest(on(b, a.origin).replace(/\/$/, ""), params),
      tokenRequest(a.origin, params),
      tokenRequest(on(b, a.origin).replace(/\/$/, ""), params)
    ])
    expect(results.filter((r) => r.status === 200).length).toBeLessThanOrEqual(1)
    expect(results.every((r) => r.status === 200 || r.body["error"] === "invalid_grant")).toBe(true)
  })
})
