/**
 * The server side of the load run, in a process of its own so the load generator does not share its event loop:
 * the `whoami` MCP server behind one adapter (RELIABILITY_ADAPTER = node, express or hono), guarded by McpAuth over
 * the test IdP's key set, requiring the `mcp` scope. Prints `READY` when listening; stops when its standard input closes.
 *
 * Environment: RELIABILITY_ADAPTER, RELIABILITY_PORT, RELIABILITY_ISSUER, RELIABILITY_JWKS_URI, RELIABILITY_RESOURCE.
 */
import { createServer, type Server } from "node:http"
import { Custom, McpAuth } from "@mcp-oauth/auth-core"
import { createWhoamiServer } from "./load-tools.js"
import { untilStdinCloses } from "./untilStdinCloses.js"

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === "") throw new Error(`load-server: ${name} is not set`)
  return value
}

const adapter = env("RELIABILITY_ADAPTER")
const port = Number(env("RELIABILITY_PORT"))
const resource = env("RELIABILITY_RESOURCE")

const auth = await McpAuth.make(
  McpAuth.layer(
    { resource, scopesSupported: ["mcp", "admin"], requiredScopes: ["mcp"], resourceName: "reliability load" },
    Custom.layer({ issuer: env("RELIABILITY_ISSUER"), jwksUri: env("RELIABILITY_JWKS_URI"), mirrorMetadata: false })
  )
)

const listenOn = (server: Server) =>
  new Promise<Server>((resolve, reject) => {
    server.once("error", reject)
    server.listen(port, "127.0.0.1", () => resolve(server))
  })

const start = async (): Promise<Server> => {
  if (adapter === "node") {
    const { listen } = await import("@mcp-oauth/node")
    const { statelessHandlerV1 } = await import("@mcp-oauth/node/sdk-v1")
    return (await listen(auth, statelessHandlerV1(createWhoamiServer), { port })).server
  }
  if (adapter === "express") {
    const { default: express } = await import("express")
    const { mcpAuthRouter, requireMcpAuth, statelessMcpHandlerV1 } = await import("@mcp-oauth/express")
    const app = express()
    app.use(mcpAuthRouter(auth))
    app.post("/mcp", express.json(), requireMcpAuth(auth), statelessMcpHandlerV1(createWhoamiServer))
    return listenOn(createServer(app))
  }
  if (adapter === "hono") {
    const { Hono } = await import("hono")
    const { getRequestListener } = await import("@hono/node-server")
    const { mcpAuthMiddleware, mcpAuthRoutes } = await import("@mcp-oauth/hono")
    const { statelessMcpHandlerV1 } = await import("@mcp-oauth/hono/sdk-v1")
    const app = new Hono()
    app.route("/", mcpAuthRoutes(auth))
    app.use("/mcp", mcpAuthMiddleware(auth))
    app.post("/mcp", statelessMcpHandlerV1(createWhoamiServer))
    return listenOn(createServer(getRequestListener(app.fetch)))
  }
  throw new Error(`load-server: RELIABILITY_ADAPTER must be node, express or hono, not ${adapter}`)
}

const server = await start()
process.stdout.write("READY\n")

untilStdinCloses(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  await auth.dispose()
})
