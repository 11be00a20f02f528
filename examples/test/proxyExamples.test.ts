/**
 * The OAuth proxy examples (proxy-google, proxy-github), driven up to the edge of this machine: Google and GitHub
 * cannot be signed in to from a test, so the flow stops at the browser's redirect to the real upstream, and what is
 * checked is everything the example owns — its metadata naming itself as authorization server, registration, the
 * consent page, and an upstream authorization URL carrying its client id, its callback and its own PKCE pair.
 * The upstream legs (code exchange, token checks) are covered against oidc-provider in packages/node/test/proxy
 * and packages/auth-core/test/proxy/upstream; here they are not.
 */
import { createHash, randomBytes } from "node:crypto"
import { createServer } from "node:net"
import { afterAll, describe, expect, it } from "vitest"
import { BrowserDriver, findPostForm } from "@mcp-oauth/testing"
import { start as startProxyGitHub } from "../proxy-github/server.js"
import { start as startProxyGoogle } from "../proxy-google/server.js"

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

const cleanups: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup()
})

/** Registers a public client, opens /authorize in a browser, approves consent, and returns where the browser is sent. */
const approveUntilUpstream = async (origin: string) => {
  const redirectUri = "http://127.0.0.1:8976/callback"
  const registered = await fetch(`${origin}/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ client_name: "Example Client", redirect_uris: [redirectUri], token_endpoint_auth_method: "none" })
  })
  expect(registered.status).toBe(201)
  const { client_id } = (await registered.json()) as { client_id: string }
  const verifier = randomBytes(32).toString("base64url")
  const challenge = createHash("sha256").update(verifier).digest("base64url")
  const authorize = new URL(`${origin}/authorize`)
  for (const [name, value] of Object.entries({
    response_type: "code",
    client_id,
    redirect_uri: redirectUri,
    code_challenge: challenge,
    code_challenge_method: "S256",
    state: "client-state",
    scope: "mcp",
    resource: `${origin}/mcp`
  })) {
    authorize.searchParams.set(name, value)
  }
  const browser = new BrowserDriver()
  const page = await browser.request(authorize)
  expect(page.status).toBe(200)
  const html = await page.text()
  expect(html).toContain("Example Client")
  const form = findPostForm(html, authorize, "approve")
  if (form === undefined) throw new Error("no consent form on the page")
  const decision = await browser.request(form.action, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin },
    body: new URLSearchParams(form.fields.map(([name, value]) => [name, value])).toString()
  })
  expect(decision.status).toBe(302)
  const upstream = new URL(decision.headers.get("location") ?? "")
  // the proxy runs its own PKCE pair with the upstream; the client's challenge never leaves this server
  expect(upstream.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/)
  expect(upstream.searchParams.get("code_challenge")).not.toBe(challenge)
  return upstream
}

/** What both proxy examples must serve before any sign-in. */
const expectProxyMetadata = async (origin: string) => {
  const unauthenticated = await fetch(`${origin}/mcp`, { method: "POST" })
  expect(unauthenticated.status).toBe(401)
  expect(unauthenticated.headers.get("www-authenticate")).toContain(`resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"`)
  const resource = await (await fetch(`${origin}/.well-known/oauth-protected-resource/mcp`)).json()
  expect(resource).toMatchObject({ resource: `${origin}/mcp`, authorization_servers: [origin] })
  const server = await (await fetch(`${origin}/.well-known/oauth-authorization-server`)).json()
  expect(server).toMatchObject({ issuer: origin, registration_endpoint: `${origin}/register`, code_challenge_methods_supported: ["S256"] })
}

describe("examples/proxy-google", () => {
  it("serves itself as the authorization server and sends the approved browser to Google with its own client and PKCE", async () => {
    const port = await freePort()
    const origin = `http://127.0.0.1:${port}`
    const example = await startProxyGoogle({
      PORT: String(port),
      MCP_OAUTH_GOOGLE_CLIENT_ID: "1234-example.apps.googleusercontent.com",
      MCP_OAUTH_GOOGLE_CLIENT_SECRET: "google-secret-never-shown",
      MCP_OAUTH_GOOGLE_HOSTED_DOMAINS: "example.com"
    })
    cleanups.push(() => example.close())
    // no keys configured: generated ones, and the warning that says they will not survive a restart
    expect(example.warnings.join("\n")).toContain("MCP_OAUTH_PROXY_SIGNING_KEY")
    await expectProxyMetadata(origin)
    const upstream = await approveUntilUpstream(origin)
    expect(`${upstream.origin}${upstream.pathname}`).toBe("https://accounts.google.com/o/oauth2/v2/auth")
    expect(Object.fromEntries(upstream.searchParams)).toMatchObject({
      client_id: "1234-example.apps.googleusercontent.com",
      redirect_uri: `${origin}/oauth/callback`,
      code_challenge_method: "S256",
      access_type: "offline",
      hd: "example.com"
    })
    expect(upstream.href).not.toContain("google-secret-never-shown")
  })
})

describe("examples/proxy-github", () => {
  it("serves itself as the authorization server and sends the approved browser to GitHub with its own client and PKCE", async () => {
    const port = await freePort()
    const origin = `http://127.0.0.1:${port}`
    const example = await startProxyGitHub({
      PORT: String(port),
      MCP_OAUTH_GITHUB_CLIENT_ID: "Iv1.example",
      MCP_OAUTH_GITHUB_CLIENT_SECRET: "github-secret-never-shown",
      MCP_OAUTH_PROXY_COOKIE_SECRET: "a-cookie-secret-of-at-least-thirty-two-characters"
    })
    cleanups.push(() => example.close())
    await expectProxyMetadata(origin)
    const upstream = await approveUntilUpstream(origin)
    expect(`${upstream.origin}${upstream.pathname}`).toBe("https://github.com/login/oauth/authorize")
    expect(Object.fromEntries(upstream.searchParams)).toMatchObject({
      client_id: "Iv1.example",
      redirect_uri: `${origin}/oauth/callback`,
      code_challenge_method: "S256",
      scope: "read:user user:email"
    })
    expect(upstream.searchParams.get("state")).toMatch(/^[A-Za-z0-9_-]{32,}$/)
    expect(upstream.href).not.toContain("github-secret-never-shown")
  })
})
