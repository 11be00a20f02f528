/**
 * Issue 5 acceptance 3 on Redis: an OAuth proxy flow that starts on one server instance and finishes on another, each
 * with its own Redis connection (as two processes would have), and single-use states, codes and refresh tokens that
 * stay single-use across them. The instances share keys and a public origin, as behind a load balancer; each step
 * is sent to a chosen instance. The HTTP adapter is a few inline lines over the framework-neutral surface.
 */
import { createServer, type Server } from "node:http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { McpAuth, OAuthProxy } from "@mcp-oauth/auth-core"
import { generateSigningKeyJson } from "@mcp-oauth/auth-core/proxy/AccessTokens"
import { BrowserDriver, createPkce, findPostForm, startTestIdp, type TestIdp } from "@mcp-oauth/testing"
import { freePort } from "@mcp-oauth/testing/contract"
import { Redacted } from "effect"
import { Redis } from "ioredis"
import { RedisStore } from "../src/index.js"

const redisUrl = process.env["MCP_OAUTH_TEST_REDIS_URL"] ?? "redis://127.0.0.1:6379"
const prefix = `mcp-oauth-test:proxy-${process.pid}-${Date.now().toString(36)}:`
const redirect = "http://127.0.0.1:65535/callback"
const secret = "redis-proxy-upstream-secret"

/** node:http in front of an McpAuth: its routes, and a protected `/mcp` answering the caller's subject. */
const serve = async (auth: McpAuth.McpAuth, port: number): Promise<Server> => {
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://localhost")
      const answer = await auth.route({
        method: req.method ?? "GET",
        pathname: url.pathname,
        origin: req.headers.origin,
        search: url.search,
        headers: req.headers,
        remoteAddress: req.socket.remoteAddress,
        readBody: async (max) => {
          const chunks: Array<Buffer> = []
          let size = 0
          for await (const chunk of req) {
            size += (chunk as Buffer).length
            if (size > max) return "too_large"
            chunks.push(chunk as Buffer)
          }
          return new Uint8Array(Buffer.concat(chunks))
        }
      })
      const outcome = answer === undefined ? await auth.guard({ authorization: req.headers.authorization === undefined ? [] : [req.headers.authorization] }) : undefined
      const final = answer ?? (outcome!.ok ? { status: 200, headers: { "content-type": "text/plain" }, body: outcome!.authInfo.subject } : outcome!.answer)
      res.writeHead(final.status, final.headers as Record<string, string>)
      res.end(final.body)
    })()
  })
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()))
  return server
}

const close = (server: Server | undefined) =>
  server === undefined
    ? Promise.resolve()
    : new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })

describe("OAuth proxy across two instances sharing Redis", () => {
  let idp: TestIdp
  let origin: string
  const instances: Array<{ auth: McpAuth.McpAuth; server: Server; port: number }> = []

  beforeAll(async () => {
    const probe = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null })
    await probe.connect().catch((error: unknown) => {
      throw new Error(`Redis is not reachable at ${redisUrl} (start redis-server, or set MCP_OAUTH_TEST_REDIS_URL): ${String(error)}`)
    })
    await probe.quit()
    const ports = [await freePort(), await freePort()]
    origin = `http://127.0.0.1:${ports[0]}`
    idp = await startTestIdp({
      resource: `${origin}/mcp`,
      registration: false,
      staticClients: [
        {
          client_id: "redis-proxy",
          client_secret: secret,
          redirect_uris: [`${origin}/oauth/callback`],
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"],
          token_endpoint_auth_method: "client_secret_basic"
        }
      ]
    })
    const keys = {
      signingKey: Redacted.make(await generateSigningKeyJson()),
      encryptionKey: Redacted.make(Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url")),
      cookieSecret: Redacted.make(Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url"))
    }
    for (const port of ports) {
      const auth = await McpAuth.make(
        McpAuth.layer(
          { resource: `${origin}/mcp`, scopesSupported: ["mcp"] },
          OAuthProxy.layer({ upstream: { issuer: idp.issuer, clientId: "redis-proxy", clientSecret: Redacted.make(secret) }, ...keys }),
          // each instance its own connection, one shared key space
          { store: RedisStore.layer({ url: redisUrl, keyPrefix: prefix }) }
        )
      )
      instances.push({ auth, server: await serve(auth, port), port })
    }
  })
  afterAll(async () => {
    for (const { auth, server } of instances) {
      await close(server)
      await auth.dispose()
    }
    await idp?.close()
    const admin = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null })
    await admin.connect().catch(() => undefined)
    const found = await admin.keys(`${prefix}*`).catch(() => [])
    if (found.length > 0) await admin.del(...found)
    await admin.quit().catch(() => undefined)
  })

  const at = (i: number, url: string | URL) => {
    const moved = new URL(url)
    moved.port = String(instances[i]!.port)
    return moved.href
  }
  const token = (i: number, params: Record<string, string>) =>
    fetch(at(i, `${origin}/token`), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(params) }).then(
      async (r) => ({ status: r.status, body: (await r.json()) as Record<string, string> })
    )
  const call = (i: number, access: string) => fetch(at(i, `${origin}/mcp`), { headers: { authorization: `Bearer ${access}` } })

  it("starts on one instance and finishes on the other; states, codes and refresh tokens stay single-use", async () => {
    const registered = await fetch(at(1, `${origin}/register`), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ redirect_uris: [redirect], grant_types: ["authorization_code", "refresh_token"], token_endpoint_auth_method: "none" })
    })
    expect(registered.status).toBe(201)
    const { client_id } = (await registered.json()) as { client_id: string }
    const pkce = createPkce()
    const authorize = new URL(`${origin}/authorize`)
    for (const [name, value] of Object.entries({
      response_type: "code",
      client_id,
      redirect_uri: redirect,
      code_challenge: pkce.challenge,
      code_challenge_method: "S256",
      state: "s1",
      resource: `${origin}/mcp`,
      login_hint: "frank"
    })) {
      authorize.searchParams.set(name, value)
    }
    const browser = new BrowserDriver()
    const page = await browser.request(at(0, authorize))
    const form = findPostForm(await page.text(), authorize, "approve")!
    const approved = await browser.request(at(1, form.action), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin },
      body: new URLSearchParams(form.fields.map(([n, v]) => [n, v])).toString()
    })
    expect(approved.status).toBe(302)
    const callback = await browser.navigate(approved.headers.get("location")!, `${origin}/oauth/callback`)
    const done = await browser.request(at(1, callback))
    expect(done.status).toBe(302)
    expect((await browser.request(at(0, callback))).status).toBe(400)
    const code = new URL(done.headers.get("location")!).searchParams.get("code")!

    const params = { grant_type: "authorization_code", code, redirect_uri: redirect, code_verifier: pkce.verifier, client_id }
    const tokens = await token(0, params)
    expect(tokens.status).toBe(200)
    expect(await (await call(1, tokens.body["access_token"]!)).text()).toBe("frank")
    const refreshed = await token(1, { grant_type: "refresh_token", refresh_token: tokens.body["refresh_token"]!, client_id })
    expect(refreshed.status).toBe(200)
    expect((await token(0, { grant_type: "refresh_token", refresh_token: tokens.body["refresh_token"]!, client_id })).body["error"]).toBe("invalid_grant")
    expect((await call(0, refreshed.body["access_token"]!)).status).toBe(401)
    // the code, replayed on the other instance, is refused
    expect((await token(1, params)).body["error"]).toBe("invalid_grant")
  })
})
