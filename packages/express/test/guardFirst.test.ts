/**
 * The guard mounted without a body parser before it: it reads the JSON-RPC body itself, and only once the token is
 * valid, so an anonymous client cannot make the server read (or wait for) a body.
 */
import type { Server } from "node:http"
import { request as httpRequest } from "node:http"
import express from "express"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Authorization, Challenge, Custom, McpAuth } from "@mcp-oauth/auth-core"
import { getTokens, startTestIdp, type TestIdp } from "@mcp-oauth/testing"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { mcpAuthRouter, requireMcpAuth, statelessMcpHandlerV1 } from "../src/index.js"
import { freePort, postMcp, toolCall } from "./support/server.js"

const text = (value: unknown) => ({ content: [{ type: "text" as const, text: JSON.stringify(value) }] })

const createServer = () => {
  const server = new McpServer({ name: "guard-first", version: "0.0.0" })
  server.registerTool("whoami", { description: "caller" }, async (extra) => text({ clientId: extra.authInfo?.clientId ?? null }))
  server.registerTool("admin-report", { description: "admin only" }, async () => text({ report: "ok" }))
  return server
}


describe("requireMcpAuth without a body parser before it", () => {
  let idp: TestIdp
  let auth: McpAuth.McpAuth
  let server: Server
  let port: number
  let origin: string
  let token: string

  const post = (body: string, bearer: string | undefined) => postMcp(origin, bearer, body)

  /** Starts a chunked upload that never finishes; resolves with the status if the server answers before the body ends. */
  const endlessUpload = (bearer: string | undefined): Promise<number | "no answer"> =>
    new Promise((resolve) => {
      const req = httpRequest({
        host: "127.0.0.1",
        port,
        path: "/mcp",
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "transfer-encoding": "chunked",
          ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` })
        }
      })
      const timer = setTimeout(() => {
        req.destroy()
        resolve("no answer")
      }, 3_000)
      req.on("response", (response) => {
        clearTimeout(timer)
        response.resume()
        req.destroy()
        resolve(response.statusCode ?? 0)
      })
      req.on("error", () => undefined)
      req.write(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{"pad":"${"x".repeat(1024)}`)
    })

  beforeAll(async () => {
    port = await freePort()
    origin = `http://127.0.0.1:${port}`
    const resource = `${origin}/mcp`
    idp = await startTestIdp({ resource, scopes: ["mcp", "admin"] })
    auth = await McpAuth.make(
      McpAuth.layer({ resource, scopesSupported: ["mcp", "admin"] }, Custom.layer({ issuer: idp.issuer })),
      { policy: new Authorization.Policy().set("tool", "admin-report", { scopes: ["admin"] }) }
    )
    const app = express()
    app.use(mcpAuthRouter(auth))
    app.post("/mcp", requireMcpAuth(auth, { maxBodyBytes: 16 * 1024 }), express.json(), statelessMcpHandlerV1(createServer))
    server = await new Promise((resolve) => {
      const listening = app.listen(port, "127.0.0.1", () => resolve(listening))
    })
    token = (await getTokens({ idp, scope: "mcp" })).access_token
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await auth.dispose()
    await idp.close()
  })

  it("serves a tool call, the guard's parsed body reaching the SDK (express.json() after it leaves it alone)", async () => {
    const response = await post(toolCall("whoami"), token)
    expect(response.status).toBe(200)
    const body = await response.text()
    const data = body.startsWith("{") ? body : (body.split("\n").find((l) => l.startsWith("data:")) ?? "").slice(5)
    expect(JSON.parse(JSON.parse(data).result.content[0].text).clientId).toEqual(expect.any(String))
  })

  it("answers an anonymous client at once, without waiting for its body", async () => {
    expect(await endlessUpload(undefined)).toBe(401)
    expect(await endlessUpload("not-a-jwt")).toBe(401)
  })

  it("reads the body once the token is valid: an upload that never ends gets no answer until it does", async () => {
    expect(await endlessUpload(token)).toBe("no answer")
  })

  it("still requires the per-tool scopes from the body it read (403 insufficient_scope)", async () => {
    const response = await post(toolCall("admin-report"), token)
    expect(response.status).toBe(403)
    expect(Challenge.parse(response.headers.get("www-authenticate")!)?.params.get("error")).toBe("insufficient_scope")
  })

  it("requires the tool's scopes for every Content-Type the SDK would read as JSON (403, or the SDK's 415)", async () => {
    for (const type of ["Application/JSON; charset=utf-8", "application/vnd.x+json", "text/plain; x=application/json"]) {
      const response = await fetch(`${origin}/mcp`, {
        method: "POST",
        headers: { "content-type": type, accept: "application/json, text/event-stream", authorization: `Bearer ${token}` },
        body: toolCall("admin-report")
      })
      expect({ type, refused: [403, 415].includes(response.status) }).toEqual({ type, refused: true })
    }
  })

  it("refuses a body over its limit with 413 and JSON that does not parse with 400", async () => {
    const big = await post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping", params: { pad: "x".repeat(32 * 1024) } }), token)
    expect(big.status).toBe(413)
    const garbled = await post("{not json", token)
    expect(garbled.status).toBe(400)
    expect((await garbled.json()).error.code).toBe(-32700)
  })
})
