import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connectSdkV1, connectSdkV2, getTokens, startTestIdp, type TestIdp } from "@mcp-oauth/testing"
import { freePort } from "@mcp-oauth/testing/contract"
import { z } from "zod"
import { MCPServer, oauthCustomProvider } from "../src/server.js"

describe("the MCPServer facade in the seed's quick-start shape", () => {
  let idp: TestIdp
  let server: MCPServer
  let url: string

  beforeAll(async () => {
    const port = await freePort()
    url = `http://127.0.0.1:${port}/mcp`
    idp = await startTestIdp({
      resource: url,
      scopes: ["mcp", "admin"],
      users: { alice: { email: "alice@example.com", name: "Alice", roles: ["support"] } }
    })

    // the quick start, as users write it
    server = new MCPServer({
      name: "my-secure-server",
      version: "1.0.0",
      oauth: oauthCustomProvider({ issuer: idp.issuer, scopes: ["mcp"] })
    })
    server.tool({
      name: "get-user-profile",
      description: "Get the authenticated user profile",
      cb: async (_params, context) => {
        const user = context.auth.user
        return { userId: user.userId, email: user.email, name: user.name }
      }
    })
    server.tool({
      name: "admin-report",
      description: "Needs scope admin",
      requires: { scopes: ["admin"] },
      cb: async (_params, context) => `report for ${context.auth.user.userId}`
    })
    server.tool({
      name: "support-desk",
      description: "Needs role support",
      requires: { roles: ["support"] },
      cb: async () => "ok"
    })
    server.tool<{ text: string }>({
      name: "echo",
      description: "Echoes its argument for the caller",
      inputSchema: { text: z.string() },
      cb: async (params, context) => ({ text: params.text, by: context.auth.user.userId, scopes: context.auth.scopes })
    })
    await server.listen(port)
  })
  afterAll(async () => {
    await server.close()
    await idp.close()
  })

  it("serves the user to a tool through context.auth.user, for the SDK v1 client", async () => {
    const session = await connectSdkV1({ url, loginHint: "alice" })
    try {
      const result = await session.callTool("get-user-profile")
      expect(JSON.parse(result.content[0]!.text!)).toEqual({ userId: "alice", email: "alice@example.com", name: "Alice" })
      const echoed = await session.callTool("echo", { text: "hi" })
      expect(JSON.parse(echoed.content[0]!.text!)).toMatchObject({ text: "hi", by: "alice" })
    } finally {
      await session.close()
    }
  })

  it("leaves tools the caller may not call out of tools/list, and lets the SDK v2 client step up", async () => {
    const session = await connectSdkV2({ url, loginHint: "bob" })
    try {
      const listed = (await session.client.listTools()).tools.map((t) => t.name).sort()
      expect(listed).toEqual(["echo", "get-user-profile"])
      const report = await session.callTool("admin-report")
      expect(report.content[0]!.text).toBe("report for bob")
    } finally {
      await session.close()
    }
  })

  it("refuses a role-gated tool before it runs", async () => {
    const { access_token } = await getTokens({ idp, loginHint: "bob", scope: "mcp" })
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${access_token}` },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "support-desk", arguments: {} } })
    })
    const text = await response.text()
    const message = JSON.parse(text.startsWith("{") ? text : text.split("\n").find((l) => l.startsWith("data:"))!.slice(5))
    // hidden from bob, so the SDK reports it as unknown or refused; either way it never ran
    expect(JSON.stringify(message)).not.toContain('"ok"')
    expect(message.result?.isError ?? message.error !== undefined).toBe(true)
  })
})
