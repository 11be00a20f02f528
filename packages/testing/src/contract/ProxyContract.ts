/**
 * The OAuth proxy through an adapter: its routes need the whole request (query, cookies, form and JSON bodies) and
 * answer with cookies and redirects, so every adapter must pass them through untouched. The upstream is the test IdP
 * as a non-DCR provider (registration off, one confidential static client); the official SDK clients v1 and v2 run
 * the whole flow (register, the proxy's consent, upstream sign-in, token, tool call, refresh) against the adapter.
 */
import { McpAuth, OAuthProxy } from "@mcp-oauth/auth-core"
import { Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createPkce } from "../AuthorizationCodeFlow.js"
import { BrowserDriver, findPostForm } from "../BrowserDriver.js"
import { connectSdkV1, connectSdkV2 } from "../McpClientDriver.js"
import { startTestIdp, type TestIdp } from "../TestIdp.js"
import { contractTools, createContractServer } from "./contractServers.js"
import { freePort } from "./freePort.js"
import type { AdapterUnderTest, ContractServer } from "./types.js"

const upstreamClientId = "proxy-contract-upstream"
const upstreamSecret = "proxy-contract-secret-never-shown"

/** Defines the proxy tests for one adapter (served with its first server SDK generation). */
export const runProxyContract = (adapter: AdapterUnderTest): void => {
  describe(`${adapter.name} adapter with the OAuth proxy`, () => {
    let idp: TestIdp
    let server: ContractServer
    let origin: string
    let resource: string

    beforeAll(async () => {
      const port = await freePort()
      origin = `http://127.0.0.1:${port}`
      resource = `${origin}/mcp`
      idp = await startTestIdp({
        resource,
        scopes: ["mcp", "admin"],
        registration: false,
        users: { alice: { email: "alice@example.com", name: "Alice", roles: ["editor"], permissions: ["reports:read"] } },
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
          { resource, scopesSupported: ["mcp", "admin"], requiredScopes: ["mcp"], resourceName: "proxy contract" },
          OAuthProxy.layer({
            upstream: { issuer: idp.issuer, clientId: upstreamClientId, clientSecret: Redacted.make(upstreamSecret) }
          })
        )
      )
      for (const { name, requirement } of contractTools) if (requirement !== undefined) auth.policy.set("tool", name, requirement)
      const sdk = adapter.sdks[0] ?? "v1"
      server = await adapter.start({ port, auth, sdk, createMcpServer: await createContractServer(sdk) })
    })
    afterAll(async () => {
      await server?.close()
      await idp?.close()
    })

    it("serves the proxy's metadata at both well-known paths and lists the proxy in the PRM", async () => {
      for (const path of ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]) {
        const response = await fetch(`${origin}${path}`)
        expect(response.status).toBe(200)
        const metadata = (await response.json()) as Record<string, unknown>
        expect(metadata["issuer"]).toBe(origin)
        expect(metadata["code_challenge_methods_supported"]).toEqual(["S256"])
        expect(metadata["registration_endpoint"]).toBe(`${origin}/register`)
      }
      const prm = (await (await fetch(`${origin}/.well-known/oauth-protected-resource/mcp`)).json()) as Record<string, unknown>
      expect(prm["authorization_servers"]).toEqual([origin])
    })

    it("passes JSON and form bodies in, and cookies, redirects and page headers out, untouched", async () => {
      const registered = await fetch(`${origin}/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ redirect_uris: ["http://127.0.0.1:65535/callback"], token_endpoint_auth_method: "none" })
      })
      expect(registered.status).toBe(201)
      expect(registered.headers.get("cache-control")).toBe("no-store")
      const { client_id } = (await registered.json()) as { client_id: string }
      const authorize = new URL(`${origin}/authorize`)
      for (const [name, value] of Object.entries({
        response_type: "code",
        client_id,
        redirect_uri: "http://127.0.0.1:65535/callback",
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        code_challenge_method: "S256",
        state: "s",
        resource
      })) {
        authorize.searchParams.set(name, value)
      }
      const page = await fetch(authorize, { redirect: "manual" })
      expect(page.status).toBe(200)
      expect(page.headers.get("set-cookie")).toMatch(/^__Host-mcp-oauth-consent-[\w-]+=[\w.-]+; Path=\/; Secure; HttpOnly; SameSite=Lax/)
      expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'")
      expect(page.headers.get("x-frame-options")).toBe("DENY")
      const refused = new URL(authorize)
      refused.searchParams.set("code_challenge_method", "plain")
      const redirect = await fetch(refused, { redirect: "manual" })
      expect(redirect.status).toBe(302)
      expect(new URL(redirect.headers.get("location")!).searchParams.get("error")).toBe("invalid_request")
      const token = await fetch(`${origin}/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "authorization_code", code: "nope", client_id, code_verifier: "x".repeat(43) })
      })
      expect(token.status).toBe(400)
      expect(((await token.json()) as { error: string }).error).toBe("invalid_grant")
      const preflight = await fetch(`${origin}/token`, { method: "OPTIONS", headers: { origin: "https://app.example", "access-control-request-method": "POST" } })
      expect(preflight.status).toBe(204)
      expect(preflight.headers.get("access-control-allow-origin")).toBe("*")
    })

    it("caps the proxy's POST bodies", async () => {
      const big = "x".repeat(64 * 1024)
      const token = await fetch(`${origin}/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `a=${big}` })
      expect(token.status).toBe(400)
      expect(((await token.json()) as { error: string }).error).toBe("invalid_request")
      const register = await fetch(`${origin}/register`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ big }) })
      expect(register.status).toBe(400)
      expect(((await register.json()) as { error: string }).error).toBe("invalid_client_metadata")
    })

    it("carries a remembered approval: its cookie set on the callback's redirect, sent back at the next authorization", async () => {
      const redirectUri = "http://127.0.0.1:65535/callback"
      const registered = await fetch(`${origin}/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ redirect_uris: [redirectUri], token_endpoint_auth_method: "none" })
      })
      const { client_id } = (await registered.json()) as { client_id: string }
      const authorizeUrl = () => {
        const url = new URL(`${origin}/authorize`)
        const params = { response_type: "code", client_id, redirect_uri: redirectUri, code_challenge: createPkce().challenge, code_challenge_method: "S256", resource }
        for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value)
        return url
      }
      const browser = new BrowserDriver()
      const first = authorizeUrl()
      const page = await browser.request(first)
      expect(page.status).toBe(200)
      const form = findPostForm(await page.text(), first, "approve")!
      const fields = new URLSearchParams(form.fields.map(([n, v]) => [n, v]))
      fields.set("remember", "yes")
      const approved = await browser.request(form.action, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin },
        body: fields.toString()
      })
      expect(approved.status).toBe(302)
      const callback = await browser.navigate(approved.headers.get("location")!, redirectUri)
      expect(callback.searchParams.get("code")).not.toBeNull()
      const again = await browser.request(authorizeUrl())
      await again.body?.cancel()
      expect(again.status).toBe(302)
      expect(new URL(again.headers.get("location")!).origin).toBe(new URL(idp.issuer).origin)
    })

    for (const [name, connect] of [
      ["SDK v1", connectSdkV1],
      ["SDK v2", connectSdkV2]
    ] as const) {
      it(`lets the ${name} client register, consent, sign in upstream, call a tool and refresh`, async () => {
        const session = await connect({ url: resource, loginHint: "alice", approveConsent: true })
        try {
          const call = async () => JSON.parse((await session.callTool("whoami")).content[0]?.text ?? "null")
          const first = await call()
          expect(first.userId).toBe("alice")
          expect(first.email).toBe("alice@example.com")
          session.provider.expireAccessToken()
          expect((await call()).userId).toBe("alice")
          expect(session.provider.refreshCount).toBe(1)
          expect(session.provider.authorizationUrls).toHaveLength(1)
        } finally {
          await session.close()
        }
      })
    }
  })
}
