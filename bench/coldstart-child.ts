/**
 * One cold start: a process that builds one adapter's server (with or without auth), listens on 127.0.0.1 and prints
 * `READY <port>`. Everything is imported after the process starts, as an application would.
 *
 * Usage: coldstart-child.ts <node|express|hono> <auth|none>; environment BENCH_ISSUER, BENCH_JWKS_URI, BENCH_RESOURCE.
 */
import { createServer, type RequestListener } from "node:http"
import type { AddressInfo } from "node:net"

const [adapter, mode] = process.argv.slice(2) as [string, string]
const withAuth = mode === "auth"
const idp = { issuer: process.env["BENCH_ISSUER"]!, jwksUri: process.env["BENCH_JWKS_URI"]! }
const resource = process.env["BENCH_RESOURCE"]!

const { createToolServer } = await import("./lib/mcp.js")
const auth = withAuth ? await (await import("./lib/auth.js")).makeAuth({ idp, resource }) : undefined

const listener = async (): Promise<RequestListener> => {
  switch (adapter) {
    case "node": {
      const { protect } = await import("@mcp-oauth/node")
      const { statelessHandlerV1 } = await import("@mcp-oauth/node/sdk-v1")
      const handler = statelessHandlerV1(createToolServer)
      const guarded = auth === undefined ? handler : protect(auth, handler)
      return (req, res) => void guarded(req, res)
    }
    case "express": {
      const { default: express } = await import("express")
      const { mcpAuthRouter, requireMcpAuth, statelessMcpHandlerV1 } = await import("@mcp-oauth/express")
      const app = express()
      app.use(express.json())
      if (auth === undefined) app.post("/mcp", statelessMcpHandlerV1(createToolServer))
      else {
        app.use(mcpAuthRouter(auth))
        app.post("/mcp", requireMcpAuth(auth), statelessMcpHandlerV1(createToolServer))
      }
      return app
    }
    case "hono": {
      const { Hono } = await import("hono")
      const { getRequestListener } = await import("@hono/node-server")
      const app = new Hono()
      if (auth === undefined) {
        const { WebStandardStreamableHTTPServerTransport } = await import("@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js")
        app.post("/mcp", async (c) => {
          const server = createToolServer()
          const transport = new WebStandardStreamableHTTPServerTransport({})
          await server.connect(transport)
          return transport.handleRequest(c.req.raw)
        })
      } else {
        const { mcpAuthMiddleware, mcpAuthRoutes } = await import("@mcp-oauth/hono")
        const { statelessMcpHandlerV1 } = await import("@mcp-oauth/hono/sdk-v1")
        app.route("/", mcpAuthRoutes(auth))
        app.use("/mcp", mcpAuthMiddleware(auth))
        app.post("/mcp", statelessMcpHandlerV1(createToolServer))
      }
      return getRequestListener(app.fetch)
    }
    default:
      throw new Error(`unknown adapter ${adapter}`)
  }
}

const server = createServer(await listener())
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`READY ${(server.address() as AddressInfo).port}\n`)
})
process.stdin.on("end", () => process.exit(0))
process.stdin.resume()
