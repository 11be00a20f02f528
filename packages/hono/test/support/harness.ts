import type { Server } from "node:http"
import { createServer } from "node:net"
import { serve } from "@hono/node-server"
import { Hono, type Handler } from "hono"
import { Custom, McpAuth } from "@mcp-oauth/auth-core"
import { startTestIdp, type TestIdp, type TestIdpOptions } from "@mcp-oauth/testing"
import { McpServer as McpServerV1 } from "@modelcontextprotocol/sdk/server/mcp.js"
import { McpServer as McpServerV2 } from "@modelcontextprotocol/server"
import { type McpAuthEnv, mcpAuthMiddleware, mcpAuthRoutes } from "../../src/index.js"
import { statelessMcpHandlerV1 } from "../../src/sdkV1.js"
import { statelessMcpHandlerV2 } from "../../src/sdkV2.js"

/** A free loopback port (the resource URL must be known before the IdP starts). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

/** Serves a Hono app with @hono/node-server on 127.0.0.1:port. */
export const serveApp = (app: { readonly fetch: (request: Request) => Response | Promise<Response> }, port: number) =>
  new Promise<{ readonly close: () => Promise<void> }>((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, () =>
      resolve({
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            ;(server as Server).closeAllConnections()
          })
      })
    ) as Server
    server.once("error", reject)
  })

const text = (value: unknown) => ({ content: [{ type: "text" as const, text: JSON.stringify(value) }] })

/** A v1 server whose tools return the `extra.authInfo` they received. */
export const createServerV1 = (): McpServerV1 => {
  const server = new McpServerV1({ name: "hono-adapter-v1", version: "0.0.0" })
  server.registerTool("whoami", { description: "The SDK AuthInfo" }, async (extra) => text({ sdk: "v1", authInfo: extra.authInfo }))
  server.registerTool("admin-report", { description: "Needs admin" }, async () => text({ report: "ok" }))
  return server
}

/** A v2 server whose tools return the `ctx.http.authInfo` they received. */
export const createServerV2 = (): McpServerV2 => {
  const server = new McpServerV2({ name: "hono-adapter-v2", version: "0.0.0" })
  server.registerTool("whoami", { description: "The SDK AuthInfo" }, async (ctx) => text({ sdk: "v2", authInfo: ctx.http?.authInfo }))
  server.registerTool("admin-report", { description: "Needs admin" }, async () => text({ report: "ok" }))
  return server
}

/** The app under test: routes first, the guard on the MCP endpoint, a route reading `c.var.auth`, the MCP handler. */
export const protectedApp = (auth: McpAuth.McpAuth, mcp: Handler<McpAuthEnv>): Hono<McpAuthEnv> => {
  const app = new Hono<McpAuthEnv>()
  app.route("/", mcpAuthRoutes(auth))
  app.use("/mcp/*", mcpAuthMiddleware(auth))
  app.get("/mcp/me", (c) => c.json({ subject: c.var.auth.subject, user: c.var.auth.user, sdkClientId: c.var.sdkAuthInfo.clientId }))
  // an application route behind the guard that reads the body itself, after the guard read it for the scope check
  app.post("/mcp/echo", async (c) => c.json({ raw: await c.req.raw.text(), parsedByGuard: c.var.mcpBody ?? null }))
  // the same through Hono's own request helpers, which read `c.req.raw` underneath
  app.post("/mcp/echo-hono", async (c) =>
    c.json({ method: c.req.method, contentType: c.req.header("content-type"), url: c.req.url, body: await c.req.json() })
  )
  // a middleware replacing the request after the guard: what it put there is what later handlers read
  app.post("/mcp/echo-replaced", async (c, next) => {
    c.req.raw = new Request(c.req.raw.url, { method: "POST", headers: c.req.raw.headers, body: '{"replaced":true}' })
    await next()
  })
  app.post("/mcp/echo-replaced", async (c) => c.json(await c.req.json()))
  // a handler that fails (the error handler answers) and one answering with a response whose headers are immutable
  app.get("/mcp/fails", () => {
    throw new Error("handler failed")
  })
  app.get("/mcp/immutable", (c) => fetch(new URL("/.well-known/oauth-protected-resource/mcp", c.req.url)))
  app.onError((_error, c) => c.json({ error: "handled" }, 502))
  app.all("/mcp", mcp)
  return app
}

/** An IdP and a Hono server protected for it, serving with SDK v1 or v2. */
export const startStack = async (sdk: "v1" | "v2", idpOptions: Partial<TestIdpOptions> = {}) => {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const resource = `${origin}/mcp`
  const idp: TestIdp = await startTestIdp({ resource, scopes: ["mcp", "admin"], ...idpOptions })
  const auth = await McpAuth.make(
    McpAuth.layer({ resource, scopesSupported: ["mcp"], resourceName: "test" }, Custom.layer({ issuer: idp.issuer }))
  )
  auth.policy.set("tool", "admin-report", { scopes: ["admin"] })
  const v2 = sdk === "v2" ? statelessMcpHandlerV2(createServerV2) : undefined
  const server = await serveApp(protectedApp(auth, v2 ?? statelessMcpHandlerV1(createServerV1)), port)
  return {
    idp,
    auth,
    origin,
    resource,
    close: async () => {
      await server.close()
      await v2?.close()
      await auth.dispose()
      await idp.close()
    }
  }
}

/** A JSON-RPC POST to the MCP endpoint with raw Authorization values (fetch joins several with ", "). */
export const postMcp = (origin: string, authorization: string | ReadonlyArray<string> | undefined, body: unknown, headers: Record<string, string> = {}) => {
  const all = new Headers({ "content-type": "application/json", accept: "application/json, text/event-stream", ...headers })
  for (const value of authorization === undefined ? [] : typeof authorization === "string" ? [authorization] : authorization) {
    all.append("authorization", value)
  }
  return fetch(`${origin}/mcp`, { method: "POST", headers: all, body: typeof body === "string" ? body : JSON.stringify(body) })
}

/** A `tools/call` message. */
export const toolCall = (name: string, id = 1) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: {} } })

/** The JSON-RPC message of a JSON or single-event SSE response. */
export const rpcMessage = async (response: Response): Promise<{ result?: { content: Array<{ text: string }>; isError?: boolean }; error?: unknown }> => {
  const body = await response.text()
  const json = body.trimStart().startsWith("{") ? body : (body.split("\n").find((line) => line.startsWith("data:")) ?? "").slice(5)
  return JSON.parse(json)
}

/** The parsed text of a tool result. */
export const toolText = async (response: Response): Promise<any> => JSON.parse((await rpcMessage(response)).result!.content[0]!.text)
