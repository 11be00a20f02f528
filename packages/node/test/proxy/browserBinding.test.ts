/**
 * PROXY-THREATS.md rows: state / CSRF at the callback and on the consent POST, confused deputy (with the victim's
 * prior upstream consent), mix-up (RFC 9207 `iss`), forwarded-header spoofing. The "victim" and "attacker" are
 * cookie-jar browsers (BrowserDriver); the upstream is oidc-provider, which auto-approves a second authorization
 * for the proxy's static client in a browser that consented once — the precondition of the confused deputy.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BrowserDriver, createPkce, findPostForm, getTokens, NavigationError } from "@mcp-oauth/testing"
import { rawRequest } from "../support/rawRequest.js"
import {
  authorize,
  authorizeUrl,
  CLIENT_REDIRECT,
  type ProxyStack,
  redeem,
  register,
  startProxyStack,
  type TestClient,
  UPSTREAM_CLIENT_ID,
  UPSTREAM_SECRET
} from "./support/proxyStack.js"

/** Shows the consent page in `browser` and returns its form. */
const consentPage = async (browser: BrowserDriver, url: URL) => {
  const response = await browser.request(url)
  const html = await response.text()
  expect(response.status).toBe(200)
  const form = findPostForm(html, url, "approve")
  if (form === undefined) throw new Error("no consent form")
  return { response, html, form, fields: new Map(form.fields) }
}

/** Submits consent fields from `browser`, as a click would (same-origin Origin header). */
const submit = (
  browser: BrowserDriver,
  action: string,
  fields: ReadonlyMap<string, string>,
  headers: Record<string, string> = {}
) =>
  browser.request(action, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: new URL(action).origin, ...headers },
    body: new URLSearchParams([...fields]).toString()
  })

const expectPage = async (response: Response, status: number) => {
  expect(response.status).toBe(status)
  expect(response.headers.get("location")).toBeNull()
  expect(response.headers.get("content-type")).toMatch(/^text\/html/)
  await response.body?.cancel()
}

describe("OAuth proxy: CSRF on the consent POST", () => {
  let stack: ProxyStack
  let client: TestClient
  let other: TestClient
  beforeAll(async () => {
    stack = await startProxyStack()
    client = await register(stack.origin)
    other = await register(stack.origin)
  })
  afterAll(() => stack?.close())

  it("sets a __Host- consent cookie: Secure, HttpOnly, SameSite=Lax, Path=/, no Domain; the page cannot be framed", async () => {
    const { response } = await consentPage(new BrowserDriver(), authorizeUrl(stack, client, createPkce()))
    const cookie = response.headers.get("set-cookie")!
    expect(cookie).toMatch(/^__Host-mcp-oauth-consent-[A-Za-z0-9_-]+=/)
    expect(cookie).toMatch(/; Secure/)
    expect(cookie).toMatch(/; HttpOnly/)
    expect(cookie).toMatch(/; SameSite=Lax/)
    expect(cookie).toMatch(/; Path=\//)
    expect(cookie).not.toMatch(/Domain=/i)
    expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'")
    expect(response.headers.get("x-frame-options")).toBe("DENY")
    expect(response.headers.get("cache-control")).toBe("no-store")
  })

  it("refuses a POST from a browser without the consent cookie (the attacker's form, the victim's browser)", async () => {
    const attacker = new BrowserDriver()
    const { form, fields } = await consentPage(attacker, authorizeUrl(stack, client, createPkce()))
    await expectPage(await submit(new BrowserDriver(), form.action, fields), 403)
    // a victim that has its own consent cookie for this client is refused too: the token is bound to the browser
    const victim = new BrowserDriver()
    await consentPage(victim, authorizeUrl(stack, client, createPkce()))
    await expectPage(await submit(victim, form.action, fields), 403)
  })

  it("refuses a wrong, missing or other rendering's CSRF token, and cross-site submissions", async () => {
    const browser = new BrowserDriver()
    const first = await consentPage(browser, authorizeUrl(stack, client, createPkce()))
    const second = await consentPage(browser, authorizeUrl(stack, client, createPkce()))
    const swapped = new Map(first.fields).set("csrf_token", second.fields.get("csrf_token")!)
    await expectPage(await submit(browser, first.form.action, swapped), 403)
    const wrong = new Map(first.fields).set("csrf_token", "A".repeat(43))
    await expectPage(await submit(browser, first.form.action, wrong), 403)
    const missing = new Map(first.fields)
    missing.delete("csrf_token")
    await expectPage(await submit(browser, first.form.action, missing), 400)
    await expectPage(await submit(browser, first.form.action, first.fields, { origin: "https://evil.example" }), 403)
    await expectPage(await submit(browser, first.form.action, first.fields, { origin: "null" }), 403)
    await expectPage(await submit(browser, first.form.action, first.fields, { "sec-fetch-site": "cross-site" }), 403)
    // the genuine submission still works once, and only once
    const approved = await submit(browser, first.form.action, first.fields)
    expect(approved.status).toBe(302)
    expect(new URL(approved.headers.get("location")!).origin).toBe(new URL(stack.idp.issuer).origin)
    await expectPage(await submit(browser, first.form.action, first.fields), 400)
  })

  it("refuses a tampered consent cookie, and a cookie bound to another client", async () => {
    const browser = new BrowserDriver()
    const page = await consentPage(browser, authorizeUrl(stack, client, createPkce()))
    const [pair] = page.response.headers.get("set-cookie")!.split(";")
    const [name, value] = [pair!.slice(0, pair!.indexOf("=")), pair!.slice(pair!.indexOf("=") + 1)]
    // one different character in the signature
    const at = value.length - 10
    const flipped = `${value.slice(0, at)}${value[at] === "A" ? "B" : "A"}${value.slice(at + 1)}`
    const post = (cookie: string, action: string, fields: ReadonlyMap<string, string>) =>
      fetch(action, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: stack.origin, cookie },
        body: new URLSearchParams([...fields]).toString()
      })
    await expectPage(await post(`${name}=${flipped}`, page.form.action, page.fields), 403)
    // the other client's page, with this client's (valid) cookie value under the other client's cookie name
    const otherBrowser = new BrowserDriver()
    const otherPage = await consentPage(otherBrowser, authorizeUrl(stack, other, createPkce()))
    const otherName = otherPage.response.headers.get("set-cookie")!.split("=")[0]!
    await expectPage(await post(`${otherName}=${value}`, otherPage.form.action, otherPage.fields), 403)
    // the untouched cookie works
    expect((await post(`${name}=${value}`, page.form.action, page.fields)).status).toBe(302)
  })

  it("sends the user's denial to the client as access_denied with state and iss", async () => {
    const browser = new BrowserDriver()
    const page = await consentPage(browser, authorizeUrl(stack, client, createPkce()))
    const response = await submit(browser, page.form.action, new Map(page.fields).set("decision", "deny"))
    expect(response.status).toBe(302)
    const location = new URL(response.headers.get("location")!)
    expect(`${location.origin}${location.pathname}`).toBe(CLIENT_REDIRECT)
    expect(location.searchParams.get("error")).toBe("access_denied")
    expect(location.searchParams.get("state")).toBe("client-state-123")
    expect(location.searchParams.get("iss")).toBe(stack.origin)
  })
})

describe("OAuth proxy: state at the callback", () => {
  let stack: ProxyStack
  let client: TestClient
  beforeAll(async () => {
    stack = await startProxyStack({ proxy: { ttl: { state: "3 seconds" } } })
    client = await register(stack.origin)
  })
  afterAll(() => stack?.close())

  /** Runs consent and the upstream login, stopping before the callback is requested. */
  const callbackUrl = async (browser = new BrowserDriver({ approveConsent: true })) => {
    const url = await browser.navigate(authorizeUrl(stack, client, createPkce()), `${stack.origin}/oauth/callback`)
    return { url, browser }
  }

  it("creates no upstream state and contacts no upstream before the consent POST", async () => {
    stack.idp.resetRequests()
    const { html } = await consentPage(new BrowserDriver(), authorizeUrl(stack, client, createPkce()))
    expect(stack.idp.requests()).toBe(0)
    expect(html).not.toContain(new URL(stack.idp.issuer).host)
    expect(html).not.toContain("state")
  })

  it("refuses a missing, invented or repeated state with a page, never a redirect", async () => {
    const { url, browser } = await callbackUrl()
    const missing = new URL(url)
    missing.searchParams.delete("state")
    await expectPage(await browser.request(missing), 400)
    const invented = new URL(url)
    invented.searchParams.set("state", "A".repeat(43))
    await expectPage(await browser.request(invented), 400)
    const repeated = new URL(url)
    repeated.searchParams.append("state", url.searchParams.get("state")!)
    await expectPage(await browser.request(repeated), 400)
  })

  it("accepts a state once: a replayed callback is refused", async () => {
    const { url, browser } = await callbackUrl()
    const first = await browser.request(url)
    expect(first.status).toBe(302)
    expect(new URL(first.headers.get("location")!).searchParams.get("code")).not.toBeNull()
    await expectPage(await browser.request(url), 400)
  })

  it("refuses an expired state", async () => {
    const { url, browser } = await callbackUrl()
    await new Promise((resolve) => setTimeout(resolve, 3_300))
    await expectPage(await browser.request(url), 400)
  })

  it("refuses a callback in a browser other than the one that consented (CVE-2026-27124)", async () => {
    // the attacker approves in their own browser and keeps the upstream URL instead of following it
    const attacker = new BrowserDriver({ approveConsent: true })
    const upstreamUrl = await attacker.navigate(authorizeUrl(stack, client, createPkce()), stack.idp.issuer)
    // the victim opens it: the upstream signs the victim in and sends the victim's browser to the proxy's callback
    const victim = new BrowserDriver()
    const error = await victim.navigate(upstreamUrl, CLIENT_REDIRECT).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(error).toBeInstanceOf(NavigationError)
    expect((error as NavigationError).status).toBe(403)
    expect((error as NavigationError).steps.at(-1)!.url).toContain("/oauth/callback")
  })
})

describe("OAuth proxy: confused deputy through the shared upstream client", () => {
  let stack: ProxyStack
  beforeAll(async () => {
    stack = await startProxyStack()
  })
  afterAll(() => stack?.close())

  it("never sends a code to an attacker's client without the victim's consent POST, even with prior upstream consent", async () => {
    // the victim uses a legitimate client once: consent at the proxy and at the upstream
    const victim = new BrowserDriver()
    const legit = await register(stack.origin, { client_name: "Legit client" })
    const page = await consentPage(victim, authorizeUrl(stack, legit, createPkce(), { login_hint: "victim" }))
    const upstream = await submit(victim, page.form.action, page.fields)
    expect(upstream.status).toBe(302)
    const callback = await victim.navigate(upstream.headers.get("location")!, CLIENT_REDIRECT)
    expect(callback.searchParams.get("code")).not.toBeNull()

    // precondition: the upstream now approves the proxy's static client in this browser without any interaction
    const interactions = stack.idp.requests("/interaction/*")
    await getTokens({
      idp: stack.idp,
      clientId: UPSTREAM_CLIENT_ID,
      clientSecret: UPSTREAM_SECRET,
      redirectUri: `${stack.origin}/oauth/callback`,
      resource: null,
      scope: "openid email profile",
      browser: victim
    })
    expect(stack.idp.requests("/interaction/*")).toBe(interactions)

    // the attacker registers a client with their own redirect URI and sends the victim the proxy's /authorize link
    const attacker = await register(stack.origin, { client_name: "Totally Legit MCP", redirect_uris: ["https://attacker.example/cb"] })
    const before = stack.idp.requests("/auth")
    const link = authorizeUrl(stack, attacker, createPkce(), { redirect_uri: "https://attacker.example/cb" })
    const error = await victim.navigate(link, "https://attacker.example/").then(
      () => undefined,
      (e: unknown) => e
    )
    // the victim's browser stops at the proxy's consent page, which names the client and where it would be sent
    expect(error).toBeInstanceOf(NavigationError)
    expect((error as NavigationError).status).toBe(200)
    expect((error as NavigationError).steps.map((s) => new URL(s.url).origin)).toEqual([stack.origin])
    expect(stack.idp.requests("/auth")).toBe(before)
    const shown = await (await victim.request(link)).text()
    expect(shown).toContain("Totally Legit MCP")
    expect(shown).toContain("attacker.example")
  })
})

describe("OAuth proxy: mix-up (RFC 9207)", () => {
  let stack: ProxyStack
  let client: TestClient
  beforeAll(async () => {
    stack = await startProxyStack()
    client = await register(stack.origin)
  })
  afterAll(() => stack?.close())

  const callbackUrl = async () => {
    const browser = new BrowserDriver({ approveConsent: true })
    const url = await browser.navigate(authorizeUrl(stack, client, createPkce()), `${stack.origin}/oauth/callback`)
    expect(url.searchParams.get("iss")).toBe(stack.idp.issuer)
    return { url, browser }
  }

  it("refuses a callback whose iss names another issuer", async () => {
    const { url, browser } = await callbackUrl()
    url.searchParams.set("iss", "https://evil.example")
    await expectPage(await browser.request(url), 400)
  })

  it("refuses a callback without iss when the upstream promises one", async () => {
    const { url, browser } = await callbackUrl()
    url.searchParams.delete("iss")
    await expectPage(await browser.request(url), 400)
  })

  it("tells the client the proxy's own issuer", async () => {
    const authorized = await authorize(stack, client)
    expect(authorized.callback.searchParams.get("iss")).toBe(stack.origin)
    expect((await redeem(stack, client, authorized)).status).toBe(200)
  })
})

describe("OAuth proxy: forwarded-header spoofing", () => {
  let stack: ProxyStack
  let client: TestClient
  beforeAll(async () => {
    stack = await startProxyStack()
    client = await register(stack.origin)
  })
  afterAll(() => stack?.close())

  const spoofed = ["Host: evil.example", "X-Forwarded-Host: evil.example", "X-Forwarded-Proto: https", "Forwarded: host=evil.example;proto=https"]
  const get = (path: string) => rawRequest(stack.port, [`GET ${path} HTTP/1.1`, ...spoofed])

  it("builds the challenge, the PRM, the AS metadata and the consent form from configuration only", async () => {
    const challenge = await get("/mcp")
    expect(challenge.status).toBe(401)
    expect(challenge.headers.get("www-authenticate")![0]).toContain(`resource_metadata="${stack.origin}/.well-known/oauth-protected-resource/mcp"`)
    for (const path of ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]) {
      const response = await get(path)
      expect(response.status).toBe(200)
      expect(response.body).not.toContain("evil.example")
      expect(response.body).toContain(stack.origin)
    }
    const url = authorizeUrl(stack, client, createPkce())
    const consent = await get(`${url.pathname}${url.search}`)
    expect(consent.status).toBe(200)
    expect(consent.body).not.toContain("evil.example")
    expect(consent.body).toContain(`action="${stack.origin.replace(/\//g, "&#47;")}&#47;consent"`)
  })

  it("sends the upstream the configured callback, whatever the forwarded headers say", async () => {
    const browser = new BrowserDriver()
    const page = await consentPage(browser, authorizeUrl(stack, client, createPkce()))
    const response = await submit(browser, page.form.action, page.fields, {
      "x-forwarded-host": "evil.example",
      "x-forwarded-proto": "https",
      forwarded: "host=evil.example;proto=https"
    })
    expect(response.status).toBe(302)
    const upstream = new URL(response.headers.get("location")!)
    expect(upstream.searchParams.get("redirect_uri")).toBe(`${stack.origin}/oauth/callback`)
  })
})
