/**
 * What docs/authorization.md promises, end to end with oidc-provider tokens: scope implications at the HTTP layer
 * and in tools, the 403 step-up challenge naming every scope an operation needs, roles refused before the tool runs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { AuthContext, Custom, McpAuth } from "@mcp-oauth/auth-core"
import { listen, type Listening } from "@mcp-oauth/node"
import { statelessHandlerV1 } from "@mcp-oauth/node/sdk-v1"
import { getTokens, startTestIdp, type TestIdp } from "@mcp-oauth/testing"
import { freePort } from "@mcp-oauth/testing/contract"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"

const text = (value: unknown) => ({ content: [{ type: "text" as const, text: JSON.stringify(value) }] })

describe("per-tool authorization as documented", () => {
  let idp: TestIdp
  let server: Listening
  let resource: string

  beforeAll(async () => {
    const port = await freePort()
    resource = `http://127.0.0.1:${port}/mcp`
    idp = await startTestIdp({
      resource,
      scopes: ["files:read", "files:write"],
      users: { ana: { roles: ["auditor"] }, bo: { roles: ["viewer"] } }
    })
    const implications = { "files:write": ["files:read"] }
    const auth = await McpAuth.make(
      McpAuth.layer(
        { resource, scopesSupported: ["files:read", "files:write"], scopeImplications: implications },
        Custom.layer({ issuer: idp.issuer })
      )
    )
    auth.policy.set("tool", "read-file", { scopes: ["files:read"] })
    auth.policy.set("tool", "write-file", { scopes: ["files:write"] })
    const createServer = () => {
      const mcp = new McpServer({ name: "files", version: "1.0.0" })
      mcp.registerTool("read-file", { description: "Reads" }, AuthContext.guarded({ scopes: ["files:read"] }, async (extra) => {
        const caller = AuthContext.of(extra, implications)!
        return text({ scopes: caller.scopes, canRead: caller.hasScope("files:read") })
      }, implications))
      mcp.registerTool("write-file", { description: "Writes" }, AuthContext.guarded({ scopes: ["files:write"] }, async () => text("written"), implications))
      mcp.registerTool("audit-log", { description: "Audit" }, AuthContext.guarded({ roles: ["auditor", "admin"] }, async () => text([])))
      return mcp
    }
    server = await listen(auth, statelessHandlerV1(createServer), { port })
  })
  afterAll(async () => {
    await server?.close()
    await idp?.close()
  })

  const call = async (token: string, name: string) => {
    const response = await fetch(resource, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: {} } })
    })
    const body = await response.text()
    const message = body.startsWith("{") ? body : (body.split("\n").find((line) => line.startsWith("data:")) ?? "").slice(5)
    return { status: response.status, challenge: response.headers.get("www-authenticate"), result: response.ok ? JSON.parse(message).result : undefined }
  }

  it("lets files:write satisfy files:read, at the HTTP layer and in the tool", async () => {
    const { access_token } = await getTokens({ idp, scope: "files:write" })
    const { status, result } = await call(access_token, "read-file")
    expect(status).toBe(200)
    expect(JSON.parse(result.content[0].text)).toEqual({ scopes: ["files:write"], canRead: true })
  })

  it("answers a call lacking files:write with 403 insufficient_scope naming it, so the client can step up", async () => {
    const { access_token } = await getTokens({ idp, scope: "files:read" })
    const { status, challenge } = await call(access_token, "write-file")
    expect(status).toBe(403)
    expect(challenge).toContain('error="insufficient_scope"')
    expect(challenge).toContain('scope="files:write"')
  })

  it("runs a role-gated tool for one of its roles and refuses anyone else before it runs", async () => {
    const ana = await call((await getTokens({ idp, scope: "files:read", loginHint: "ana" })).access_token, "audit-log")
    expect(ana.result.isError ?? false).toBe(false)
    const bo = await call((await getTokens({ idp, scope: "files:read", loginHint: "bo" })).access_token, "audit-log")
    expect(bo.status).toBe(200)
    expect(bo.result.isError).toBe(true)
    expect(bo.result.content[0].text).toContain("Requires one of the roles: auditor, admin")
  })
})
