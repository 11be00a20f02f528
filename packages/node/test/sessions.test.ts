import { randomUUID } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Custom, McpAuth } from "@mcp-oauth/auth-core"
import { getTokens, startTestIdp, type TestIdp } from "@mcp-oauth/testing"
import { freePort } from "@mcp-oauth/testing/contract"
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js"
import { type Listening, listen } from "../src/index.js"
import { createWhoamiServer } from "./support/harness.js"

/** A stateful server: one transport per session, as the SDK's session example does. */
describe("sessions are bound to the subject that opened them", () => {
  let idp: TestIdp
  let running: Listening
  let url: string

  beforeAll(async () => {
    const port = await freePort()
    url = `http://127.0.0.1:${port}/mcp`
    idp = await startTestIdp({ resource: url, scopes: ["mcp"] })
    const auth = await McpAuth.make(McpAuth.layer({ resource: url, scopesSupported: ["mcp"] }, Custom.layer({ issuer: idp.issuer })))
    const transports = new Map<string, StreamableHTTPServerTransport>()
    running = await listen(
      auth,
      async (req, res, body) => {
        const sessionId = req.headers["mcp-session-id"]
        let transport = typeof sessionId === "string" ? transports.get(sessionId) : undefined
        if (transport === undefined) {
          transport = new StreamableHTTPServerTransport({
            sessionIdGenerator: randomUUID,
            onsessioninitialized: (id) => void transports.set(id, transport!)
          })
          await createWhoamiServer().connect(transport)
        }
        await transport.handleRequest(req, res, body)
      },
      { port }
    )
  })
  afterAll(async () => {
    await running.close()
    await idp.close()
  })

  const post = (authorization: string, body: object, sessionId?: string) =>
    fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        authorization,
        ...(sessionId === undefined ? {} : { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18" })
      },
      body: JSON.stringify(body)
    })

  it("refuses another subject's token on a session, and keeps serving the owner", async () => {
    const alice = (await getTokens({ idp, loginHint: "alice", scope: "mcp" })).access_token
    const mallory = (await getTokens({ idp, loginHint: "mallory", scope: "mcp" })).access_token
    const init = await post(`Bearer ${alice}`, {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "0" } }
    })
    expect(init.status).toBe(200)
    const sessionId = init.headers.get("mcp-session-id")!
    expect(sessionId).toBeTruthy()
    await init.text()
    const initialized = await post(`Bearer ${alice}`, { jsonrpc: "2.0", method: "notifications/initialized" }, sessionId)
    expect(initialized.status).toBe(202)

    const hijack = await post(`Bearer ${mallory}`, { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "whoami", arguments: {} } }, sessionId)
    expect(hijack.status).toBe(403)
    expect(await hijack.json()).toMatchObject({ error: "access_denied" })
    // no step-up challenge: no scope would help
    expect(hijack.headers.get("www-authenticate")).toBeNull()

    const owner = await post(`Bearer ${alice}`, { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "whoami", arguments: {} } }, sessionId)
    expect(owner.status).toBe(200)
    expect(await owner.text()).toContain("alice")
  })

  it("re-verifies the token on every request of a session", async () => {
    const alice = (await getTokens({ idp, loginHint: "alice", scope: "mcp" })).access_token
    const init = await post(`Bearer ${alice}`, {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "0" } }
    })
    const sessionId = init.headers.get("mcp-session-id")!
    await init.text()
    const noToken = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-session-id": sessionId },
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" })
    })
    expect(noToken.status).toBe(401)
  })
})
