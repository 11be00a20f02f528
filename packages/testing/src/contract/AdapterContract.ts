/**
 * The behaviour every adapter must show, run against each adapter with both server SDK generations: discovery
 * documents, byte-exact challenges, CORS, hostile tokens, the official clients end to end, step-up and roles.
 */
import { Custom, McpAuth } from "@mcp-oauth/auth-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { getTokens } from "../AuthorizationCodeFlow.js"
import { connectSdkV1, connectSdkV2 } from "../McpClientDriver.js"
import { startTestIdp, type TestIdp } from "../TestIdp.js"
import { contractTools, createContractServer } from "./contractServers.js"
import { freePort } from "./freePort.js"
import type { AdapterUnderTest, ContractServer, ServerSdk } from "./types.js"

const users = {
  alice: { email: "alice@example.com", name: "Alice", roles: ["editor"], permissions: ["reports:read"] },
  bob: { email: "bob@elsewhere.test", name: "Bob" }
}

const rpc = (method: string, params: Record<string, unknown> = {}) =>
  JSON.stringify({ jsonrpc: "2.0", id: 1, method, params })

const mcpHeaders = (authorization?: string): Record<string, string> => ({
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  ...(authorization === undefined ? {} : { authorization })
})

/** The JSON-RPC result of a Streamable HTTP response (plain JSON or one SSE event). */
const rpcResult = async (response: Response): Promise<{ result?: { content?: Array<{ text?: string }>; isError?: boolean } }> => {
  const text = await response.text()
  return JSON.parse(text.startsWith("{") ? text : (text.split("\n").find((l) => l.startsWith("data:")) ?? "").slice(5))
}

const toolText = (result: { content: ReadonlyArray<{ text?: string }> }) => JSON.parse(result.content[0]?.text ?? "null")

/** Defines the contract's tests for one adapter. */
export const runAdapterContract = (adapter: AdapterUnderTest): void => {
  describe.each(adapter.sdks.map((sdk) => [sdk] as [ServerSdk]))(`${adapter.name} adapter contract, server SDK %s`, (sdk) => {
    let idp: TestIdp
    let server: ContractServer
    let origin: string
    let resource: string
    let metadataUrl: string
    let token: string

    beforeAll(async () => {
      const port = await freePort()
      origin = `http://127.0.0.1:${port}`
      resource = `${origin}/mcp`
      metadataUrl = `${origin}/.well-known/oauth-protected-resource/mcp`
      idp = await startTestIdp({
        resource,
        scopes: ["mcp", "admin"],
        users,
        // the IdP signs this account's tokens already expired: a real, correctly signed, expired token
        customizeAccessToken: ({ payload }) => {
          if (payload["sub"] === "expired-user") payload["exp"] = Math.floor(Date.now() / 1000) - 120
        }
      })
      const auth = await McpAuth.make(
        McpAuth.layer({ resource, scopesSupported: ["mcp"], requiredScopes: ["mcp"], resourceName: "contract" }, Custom.layer({ issuer: idp.issuer }))
      )
      for (const { name, requirement } of contractTools) if (requirement !== undefined) auth.policy.set("tool", name, requirement)
      server = await adapter.start({ port, auth, sdk, createMcpServer: await createContractServer(sdk) })
      token = (await getTokens({ idp, scope: "mcp", loginHint: "alice" })).access_token
    })
    afterAll(async () => {
      await server?.close()
      await idp?.close()
    })

    const post = (body: string, authorization?: string, headers: Record<string, string> = {}) =>
      fetch(resource, { method: "POST", headers: { ...mcpHeaders(authorization), ...headers }, body })

    it("serves the protected resource metadata at the path-suffixed and root well-known URLs", async () => {
      for (const path of ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]) {
        const response = await fetch(`${origin}${path}`, { headers: { "mcp-protocol-version": "2025-11-25" } })
        expect(response.status).toBe(200)
        expect(response.headers.get("content-type")).toMatch(/^application\/json/)
        expect(response.headers.get("access-control-allow-origin")).toBe("*")
        expect(await response.json()).toEqual({
          resource,
          authorization_servers: [idp.issuer],
          scopes_supported: ["mcp"],
          bearer_methods_supported: ["header"],
          resource_name: "contract"
        })
      }
    })

    it("answers no credentials with the exact challenge and exposes it to browsers", async () => {
      const response = await post(rpc("tools/list"))
      expect(response.status).toBe(401)
      expect(response.headers.get("www-authenticate")).toBe(`Bearer resource_metadata="${metadataUrl}", scope="mcp"`)
      expect(response.headers.get("access-control-expose-headers")).toMatch(/WWW-Authenticate/)
    })

    it("answers CORS preflights on the MCP endpoint and the metadata", async () => {
      const mcp = await fetch(resource, {
        method: "OPTIONS",
        headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization, mcp-protocol-version" }
      })
      expect(mcp.status).toBe(204)
      const allowed = (mcp.headers.get("access-control-allow-headers") ?? "").toLowerCase()
      for (const header of ["authorization", "mcp-protocol-version", "mcp-session-id"]) expect(allowed).toContain(header)
      expect(mcp.headers.get("access-control-expose-headers")).toMatch(/Mcp-Session-Id/)
      const metadata = await fetch(metadataUrl, { method: "OPTIONS", headers: { origin: "https://app.example", "access-control-request-method": "GET" } })
      expect(metadata.status).toBe(204)
      expect(metadata.headers.get("access-control-allow-origin")).toBe("*")
    })

    it("refuses a sample of hostile credentials with the exact status and error", async () => {
      const [h, p, s] = token.split(".") as [string, string, string]
      const none = `${Buffer.from(JSON.stringify({ alg: "none", typ: "at+jwt" })).toString("base64url")}.${p}.`
      const cases: Array<[string, string, number, string | null]> = [
        ["garbage", "Bearer not-a-jwt", 401, "invalid_token"],
        ["tampered signature", `Bearer ${h}.${p}.${s.slice(0, -6)}AAAAAA`, 401, "invalid_token"],
        ["alg none", `Bearer ${none}`, 401, "invalid_token"],
        ["spliced payload", `Bearer ${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, "base64url").toString()), sub: "mallory" })).toString("base64url")}.${s}`, 401, "invalid_token"],
        ["broken syntax", "Bearer a b", 400, "invalid_request"],
        ["two credentials", `Bearer ${token}, Bearer ${token}`, 400, "invalid_request"],
        ["another scheme", "Basic YTpi", 401, null],
        ["empty bearer", "Bearer", 400, "invalid_request"]
      ]
      for (const [name, authorization, status, error] of cases) {
        const response = await post(rpc("tools/list"), authorization)
        const header = response.headers.get("www-authenticate") ?? ""
        expect({ name, status: response.status }).toEqual({ name, status })
        expect({ name, error: /error="([^"]+)"/.exec(header)?.[1] ?? null }).toEqual({ name, error })
        expect(header).toContain(`resource_metadata="${metadataUrl}"`)
      }
    })

    it("never reads a token from the query string", async () => {
      const response = await fetch(`${resource}?access_token=${token}`, { method: "POST", headers: mcpHeaders(), body: rpc("tools/list") })
      expect(response.status).toBe(401)
    })

    it.each([
      ["SDK v1 client", connectSdkV1],
      ["SDK v2 client", connectSdkV2]
    ] as const)("lets the %s discover, register, authorize and call a tool as the IdP's user", async (_name, connect) => {
      const session = await connect({ url: resource, loginHint: "alice", scope: "mcp" })
      try {
        const result = toolText(await session.callTool("whoami"))
        expect(result).toMatchObject({ tool: "whoami", userId: "alice", email: "alice@example.com", roles: ["editor"] })
      } finally {
        await session.close()
      }
    })

    it("answers a call to a tool needing more scope with 403 insufficient_scope naming every scope it needs", async () => {
      const response = await post(rpc("tools/call", { name: "admin-report", arguments: {} }), `Bearer ${token}`)
      expect(response.status).toBe(403)
      expect(response.headers.get("www-authenticate")).toBe(
        `Bearer resource_metadata="${metadataUrl}", scope="mcp admin", error="insufficient_scope", error_description="The access token lacks a scope this operation requires"`
      )
    })

    it("requires a tool's scopes whatever the Content-Type says, as long as the SDK would read the body as JSON", async () => {
      // the SDK transports accept any Content-Type containing "application/json"; a guard that only reads bodies of
      // exactly application/json would hand these to the SDK unchecked (HTTP step-up bypassed)
      for (const type of ["text/plain; x=application/json", "application/json-seq", "Application/JSON; charset=utf-8", "application/vnd.x+json", "application/jsonx", " application/json", "application/json\t"]) {
        const response = await post(rpc("tools/call", { name: "admin-report", arguments: {} }), `Bearer ${token}`, { "content-type": type })
        // 403 from the guard, or 415 from a transport that does not take this type: never the tool's answer
        expect({ type, refused: [403, 415].includes(response.status) }).toEqual({ type, refused: true })
      }
    })

    it("answers 401 before 403 when the token is expired, whatever the tool needs", async () => {
      const expired = (await getTokens({ idp, scope: "mcp", loginHint: "expired-user" })).access_token
      const response = await post(rpc("tools/call", { name: "admin-report", arguments: {} }), `Bearer ${expired}`)
      expect(response.status).toBe(401)
      expect(response.headers.get("www-authenticate")).toContain('error="invalid_token"')
      expect(await response.json()).toMatchObject({ error_description: "The access token expired" })
    })

    it("lets the SDK v2 client step up to the scopes a tool needs and retry", async () => {
      // the first authorization asks for what the 401 challenge names: "mcp"
      const session = await connectSdkV2({ url: resource, loginHint: "alice" })
      try {
        expect(toolText(await session.callTool("whoami")).scopes).not.toContain("admin")
        const result = toolText(await session.callTool("admin-report"))
        expect(result).toMatchObject({ tool: "admin-report", userId: "alice" })
        expect(result.scopes).toEqual(expect.arrayContaining(["mcp", "admin"]))
        const last = session.provider.authorizationUrls.at(-1)!
        expect(last.searchParams.get("scope")?.split(" ")).toEqual(expect.arrayContaining(["mcp", "admin"]))
      } finally {
        await session.close()
      }
    })

    it("gates tools on roles, permissions and rules from the token's claims", async () => {
      const bob = (await getTokens({ idp, scope: "mcp", loginHint: "bob" })).access_token
      for (const tool of ["editor-tool", "reports-tool", "rule-tool"]) {
        const allowed = await rpcResult(await post(rpc("tools/call", { name: tool, arguments: {} }), `Bearer ${token}`))
        expect({ tool, isError: allowed.result?.isError ?? false }).toEqual({ tool, isError: false })
        expect(JSON.parse(allowed.result?.content?.[0]?.text ?? "{}")).toMatchObject({ tool, userId: "alice" })
        const denied = await rpcResult(await post(rpc("tools/call", { name: tool, arguments: {} }), `Bearer ${bob}`))
        expect({ tool, isError: denied.result?.isError }).toEqual({ tool, isError: true })
        expect(denied.result?.content?.[0]?.text).toMatch(/Forbidden/)
      }
    })
  })
}
