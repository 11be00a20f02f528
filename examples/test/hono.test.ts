import { createServer } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { getTokens, startTestIdp, type TestIdp } from "@mcp-oauth/testing"
import { type HonoExample, startHonoExample } from "../hono/server.js"

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

const callTool = async (mcpUrl: string, token: string, name: string) => {
  const response = await fetch(mcpUrl, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${token}` },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: {} } })
  })
  const text = await response.text()
  const message = JSON.parse(text.startsWith("{") ? text : (text.split("\n").find((l) => l.startsWith("data:")) ?? "").slice(5))
  return { status: response.status, result: message.result as { content: Array<{ text: string }>; isError?: boolean } }
}

describe("examples/hono", () => {
  let idp: TestIdp
  let example: HonoExample
  beforeAll(async () => {
    const port = await freePort()
    // roles ride in the test IdP's access tokens as the `roles` claim, which the Custom provider reads by default
    idp = await startTestIdp({
      resource: `http://127.0.0.1:${port}/mcp`,
      scopes: ["mcp"],
      users: { maria: { email: "maria@example.com", name: "Maria", roles: ["manager"] }, sam: { email: "sam@example.com", name: "Sam" } }
    })
    example = await startHonoExample({ PORT: String(port), MCP_OAUTH_ISSUER: idp.issuer, MCP_OAUTH_SCOPES: "mcp" })
  })
  afterAll(async () => {
    await example?.close()
    await idp?.close()
  })

  it("challenges anonymous requests and serves the metadata naming the issuer", async () => {
    expect((await fetch(example.mcpUrl, { method: "POST" })).status).toBe(401)
    const metadata = await (await fetch(new URL("/.well-known/oauth-protected-resource/mcp", example.mcpUrl))).json()
    expect(metadata).toMatchObject({ resource: example.mcpUrl, authorization_servers: [idp.issuer], scopes_supported: ["mcp"] })
  })

  it("serves the caller's profile from get-user-profile", async () => {
    const { access_token } = await getTokens({ idp, loginHint: "maria" })
    const { status, result } = await callTool(example.mcpUrl, access_token, "get-user-profile")
    expect(status).toBe(200)
    expect(JSON.parse(result.content[0]!.text)).toEqual({ userId: "maria", email: "maria@example.com", name: "Maria", roles: ["manager"] })
  })

  it("runs team-report for a manager and refuses it, before it runs, for anyone else", async () => {
    const maria = (await getTokens({ idp, loginHint: "maria" })).access_token
    const allowed = await callTool(example.mcpUrl, maria, "team-report")
    expect(allowed.result.isError ?? false).toBe(false)
    expect(JSON.parse(allowed.result.content[0]!.text)).toEqual({ report: "all on track", for: "maria" })
    const sam = (await getTokens({ idp, loginHint: "sam" })).access_token
    const denied = await callTool(example.mcpUrl, sam, "team-report")
    expect(denied.result.isError).toBe(true)
    expect(denied.result.content[0]!.text).toMatch(/Forbidden: Requires one of the roles: manager/)
  })

  it("names the missing variable when MCP_OAUTH_ISSUER is not set", async () => {
    await expect(startHonoExample({ PORT: String(await freePort()) })).rejects.toThrow(/MCP_OAUTH_ISSUER/)
  })
})
