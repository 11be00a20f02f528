/** Runs in `npm test`: docs/testing.md, testing your own server with the TestIdp and the SDK client, verbatim. */

import { AuthContext, Custom, McpAuth } from "@mcp-oauth/auth-core"
import { listen, type Listening } from "@mcp-oauth/node"
import { statelessHandlerV1 } from "@mcp-oauth/node/sdk-v1"
import { connectSdkV1, getTokens, startTestIdp, type TestIdp } from "@mcp-oauth/testing"
import { freePort } from "@mcp-oauth/testing/contract"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { afterAll, beforeAll, expect, it } from "vitest"

// your server's factory (here a one-tool server)
const createServer = () => {
  const server = new McpServer({ name: "my-server", version: "1.0.0" })
  server.registerTool("whoami", { description: "The signed-in user" }, async (extra) => ({
    content: [{ type: "text", text: AuthContext.of(extra)?.user.email ?? "nobody" }]
  }))
  return server
}

let idp: TestIdp
let server: Listening
let resource: string

beforeAll(async () => {
  const port = await freePort()
  resource = `http://127.0.0.1:${port}/mcp`
  // a real OpenID provider in-process: dynamic registration, PKCE, JWT access tokens per resource, headless login
  idp = await startTestIdp({
    resource: [resource, "https://other.example.com/mcp"],
    scopes: ["mcp"],
    users: { alice: { email: "alice@example.com" } }
  })
  const auth = await McpAuth.make(McpAuth.layer({ resource, scopesSupported: ["mcp"] }, Custom.layer({ issuer: idp.issuer })))
  server = await listen(auth, statelessHandlerV1(createServer), { port })
})
afterAll(async () => {
  await server?.close()
  await idp?.close()
})

it("lets the official SDK client discover the IdP, register, sign in and call a tool", async () => {
  const session = await connectSdkV1({ url: resource, loginHint: "alice" })
  try {
    expect((await session.callTool("whoami")).content[0]?.text).toBe("alice@example.com")
  } finally {
    await session.close()
  }
})

it("refuses a token issued for another resource", async () => {
  // getTokens runs the authorization code flow itself, for raw HTTP tests
  const { access_token } = await getTokens({ idp, loginHint: "alice", resource: "https://other.example.com/mcp" })
  const response = await fetch(resource, {
    method: "POST",
    headers: { authorization: `Bearer ${access_token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" })
  })
  expect(response.status).toBe(401)
  expect(response.headers.get("www-authenticate")).toContain('error="invalid_token"')
})
