import { createServer } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { getTokens, startTestIdp, type TestIdp } from "@mcp-oauth/testing"
import { type ExpressExample, startExpressExample } from "../express/server.js"

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

const callTool = (mcpUrl: string, token: string, name: string) =>
  fetch(mcpUrl, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${token}` },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: {} } })
  })

const toolJson = async (response: Response) => {
  const text = await response.text()
  const json = text.startsWith("{") ? text : (text.split("\n").find((l) => l.startsWith("data:")) ?? "").slice(5)
  return JSON.parse(JSON.parse(json).result.content[0].text)
}

describe.each(["v1", "v2"])("the Express example (SDK %s)", (sdk) => {
  let idp: TestIdp
  let running: ExpressExample
  beforeAll(async () => {
    const port = await freePort()
    idp = await startTestIdp({ resource: `http://127.0.0.1:${port}/mcp`, scopes: ["mcp", "admin"] })
    running = await startExpressExample({ PORT: String(port), MCP_OAUTH_ISSUER: idp.issuer, MCP_OAUTH_SCOPES: "mcp admin", MCP_SDK: sdk })
  })
  afterAll(async () => {
    await running?.close()
    await idp?.close()
  })

  it("advertises the issuer and its scopes, and challenges a request without a token", async () => {
    const metadata = await (await fetch(new URL("/.well-known/oauth-protected-resource/mcp", running.mcpUrl))).json()
    expect(metadata).toMatchObject({ resource: running.mcpUrl, authorization_servers: [idp.issuer], scopes_supported: ["mcp", "admin"] })
    const response = await fetch(running.mcpUrl, { method: "POST" })
    expect(response.status).toBe(401)
  })

  it("answers get-user-profile as the signed-in user", async () => {
    const { access_token } = await getTokens({ idp, scope: "mcp", loginHint: "alice" })
    const response = await callTool(running.mcpUrl, access_token, "get-user-profile")
    expect(response.status).toBe(200)
    expect(await toolJson(response)).toMatchObject({ userId: "alice", scopes: ["mcp"] })
  })

  it("refuses admin-report without the admin scope with a 403 step-up challenge, and serves it with the scope", async () => {
    const { access_token } = await getTokens({ idp, scope: "mcp" })
    const refused = await callTool(running.mcpUrl, access_token, "admin-report")
    expect(refused.status).toBe(403)
    expect(refused.headers.get("www-authenticate")).toMatch(/error="insufficient_scope"/)
    expect(refused.headers.get("www-authenticate")).toMatch(/scope="admin"/)
    const admin = await getTokens({ idp, scope: "mcp admin" })
    const allowed = await callTool(running.mcpUrl, admin.access_token, "admin-report")
    expect(allowed.status).toBe(200)
    expect(await toolJson(allowed)).toEqual({ report: "all systems nominal" })
  })
})

describe("the Express example's configuration", () => {
  it.each([
    [{}, "MCP_OAUTH_ISSUER"],
    [{ MCP_OAUTH_ISSUER: "not a url" }, "MCP_OAUTH_ISSUER"],
    [{ MCP_OAUTH_ISSUER: "https://idp.example.com", MCP_OAUTH_JWKS_URI: "ftp://x" }, "MCP_OAUTH_JWKS_URI"],
    [{ MCP_OAUTH_ISSUER: "https://idp.example.com", PORT: "http" }, "PORT"],
    [{ MCP_OAUTH_ISSUER: "https://idp.example.com", MCP_SDK: "v3" }, "MCP_SDK"]
  ])("rejects %j naming %s", async (env, variable) => {
    await expect(startExpressExample({ PORT: "0", ...env })).rejects.toThrow(variable)
  })
})
