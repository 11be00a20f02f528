/**
 * `recheckUpstream` through the upstream's OIDC userinfo endpoint, end to end: an MCP server behind the OAuth proxy,
 * oidc-provider as the upstream, configured without introspection (explicit endpoints, no discovery), so userinfo is
 * the check:
 * - a grant whose upstream access token the IdP revoked is refused (401 `invalid_token`) at the next re-check, and the
 *   proxy's grant ends;
 * - a userinfo endpoint that resets, fails or hangs gives 503 with Retry-After, and the grant recovers after;
 * - the upstream access token travels in the Authorization header only, never in a URL;
 * - an upstream with no way to be asked accepts its grants with one warning, not one per request.
 *
 * Two gateways stand in front of the IdP. Userinfo's forwards to `/me` (or fails, resets, hangs) and records what it
 * receives. The token endpoint's plays an IdP that issues its sign-in access tokens for userinfo and no refresh
 * tokens: oidc-provider's userinfo accepts only tokens issued without a resource indicator, while the TestIdp binds the
 * tokens of its flow to its default resource; so the gateway replaces the access token of each token response with
 * one the IdP mints for userinfo with its own models (`Grant`, `AccessToken`), and drops the refresh token.
 */
import type { ServerResponse } from "node:http"
import type { TestIdp } from "@mcp-oauth/testing"
import { Effect, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  authorize,
  type FakeServer,
  type ProxyStack,
  redeem,
  register,
  startFakeServer,
  startProxyStack,
  tokenRequest,
  UPSTREAM_CLIENT_ID,
  UPSTREAM_SECRET,
  whoami
} from "./support/proxyStack.js"

const basic = `Basic ${Buffer.from(`${UPSTREAM_CLIENT_ID}:${UPSTREAM_SECRET}`).toString("base64")}`

/** The IdP's token endpoint, answering with userinfo access tokens and no refresh token; records what it issued. */
interface TokenGateway {
  readonly server: FakeServer
  readonly issued: Array<string>
  idp: TestIdp | undefined
}

const startTokenGateway = async (): Promise<TokenGateway> => {
  const gateway: TokenGateway = { server: undefined as unknown as FakeServer, issued: [], idp: undefined }
  const server = await startFakeServer((req, res, body) => {
    const idp = gateway.idp!
    void (async () => {
      const answer = await fetch(idp.url("/token"), {
        method: "POST",
        headers: { "content-type": req.headers["content-type"] ?? "", authorization: req.headers.authorization ?? "" },
        body
      })
      const json = (await answer.json()) as Record<string, unknown>
      if (answer.status === 200 && typeof json["access_token"] === "string") {
        const claims = JSON.parse(Buffer.from(json["access_token"].split(".")[1]!, "base64url").toString("utf8")) as { sub: string }
        const client = await idp.provider.Client.find(UPSTREAM_CLIENT_ID)
        const grant = new idp.provider.Grant({ accountId: claims.sub, clientId: UPSTREAM_CLIENT_ID })
        grant.addOIDCScope("openid email profile")
        const grantId = await grant.save()
        const access = await new idp.provider.AccessToken({
          accountId: claims.sub,
          client: client!,
          grantId,
          gty: "authorization_code",
          scope: "openid email profile"
        }).save()
        gateway.issued.push(access)
        json["access_token"] = access
        delete json["refresh_token"]
      }
      res.writeHead(answer.status, { "content-type": "application/json" })
      res.end(JSON.stringify(json))
    })()
  })
  Object.assign(gateway, { server })
  return gateway
}

/** The IdP's userinfo endpoint, forwarded, or resetting the connection, failing with 500, or never answering. */
interface UserinfoGateway {
  readonly server: FakeServer
  mode: "forward" | "reset" | "fail" | "hang"
  idp: TestIdp | undefined
}

const startUserinfoGateway = async (): Promise<UserinfoGateway> => {
  const hanging: Array<ServerResponse> = []
  const gateway: UserinfoGateway = { server: undefined as unknown as FakeServer, mode: "forward", idp: undefined }
  const server = await startFakeServer((req, res) => {
    switch (gateway.mode) {
      case "reset":
        return void res.socket?.destroy()
      case "fail":
        res.writeHead(500, { "content-type": "application/json" })
        return void res.end(JSON.stringify({ error: "server_error" }))
      case "hang":
        return void hanging.push(res)
      case "forward":
        void fetch(gateway.idp!.url("/me"), { headers: { authorization: req.headers.authorization ?? "" } }).then(async (answer) => {
          const challenge = answer.headers.get("www-authenticate")
          res.writeHead(answer.status, {
            "content-type": answer.headers.get("content-type") ?? "application/json",
            ...(challenge === null ? {} : { "www-authenticate": challenge })
          })
          res.end(await answer.text())
        })
    }
  })
  const close = server.close
  Object.assign(gateway, {
    server: {
      ...server,
      close: async () => {
        for (const res of hanging) res.destroy()
        await close()
      }
    }
  })
  return gateway
}

/** A proxy whose upstream is the IdP without introspection: explicit endpoints, userinfo and tokens through gateways. */
const startStack = async (tokens: TokenGateway, userinfo: UserinfoGateway | undefined, identify?: boolean) => {
  const stack = await startProxyStack({
    makeUpstream: async (idp) => {
      tokens.idp = idp
      if (userinfo !== undefined) userinfo.idp = idp
      return {
        authorizationEndpoint: idp.url("/auth"),
        tokenEndpoint: `${tokens.server.url}/token`,
        revocationEndpoint: idp.url("/token/revocation"),
        ...(userinfo === undefined ? {} : { userinfoEndpoint: `${userinfo.server.url}/userinfo` }),
        clientId: UPSTREAM_CLIENT_ID,
        clientSecret: Redacted.make(UPSTREAM_SECRET),
        timeout: "1 second",
        // without userinfo, the user is named here (as an upstream-specific `identify` would)
        ...(identify === true ? { identify: () => Effect.succeed({ subject: "test-user", claims: {} }) } : {})
      }
    },
    proxy: { recheckUpstream: { every: 0 }, upstreamRevocationTimeout: "500 millis" }
  })
  return stack
}

/** A sign-in through the proxy; returns its tokens and the upstream access token behind them. */
const signIn = async (stack: ProxyStack, tokens: TokenGateway) => {
  const client = await register(stack.origin)
  const before = tokens.issued.length
  const answer = await redeem(stack, client, await authorize(stack, client))
  expect(answer.status).toBe(200)
  expect(tokens.issued.length).toBe(before + 1)
  return {
    client,
    access: answer.body["access_token"] as string,
    refresh: answer.body["refresh_token"] as string,
    upstreamAccess: tokens.issued.at(-1)!
  }
}

/** A tools/list call, for the status, headers and body of a refusal. */
const listTools = (stack: ProxyStack, token: string) =>
  fetch(stack.resource, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${token}` },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" })
  })

describe("OAuth proxy: re-checking the upstream grant through userinfo (no introspection)", () => {
  let tokens: TokenGateway
  let userinfo: UserinfoGateway
  let stack: ProxyStack
  beforeAll(async () => {
    tokens = await startTokenGateway()
    userinfo = await startUserinfoGateway()
    stack = await startStack(tokens, userinfo)
  })
  afterAll(async () => {
    await stack?.close()
    await tokens?.server.close()
    await userinfo?.server.close()
  })

  it("refuses the proxy's token with 401 invalid_token once the IdP revoked the upstream access token", async () => {
    userinfo.mode = "forward"
    const signedIn = await signIn(stack, tokens)
    const asked = userinfo.server.requests.length
    const idpAsked = stack.idp.requests("/me")
    const allowed = await whoami(stack.resource, signedIn.access)
    expect(allowed.status).toBe(200)
    expect(allowed.result?.["user"]).toMatchObject({ userId: "test-user", email: "test-user@example.com" })
    // the re-check asked userinfo once, with the upstream token in the Authorization header and nowhere in the URL
    const checks = userinfo.server.requests.slice(asked)
    expect(checks.length).toBe(1)
    expect(checks[0]!.method).toBe("GET")
    expect(checks[0]!.url).toBe("/userinfo")
    expect(checks[0]!.headers.authorization).toBe(`Bearer ${signedIn.upstreamAccess}`)
    expect(stack.idp.requests("/me")).toBe(idpAsked + 1)

    const revoked = await fetch(stack.idp.url("/token/revocation"), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic },
      body: new URLSearchParams({ token: signedIn.upstreamAccess, token_type_hint: "access_token" }).toString()
    })
    expect(revoked.status).toBe(200)
    const refused = await whoami(stack.resource, signedIn.access)
    expect(refused.status).toBe(401)
    expect(refused.wwwAuthenticate).toContain('error="invalid_token"')
    // the proxy's grant ended with it
    const refreshed = await tokenRequest(stack.origin, { grant_type: "refresh_token", refresh_token: signedIn.refresh, client_id: signedIn.client.client_id })
    expect(refreshed.status).toBe(400)
    expect(refreshed.body["error"]).toBe("invalid_grant")

    // no request any gateway saw carried an upstream token in its URL
    for (const seen of [...userinfo.server.requests, ...tokens.server.requests]) {
      for (const token of tokens.issued) expect(seen.url).not.toContain(token)
    }
    expect(stack.logs.join("\n")).not.toContain(signedIn.upstreamAccess)
  })

  it("answers 503 with Retry-After while userinfo resets, fails or hangs, and recovers", async () => {
    userinfo.mode = "forward"
    const signedIn = await signIn(stack, tokens)
    for (const mode of ["reset", "fail", "hang"] as const) {
      userinfo.mode = mode
      const response = await listTools(stack, signedIn.access)
      expect(response.status, mode).toBe(503)
      expect(Number(response.headers.get("retry-after")), mode).toBeGreaterThan(0)
      const body = await response.text()
      expect(body, mode).not.toContain(signedIn.upstreamAccess)
      expect(body, mode).not.toContain(signedIn.access)
    }
    userinfo.mode = "forward"
    expect((await whoami(stack.resource, signedIn.access)).status).toBe(200)
  })
})

describe("OAuth proxy: an upstream grant that cannot be re-checked", () => {
  let tokens: TokenGateway
  let stack: ProxyStack
  beforeAll(async () => {
    tokens = await startTokenGateway()
    stack = await startStack(tokens, undefined, true)
  })
  afterAll(async () => {
    await stack?.close()
    await tokens?.server.close()
  })

  it("is accepted, with one warning naming recheckUpstream however many requests it serves", async () => {
    const first = await signIn(stack, tokens)
    const second = await signIn(stack, tokens)
    for (const token of [first.access, second.access, first.access, second.access]) {
      expect((await whoami(stack.resource, token)).status).toBe(200)
    }
    const warnings = stack.logs.filter((line) => line.startsWith("WARN") && line.includes("recheckUpstream"))
    expect(warnings.length).toBe(1)
    expect(warnings[0]).toContain("no way to re-check")
  })
})
