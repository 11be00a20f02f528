/**
 * The upstream grant behind the proxy's tokens (issue 5), with oidc-provider as the upstream:
 * - `recheckUpstream`: the guard re-checks the upstream grant (introspection of the upstream refresh token) at most
 *   once per interval per grant; revoked upstream → 401 `invalid_token`; upstream unreachable → 503 + Retry-After,
 *   or accepted within `maxStale` when configured;
 * - upstream revocation: the client's /revoke and refresh-token reuse revoke the upstream grant at its RFC 7009
 *   endpoint (client authentication injected), best effort: an unreachable or hanging endpoint never fails /revoke.
 * The upstream's introspection and revocation endpoints are reached through a switchable gateway that forwards to
 * the IdP, or fails, or never answers.
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  authorize,
  type FakeServer,
  type ProxyStack,
  redeem,
  register,
  startFakeServer,
  startProxyStack,
  type StackOptions,
  type TestClient,
  tokenRequest,
  UPSTREAM_CLIENT_ID,
  UPSTREAM_SECRET,
  whoami
} from "./support/proxyStack.js"

const basic = `Basic ${Buffer.from(`${UPSTREAM_CLIENT_ID}:${UPSTREAM_SECRET}`).toString("base64")}`

/** A gateway in front of the IdP's introspection and revocation endpoints. */
interface Gateway {
  readonly server: FakeServer
  mode: "forward" | "fail" | "hang"
  idp: string
}

const startGateway = async (): Promise<Gateway> => {
  const hanging: Array<ServerResponse> = []
  const gateway: Gateway = { server: undefined as unknown as FakeServer, mode: "forward", idp: "" }
  const server = await startFakeServer((req: IncomingMessage, res: ServerResponse, body: string) => {
    if (gateway.mode === "hang") return void hanging.push(res)
    if (gateway.mode === "fail") {
      res.writeHead(500, { "content-type": "application/json" })
      return void res.end(JSON.stringify({ error: "server_error" }))
    }
    void fetch(`${gateway.idp}${req.url}`, {
      method: "POST",
      headers: { "content-type": req.headers["content-type"] ?? "", authorization: req.headers.authorization ?? "" },
      body
    }).then(async (answer) => {
      res.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "application/json" })
      res.end(await answer.text())
    })
  })
  Object.assign(gateway, { server })
  const close = server.close
  Object.assign(server, {
    close: async () => {
      for (const res of hanging) res.destroy()
      await close()
    }
  })
  return gateway
}

/** A proxy whose upstream is the IdP, with introspection and revocation through the gateway. */
const startWithGateway = async (gateway: Gateway, proxy: StackOptions["proxy"]) => {
  const stack = await startProxyStack({
    upstream: {
      introspectionEndpoint: `${gateway.server.url}/token/introspection`,
      revocationEndpoint: `${gateway.server.url}/token/revocation`
    },
    proxy
  })
  gateway.idp = stack.idp.issuer
  // the upstream refresh tokens, as the IdP saves them
  const upstreamRefreshTokens: Array<string> = []
  stack.idp.provider.on("refresh_token.saved", (token: { jti: string }) => upstreamRefreshTokens.push(token.jti))
  return { stack, upstreamRefreshTokens }
}

/** A full sign-in and code redemption; returns the proxy's tokens and the upstream refresh token behind them. */
const signIn = async (stack: ProxyStack, client: TestClient, upstreamRefreshTokens: Array<string>) => {
  const before = upstreamRefreshTokens.length
  const authorized = await authorize(stack, client)
  const tokens = await redeem(stack, client, authorized)
  expect(tokens.status).toBe(200)
  expect(upstreamRefreshTokens.length).toBeGreaterThan(before)
  return {
    access: tokens.body.access_token as string,
    refresh: tokens.body.refresh_token as string,
    upstreamRefresh: upstreamRefreshTokens[upstreamRefreshTokens.length - 1]!
  }
}

/** The proxy's client and the IdP's form endpoints. */
const post = (url: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(form).toString()
  })

/** Whether the upstream still honours a refresh token (a refresh with the proxy's own upstream credentials). */
const upstreamRefreshWorks = async (stack: ProxyStack, refreshToken: string): Promise<boolean> => {
  const response = await post(stack.idp.url("/token"), { grant_type: "refresh_token", refresh_token: refreshToken }, { authorization: basic })
  const body = (await response.json()) as { error?: string }
  if (response.status !== 200) expect(body.error).toBe("invalid_grant")
  return response.status === 200
}

/** Revokes an upstream token directly at the IdP, as a user or an administrator would there. */
const revokeUpstream = async (stack: ProxyStack, token: string) => {
  const response = await post(stack.idp.url("/token/revocation"), { token, token_type_hint: "refresh_token" }, { authorization: basic })
  expect(response.status).toBe(200)
}

describe("OAuth proxy: re-checking the upstream grant at the guard", () => {
  let gateway: Gateway
  let stack: ProxyStack
  let client: TestClient
  let saved: Array<string>
  beforeAll(async () => {
    gateway = await startGateway()
    ;({ stack, upstreamRefreshTokens: saved } = await startWithGateway(gateway, {
      recheckUpstream: { every: 0 },
      upstreamRevocationTimeout: "500 millis"
    }))
    client = await register(stack.origin)
  })
  afterAll(async () => {
    await stack?.close()
    await gateway?.server.close()
  })

  it("refuses the proxy's token with 401 invalid_token once the upstream grant is revoked, and ends the grant", async () => {
    gateway.mode = "forward"
    const tokens = await signIn(stack, client, saved)
    const introspections = gateway.server.requests.length
    expect((await whoami(stack.resource, tokens.access)).status).toBe(200)
    expect(gateway.server.requests.length).toBe(introspections + 1)
    expect(gateway.server.requests.at(-1)!.headers.authorization).toBe(basic)
    expect(gateway.server.requests.at(-1)!.body).not.toContain(UPSTREAM_SECRET)

    await revokeUpstream(stack, tokens.upstreamRefresh)
    const refused = await whoami(stack.resource, tokens.access)
    expect(refused.status).toBe(401)
    expect(refused.wwwAuthenticate).toContain('error="invalid_token"')
    // the proxy's grant is gone: its refresh token too
    const refreshed = await tokenRequest(stack.origin, { grant_type: "refresh_token", refresh_token: tokens.refresh, client_id: client.client_id })
    expect(refreshed.status).toBe(400)
    expect(refreshed.body.error).toBe("invalid_grant")
  })

  it("answers 503 with Retry-After while the upstream cannot be asked, and recovers", async () => {
    gateway.mode = "forward"
    const tokens = await signIn(stack, client, saved)
    gateway.mode = "fail"
    const response = await fetch(stack.resource, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${tokens.access}` },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" })
    })
    expect(response.status).toBe(503)
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0)
    expect(await response.text()).not.toContain(tokens.access)
    gateway.mode = "forward"
    expect((await whoami(stack.resource, tokens.access)).status).toBe(200)
  })

  it("revokes the upstream grant when the client revokes the proxy's token: the upstream refresh token stops working", async () => {
    gateway.mode = "forward"
    const fresh = await signIn(stack, client, saved)
    // a confidential client's upstream refresh token is not rotated by this IdP: it works until revoked
    expect(await upstreamRefreshWorks(stack, fresh.upstreamRefresh)).toBe(true)
    const revocations = gateway.server.requests.filter((r) => r.url === "/token/revocation").length
    const revoked = await post(`${stack.origin}/revoke`, { token: fresh.refresh, client_id: client.client_id })
    expect(revoked.status).toBe(200)
    const calls = gateway.server.requests.filter((r) => r.url === "/token/revocation")
    expect(calls.length).toBe(revocations + 1)
    expect(calls.at(-1)!.headers.authorization).toBe(basic)
    expect(calls.at(-1)!.url).not.toContain(fresh.upstreamRefresh)
    expect(await upstreamRefreshWorks(stack, fresh.upstreamRefresh)).toBe(false)
    expect((await whoami(stack.resource, fresh.access)).status).toBe(401)
  })

  it("revokes the upstream grant when refresh-token reuse revokes the family", async () => {
    gateway.mode = "forward"
    const tokens = await signIn(stack, client, saved)
    const first = await tokenRequest(stack.origin, { grant_type: "refresh_token", refresh_token: tokens.refresh, client_id: client.client_id })
    expect(first.status).toBe(200)
    // the rotated token presented again: reuse
    const reuse = await tokenRequest(stack.origin, { grant_type: "refresh_token", refresh_token: tokens.refresh, client_id: client.client_id })
    expect(reuse.status).toBe(400)
    expect(await upstreamRefreshWorks(stack, tokens.upstreamRefresh)).toBe(false)
  })

  it("never fails the client's revocation when the upstream revocation endpoint fails or hangs", async () => {
    for (const mode of ["fail", "hang"] as const) {
      gateway.mode = "forward"
      const tokens = await signIn(stack, client, saved)
      gateway.mode = mode
      const revoked = await post(`${stack.origin}/revoke`, { token: tokens.refresh, client_id: client.client_id })
      expect(revoked.status, mode).toBe(200)
      gateway.mode = "forward"
      // the proxy's grant is gone whatever the upstream said
      expect((await whoami(stack.resource, tokens.access)).status, mode).toBe(401)
    }
    expect(stack.logs.some((line) => line.includes("upstream grant revocation failed"))).toBe(true)
    expect(stack.logs.join("\n")).not.toContain(UPSTREAM_SECRET)
  })
})

describe("OAuth proxy: re-check failing open within maxStale, and at most once per interval", () => {
  let gateway: Gateway
  let open: ProxyStack
  let cached: ProxyStack
  let openSaved: Array<string>
  let cachedSaved: Array<string>
  beforeAll(async () => {
    gateway = await startGateway()
    ;({ stack: open, upstreamRefreshTokens: openSaved } = await startWithGateway(gateway, { recheckUpstream: { every: 0, maxStale: "1 hour" } }))
    const second = await startGateway()
    ;({ stack: cached, upstreamRefreshTokens: cachedSaved } = await startWithGateway(second, { recheckUpstream: { every: "1 hour" } }))
    Object.assign(gateway, { second })
  })
  afterAll(async () => {
    await open?.close()
    await cached?.close()
    await gateway?.server.close()
    await (gateway as unknown as { second?: Gateway }).second?.server.close()
  })

  it("accepts the last confirmation while the upstream cannot be asked, when maxStale allows it", async () => {
    const client = await register(open.origin)
    gateway.mode = "forward"
    const tokens = await signIn(open, client, openSaved)
    gateway.mode = "fail"
    const before = gateway.server.requests.length
    expect((await whoami(open.resource, tokens.access)).status).toBe(200)
    expect(gateway.server.requests.length).toBe(before + 1)
    expect(open.logs.some((line) => line.includes("accepted within maxStale"))).toBe(true)
    gateway.mode = "forward"
  })

  it("asks the upstream at most once per interval per grant (the sign-in counts as a confirmation)", async () => {
    const client = await register(cached.origin)
    const second = (gateway as unknown as { second: Gateway }).second
    const tokens = await signIn(cached, client, cachedSaved)
    for (let i = 0; i < 3; i++) expect((await whoami(cached.resource, tokens.access)).status).toBe(200)
    expect(second.server.requests.filter((r) => r.url === "/token/introspection")).toHaveLength(0)
    // within the interval a revocation upstream is not seen yet: the documented staleness bound
    await revokeUpstream(cached, tokens.upstreamRefresh)
    expect((await whoami(cached.resource, tokens.access)).status).toBe(200)
  })
})
