/** The adapter's own tests, run once per Express major (the Express 4 file mocks `express` with `express4`). */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { AuthInfo, Authorization, Custom, McpAuth } from "@mcp-oauth/auth-core"
import { connectSdkV1, connectSdkV2, getTokens, startTestIdp, type TestIdp } from "@mcp-oauth/testing"
import { McpServer as McpServerV1 } from "@modelcontextprotocol/sdk/server/mcp.js"
import { McpServer as McpServerV2 } from "@modelcontextprotocol/server"
import { mcpAuthRouter } from "../../src/index.js"
import { rawRequest } from "./rawRequest.js"
import { expressMajor, freePort, postMcp, startExpress, toolCall } from "./server.js"

type SdkAuth = { clientId: string; scopes: Array<string>; token: string; extra?: Record<string, unknown> } | undefined

/** What a tool reports about the AuthInfo it received from the SDK. */
const describeAuth = (sdkAuth: SdkAuth) => ({
  present: sdkAuth !== undefined,
  clientId: sdkAuth?.clientId,
  scopes: sdkAuth?.scopes,
  hasToken: typeof sdkAuth?.token === "string" && sdkAuth.token.length > 0,
  userId: AuthInfo.fromSdkAuthInfo(sdkAuth)?.user.userId
})
const text = (value: unknown) => ({ content: [{ type: "text" as const, text: JSON.stringify(value) }] })

/** v1 tools read `extra.authInfo`. */
const createServerV1 = () => {
  const server = new McpServerV1({ name: "express-v1", version: "0.0.0" })
  server.registerTool("whoami", { description: "caller" }, async (extra) => text(describeAuth(extra.authInfo)))
  server.registerTool("admin-report", { description: "admin only" }, async () => text({ report: "ok" }))
  return server
}

/** v2 tools read `ctx.http.authInfo`. */
const createServerV2 = () => {
  const server = new McpServerV2({ name: "express-v2", version: "0.0.0" })
  server.registerTool("whoami", { description: "caller" }, async (ctx) => text(describeAuth(ctx.http?.authInfo)))
  server.registerTool("admin-report", { description: "admin only" }, async () => text({ report: "ok" }))
  return server
}

const callTool = (origin: string, token: string | undefined, name = "whoami") => postMcp(origin, token, toolCall(name))

/** The tool's JSON, from a JSON or single-event SSE answer. */
const toolResult = async (response: Response) => {
  const body = await response.text()
  const json = body.startsWith("{") ? body : (body.split("\n").find((l) => l.startsWith("data:")) ?? "").slice(5)
  return JSON.parse(JSON.parse(json).result.content[0].text)
}

const startStack = async (sdk: "v1" | "v2") => {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const resource = `${origin}/mcp`
  const idp: TestIdp = await startTestIdp({ resource, scopes: ["mcp", "admin"] })
  const auth = await McpAuth.make(
    McpAuth.layer({ resource, scopesSupported: ["mcp", "admin"], resourceName: "test" }, Custom.layer({ issuer: idp.issuer })),
    { policy: new Authorization.Policy().set("tool", "admin-report", { scopes: ["admin"] }) }
  )
  const server = await startExpress({ port, auth, sdk, createMcpServer: sdk === "v1" ? createServerV1 : createServerV2 })
  return {
    port,
    origin,
    resource,
    idp,
    auth,
    close: async () => {
      await server.close()
      await idp.close()
    }
  }
}

export const adapterSuite = (major: 4 | 5) =>
  describe.each(["v1", "v2"] as const)(`express ${major}, SDK %s server`, (sdk) => {
    let stack: Awaited<ReturnType<typeof startStack>>
    let token: string
    beforeAll(async () => {
      stack = await startStack(sdk)
      token = (await getTokens({ idp: stack.idp, scope: "mcp" })).access_token
    })
    afterAll(() => stack.close())

    it(`runs on Express ${major}; the auth routes pass every other request on in the same tick`, () => {
      expect(expressMajor()).toBe(major)
      // an Express Router would hand it back through setImmediate: an event-loop turn per request of the application
      let passed = false
      const request = { method: "POST", originalUrl: "/mcp", url: "/mcp", headers: {} }
      mcpAuthRouter(stack.auth)(request as never, {} as never, () => {
        passed = true
      })
      expect(passed).toBe(true)
    })

    it("serves the metadata at the path-suffixed and root well-known URLs, untouched by Express", async () => {
      for (const path of ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]) {
        const response = await fetch(`${stack.origin}${path}`)
        expect(response.status).toBe(200)
        expect(response.headers.get("content-type")).toBe("application/json")
        expect(response.headers.get("access-control-allow-origin")).toBe("*")
        expect(await response.json()).toMatchObject({ resource: stack.resource, authorization_servers: [stack.idp.issuer] })
      }
      const head = await fetch(`${stack.origin}/.well-known/oauth-protected-resource/mcp`, { method: "HEAD" })
      expect(head.status).toBe(200)
      expect(await head.text()).toBe("")
    })

    it("answers a request without credentials with a 401 challenge that has no error", async () => {
      const response = await callTool(stack.origin, undefined)
      expect(response.status).toBe(401)
      const challenge = response.headers.get("www-authenticate") ?? ""
      expect(challenge).toMatch(new RegExp(`^Bearer resource_metadata="${stack.auth.metadataUrl}"`))
      expect(challenge).not.toMatch(/error=/)
    })

    it("refuses an invalid token with 401 invalid_token", async () => {
      const response = await callTool(stack.origin, "not-a-jwt")
      expect(response.status).toBe(401)
      expect(response.headers.get("www-authenticate")).toMatch(/error="invalid_token"/)
      expect((await response.json()).error).toBe("invalid_token")
    })

    it("refuses two Authorization headers with 400, even though node keeps only the first in req.headers", async () => {
      const response = await rawRequest(
        stack.port,
        [
          "POST /mcp HTTP/1.1",
          `Host: 127.0.0.1:${stack.port}`,
          "Content-Type: application/json",
          "Accept: application/json, text/event-stream",
          `Authorization: Bearer ${token}`,
          `Authorization: Bearer ${token}`
        ],
        toolCall("whoami")
      )
      expect(response.status).toBe(400)
      expect(response.headers.get("www-authenticate")?.[0]).toMatch(/error="invalid_request"/)
    })

    it("answers CORS preflights on the MCP endpoint instead of Express's automatic OPTIONS", async () => {
      const response = await fetch(`${stack.origin}/mcp`, {
        method: "OPTIONS",
        headers: {
          origin: "https://app.example",
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type, mcp-protocol-version"
        }
      })
      expect(response.status).toBe(204)
      expect(response.headers.get("access-control-allow-methods")).toMatch(/POST/)
      expect(response.headers.get("access-control-allow-headers")).toMatch(/authorization/i)
      expect(response.headers.get("access-control-allow-headers")).toMatch(/mcp-protocol-version/i)
    })

    it(`hands req.auth to the tool (${sdk === "v1" ? "extra.authInfo" : "ctx.http.authInfo"})`, async () => {
      const response = await callTool(stack.origin, token)
      expect(response.status).toBe(200)
      const seen = await toolResult(response)
      expect(seen).toMatchObject({ present: true, hasToken: true, userId: "test-user" })
      expect(seen.scopes).toContain("mcp")
      expect(seen.clientId).toEqual(expect.any(String))
    })

    it("requires a tool's scopes at the HTTP layer: 403 insufficient_scope, then 200 after step-up", async () => {
      const refused = await callTool(stack.origin, token, "admin-report")
      expect(refused.status).toBe(403)
      expect(refused.headers.get("www-authenticate")).toMatch(/error="insufficient_scope"/)
      expect(refused.headers.get("www-authenticate")).toMatch(/scope="admin"/)
      const admin = (await getTokens({ idp: stack.idp, scope: "mcp admin" })).access_token
      const allowed = await callTool(stack.origin, admin, "admin-report")
      expect(allowed.status).toBe(200)
      expect(await toolResult(allowed)).toEqual({ report: "ok" })
    })

    it("answers GET with 405 after authentication: a stateless server has no stream to offer", async () => {
      const response = await fetch(`${stack.origin}/mcp`, { headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" } })
      expect(response.status).toBe(405)
    })

    it.each([
      ["v1", connectSdkV1],
      ["v2", connectSdkV2]
    ] as const)("lets an SDK %s client discover, authorize and call a tool as the IdP's user", async (_client, connect) => {
      const session = await connect({ url: stack.resource, loginHint: "alice" })
      try {
        const seen = JSON.parse((await session.callTool("whoami")).content[0]?.text ?? "null")
        expect(seen).toMatchObject({ present: true, userId: "alice" })
      } finally {
        await session.close()
      }
    })

    it("answers 503, never 500, when the auth runtime is gone", async () => {
      const port = await freePort()
      const resource = `http://127.0.0.1:${port}/mcp`
      const auth = await McpAuth.make(McpAuth.layer({ resource }, Custom.layer({ issuer: stack.idp.issuer })))
      const server = await startExpress({ port, auth, sdk, createMcpServer: sdk === "v1" ? createServerV1 : createServerV2 })
      try {
        await auth.dispose()
        const response = await callTool(`http://127.0.0.1:${port}`, token)
        expect(response.status).toBe(503)
      } finally {
        await server.close()
      }
    })
  })
