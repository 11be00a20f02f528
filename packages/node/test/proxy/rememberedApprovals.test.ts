/**
 * Remembered approvals (issue 5): "do not ask again" skips the proxy's consent page only for the same browser,
 * client, exact redirect URI, resource and scopes within those approved, until it expires or a grant of that client
 * and user is revoked; a different user signing in on the same browser is asked again. The flow still goes upstream
 * with a fresh state and PKCE pair, bound to the browser's consent cookie. (Expiry and forged cookies under TestClock:
 * `auth-core/test/proxy/RememberedApprovals.test.ts`.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BrowserDriver, createPkce, findPostForm } from "@mcp-oauth/testing"
import {
  authorizeUrl,
  CLIENT_REDIRECT,
  type ProxyStack,
  register,
  startProxyStack,
  type TestClient,
  tokenRequest,
  whoami
} from "./support/proxyStack.js"

const OTHER_REDIRECT = "http://127.0.0.1:65535/other-callback"

/**
 * The same browser as `original` as far as the proxy is concerned (its proxy cookies come along), but with no
 * upstream session: another person signing in at the identity provider.
 */
const sameBrowserOtherUser = (original: BrowserDriver, proxyOrigin: string): BrowserDriver => {
  const proxyCookies = original.cookieHeader(proxyOrigin)
  return new BrowserDriver({
    fetch: (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input))
      if (url.origin !== proxyOrigin) return fetch(input, init)
      const headers = new Headers(init?.headers)
      headers.set("cookie", [headers.get("cookie"), proxyCookies].filter((c) => c !== null && c !== "").join("; "))
      return fetch(input, { ...init, headers })
    }
  })
}

/** Shows the consent page and approves it, ticking "remember" when asked; returns the client's callback URL. */
const approve = async (browser: BrowserDriver, url: URL, remember: boolean, target = CLIENT_REDIRECT): Promise<URL> => {
  const page = await browser.request(url)
  expect(page.status).toBe(200)
  const html = await page.text()
  expect(html).toContain('name="remember"')
  const form = findPostForm(html, url, "approve")!
  const fields = new URLSearchParams(form.fields.map(([n, v]) => [n, v]))
  if (remember) fields.set("remember", "yes")
  const posted = await browser.request(form.action, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: new URL(form.action).origin },
    body: fields.toString()
  })
  expect(posted.status).toBe(302)
  return browser.navigate(posted.headers.get("location")!, target)
}

/** What /authorize does in this browser: "page" (consent shown) or "upstream" (sent straight to the IdP). */
const outcome = async (stack: ProxyStack, browser: BrowserDriver, url: URL): Promise<"page" | "upstream" | number> => {
  const response = await browser.request(url)
  await response.body?.cancel()
  if (response.status === 200) return "page"
  if (response.status === 302 && new URL(response.headers.get("location")!).origin === new URL(stack.idp.issuer).origin) return "upstream"
  return response.status
}

const redeem = async (stack: ProxyStack, client: TestClient, callback: URL, verifier: string, redirectUri = CLIENT_REDIRECT) => {
  const code = callback.searchParams.get("code")
  expect(code, callback.href).not.toBeNull()
  const answer = await tokenRequest(stack.origin, {
    grant_type: "authorization_code",
    code: code!,
    redirect_uri: redirectUri,
    code_verifier: verifier,
    client_id: client.client_id,
    resource: stack.resource
  })
  expect(answer.status).toBe(200)
  return answer.body as { access_token: string; refresh_token: string }
}

const subjectOf = (jwt: string): string =>
  (JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString("utf8")) as { sub: string }).sub

describe("OAuth proxy: remembered approvals", () => {
  let stack: ProxyStack
  let client: TestClient
  beforeAll(async () => {
    stack = await startProxyStack()
    client = await register(stack.origin, { redirect_uris: [CLIENT_REDIRECT, OTHER_REDIRECT] })
  })
  afterAll(() => stack?.close())

  it("skips the page for the same client, redirect URI and fewer scopes, still going upstream with a fresh state and PKCE pair", async () => {
    const browser = new BrowserDriver()
    const first = createPkce()
    const callback = await approve(browser, authorizeUrl(stack, client, first, { scope: "mcp admin" }), true)
    await redeem(stack, client, callback, first.verifier)

    const second = createPkce()
    const again = authorizeUrl(stack, client, second, { scope: "mcp" })
    const response = await browser.request(again)
    expect(response.status).toBe(302)
    const upstream = new URL(response.headers.get("location")!)
    expect(upstream.origin).toBe(new URL(stack.idp.issuer).origin)
    expect(upstream.searchParams.get("code_challenge_method")).toBe("S256")
    expect(upstream.searchParams.get("state")).toMatch(/^[A-Za-z0-9_-]{43}$/)
    // the consent binding is renewed: the callback still requires this browser's cookie
    expect(response.headers.get("set-cookie")).toMatch(/^__Host-mcp-oauth-consent-/)
    const done = await browser.navigate(upstream, CLIENT_REDIRECT)
    expect(done.searchParams.get("state")).toBe("client-state-123")
    const tokens = await redeem(stack, client, done, second.verifier)
    expect((await whoami(stack.resource, tokens.access_token)).status).toBe(200)
    // a third time, with the other scope only
    expect(await outcome(stack, browser, authorizeUrl(stack, client, createPkce(), { scope: "admin" }))).toBe("upstream")
  })

  it("is only offered: an approval without 'remember' asks again", async () => {
    const browser = new BrowserDriver()
    const pkce = createPkce()
    await approve(browser, authorizeUrl(stack, client, pkce), false)
    expect(await outcome(stack, browser, authorizeUrl(stack, client, createPkce()))).toBe("page")
  })

  it("does not apply to another client (same name), another redirect URI, wider scopes, another browser, or prompt=consent", async () => {
    const browser = new BrowserDriver()
    await approve(browser, authorizeUrl(stack, client, createPkce(), { scope: "mcp" }), true)
    expect(await outcome(stack, browser, authorizeUrl(stack, client, createPkce(), { scope: "mcp" }))).toBe("upstream")

    const lookalike = await register(stack.origin, { redirect_uris: [CLIENT_REDIRECT, OTHER_REDIRECT] })
    expect(await outcome(stack, browser, authorizeUrl(stack, lookalike, createPkce(), { scope: "mcp" }))).toBe("page")
    expect(await outcome(stack, browser, authorizeUrl(stack, client, createPkce(), { scope: "mcp", redirect_uri: OTHER_REDIRECT }))).toBe("page")
    // a loopback port change is another redirect URI too, even though the registration lets the port vary
    expect(
      await outcome(stack, browser, authorizeUrl(stack, client, createPkce(), { scope: "mcp", redirect_uri: "http://127.0.0.1:4000/callback" }))
    ).toBe("page")
    expect(await outcome(stack, browser, authorizeUrl(stack, client, createPkce(), { scope: "mcp admin" }))).toBe("page")
    expect(await outcome(stack, new BrowserDriver(), authorizeUrl(stack, client, createPkce(), { scope: "mcp" }))).toBe("page")
    expect(await outcome(stack, browser, authorizeUrl(stack, client, createPkce(), { scope: "mcp", prompt: "consent" }))).toBe("page")
  })

  it("does not apply with a tampered cookie; the genuine sealed cookie is what counts", async () => {
    const browser = new BrowserDriver()
    const url = authorizeUrl(stack, client, createPkce(), { scope: "mcp" })
    const page = await browser.request(url)
    const form = findPostForm(await page.text(), url, "approve")!
    const fields = new URLSearchParams(form.fields.map(([n, v]) => [n, v]))
    fields.set("remember", "yes")
    const posted = await browser.request(form.action, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: stack.origin },
      body: fields.toString()
    })
    // the approval cookie is set by the callback, once the user is known
    let current = new URL(posted.headers.get("location")!)
    let approvalCookie: string | undefined
    for (let hop = 0; hop < 20 && !current.href.startsWith(CLIENT_REDIRECT); hop++) {
      const response = await browser.request(current)
      await response.body?.cancel()
      const set = response.headers.getSetCookie().find((c) => c.startsWith("__Host-mcp-oauth-approval-"))
      if (set !== undefined) approvalCookie = set.split(";")[0]
      current = new URL(response.headers.get("location")!, current)
    }
    expect(approvalCookie).toBeDefined()
    const [name, value] = [approvalCookie!.slice(0, approvalCookie!.indexOf("=")), approvalCookie!.slice(approvalCookie!.indexOf("=") + 1)]
    const at = value.length - 8
    const tampered = `${name}=${value.slice(0, at)}${value[at] === "A" ? "B" : "A"}${value.slice(at + 1)}`
    const fresh = authorizeUrl(stack, client, createPkce(), { scope: "mcp" })
    const withCookie = (cookie: string) => fetch(fresh, { redirect: "manual", headers: { cookie } })
    const refused = await withCookie(tampered)
    expect(refused.status).toBe(200)
    await refused.body?.cancel()
    // the genuine cookie alone goes upstream, and the state is bound to the approving browser id it carries
    const genuine = await withCookie(approvalCookie!)
    expect(genuine.status).toBe(302)
    await genuine.body?.cancel()
  })

  it("is withdrawn when the client revokes a grant of that user", async () => {
    const browser = new BrowserDriver()
    const pkce = createPkce()
    const callback = await approve(browser, authorizeUrl(stack, client, pkce), true)
    const tokens = await redeem(stack, client, callback, pkce.verifier)
    expect(await outcome(stack, browser, authorizeUrl(stack, client, createPkce()))).toBe("upstream")
    const revoked = await fetch(`${stack.origin}/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: tokens.refresh_token, client_id: client.client_id }).toString()
    })
    expect(revoked.status).toBe(200)
    expect(await outcome(stack, browser, authorizeUrl(stack, client, createPkce()))).toBe("page")
  })

  it("asks again when another user signs in upstream on the same browser", async () => {
    const first = new BrowserDriver()
    const pkce = createPkce()
    const callback = await approve(first, authorizeUrl(stack, client, pkce), true)
    expect(subjectOf((await redeem(stack, client, callback, pkce.verifier)).access_token)).toBe("test-user")

    // someone else at the same browser signs in upstream as another account
    const browser = sameBrowserOtherUser(first, stack.origin)
    const second = createPkce()
    const url = authorizeUrl(stack, client, second, { login_hint: "other-user" })
    const response = await browser.request(url)
    expect(response.status).toBe(302)
    let current = new URL(response.headers.get("location")!)
    let last: Response | undefined
    for (let hop = 0; hop < 20; hop++) {
      last = await browser.request(current)
      const location = last.headers.get("location")
      if (last.status < 300 || last.status >= 400 || location === null) break
      await last.body?.cancel()
      current = new URL(location, current)
      expect(current.href.startsWith(CLIENT_REDIRECT), "no code for an unapproved user").toBe(false)
    }
    // the callback answers with the consent page instead of a code
    expect(new URL(current).pathname).toBe("/oauth/callback")
    expect(last!.status).toBe(200)
    const html = await last!.text()
    const form = findPostForm(html, current, "approve")!
    expect(form.action).toBe(`${stack.origin}/consent`)
    const approved = await browser.request(form.action, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: stack.origin },
      body: new URLSearchParams(form.fields.map(([n, v]) => [n, v])).toString()
    })
    expect(approved.status).toBe(302)
    const done = await browser.navigate(approved.headers.get("location")!, CLIENT_REDIRECT)
    expect(subjectOf((await redeem(stack, client, done, second.verifier)).access_token)).toBe("other-user")
  })
})
