/**
 * The servers of the HTTP benchmark, in a process of their own so that the load generator does not share their
 * event loop: the same stateless SDK v1 MCP server behind each adapter, with and without auth (Express also with the
 * verified-token cache off, and guard-first: no body parser before the guard), plus Express behind the official SDK's `requireBearerAuth` with a jose verifier. Prints `READY <json of ports>` when listening and stops
 * when its standard input closes.
 *
 * Environment: BENCH_ISSUER, BENCH_JWKS_URI, BENCH_RESOURCE.
 */
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import type { McpAuth } from "@mcp-oauth/auth-core"
import { makeAuth } from "./lib/auth.js"
import { createToolServer } from "./lib/mcp.js"

const issuer = process.env["BENCH_ISSUER"]!
const jwksUri = process.env["BENCH_JWKS_URI"]!
const resource = process.env["BENCH_RESOURCE"]!
const idp = { issuer, jwksUri }

const servers: Array<Server> = []
const auths: Array<McpAuth.McpAuth> = []
const ports: Record<string, number> = {}
const skipped: Record<string, string> = {}

const listenOn = async (name: string, server: Server) => {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve())
  })
  servers.push(server)
  ports[name] = (server.address() as AddressInfo).port
}

const auth = async (cache: boolean) => {
  const made = await makeAuth({ idp, resource, cache })
  auths.push(made)
  return made
}

const node = async () => {
  const { listen } = await import("@mcp-oauth/node")
  const { statelessHandlerV1 } = await import("@mcp-oauth/node/sdk-v1")
  const handler = statelessHandlerV1(createToolServer)
  await listenOn("node", createServer((req, res) => void handler(req, res)))
  for (const [name, cache] of [["node+auth", true]] as const) {
    const running = await listen(await auth(cache), statelessHandlerV1(createToolServer), { port: 0 })
    servers.push(running.server)
    ports[name] = running.port
  }
}

const express = async () => {
  const { default: express } = await import("express")
  const { mcpAuthRouter, requireMcpAuth, statelessMcpHandlerV1 } = await import("@mcp-oauth/express")
  const { requireBearerAuth } = await import("@modelcontextprotocol/express")
  const jose = await import("jose")

  const none = express()
  none.use(express.json())
  none.post("/mcp", statelessMcpHandlerV1(createToolServer))
  await listenOn("express", createServer(none))

  for (const [name, cache] of [["express+auth", true], ["express+auth(no cache)", false]] as const) {
    const guarded = await auth(cache)
    const app = express()
    app.use(express.json())
    app.use(mcpAuthRouter(guarded))
    app.post("/mcp", requireMcpAuth(guarded), statelessMcpHandlerV1(createToolServer))
    await listenOn(name, createServer(app))
  }

  // the wiring the docs recommend: no body parser before the guard, which reads the body once the token is valid
  const guardFirst = await auth(true)
  const first = express()
  first.use(mcpAuthRouter(guardFirst))
  first.post("/mcp", requireMcpAuth(guardFirst), statelessMcpHandlerV1(createToolServer))
  await listenOn("express+auth(guard first)", createServer(first))

  // the official SDK v2 guard with the verifier its documentation suggests: jose over the remote key set
  const keys = jose.createRemoteJWKSet(new URL(jwksUri))
  const verifier = {
    verifyAccessToken: async (token: string) => {
      const { payload } = await jose.jwtVerify(token, keys, { issuer, audience: resource })
      return {
        token,
        clientId: typeof payload["client_id"] === "string" ? payload["client_id"] : "",
        scopes: typeof payload["scope"] === "string" ? payload["scope"].split(" ") : [],
        ...(payload.exp === undefined ? {} : { expiresAt: payload.exp }),
        resource: new URL(resource)
      }
    }
  }
  const sdk = express()
  sdk.use(express.json())
  sdk.post(
    "/mcp",
    requireBearerAuth({ verifier, expectedResource: new URL(resource), resourceMetadataUrl: `${new URL(resource).origin}/.well-known/oauth-protected-resource/mcp` }),
    statelessMcpHandlerV1(createToolServer)
  )
  await listenOn("express+sdk requireBearerAuth", createServer(sdk))
}

const hono = async () => {
  const { Hono } = await import("hono")
  const { getRequestListener } = await import("@hono/node-server")
  const { mcpAuthMiddleware, mcpAuthRoutes } = await import("@mcp-oauth/hono")
  const { statelessMcpHandlerV1 } = await import("@mcp-oauth/hono/sdk-v1")
  const { WebStandardStreamableHTTPServerTransport } = await import("@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js")

  // the adapter's v1 handler needs the guard's principal; without auth the same steps are taken by hand
  const none = new Hono()
  none.post("/mcp", async (c) => {
    const server = createToolServer()
    const transport = new WebStandardStreamableHTTPServerTransport({})
    await server.connect(transport)
    const response = await transport.handleRequest(c.req.raw)
    const close = () => {
      void transport.close()
      void server.close()
    }
    if (response.body === null) {
      close()
      return response
    }
    return new Response(response.body.pipeThrough(new TransformStream({ flush: close })), response)
  })
  await listenOn("hono", createServer(getRequestListener(none.fetch)))

  for (const [name, cache] of [["hono+auth", true]] as const) {
    const guarded = await auth(cache)
    const app = new Hono()
    app.route("/", mcpAuthRoutes(guarded))
    app.use("/mcp", mcpAuthMiddleware(guarded))
    app.post("/mcp", statelessMcpHandlerV1(createToolServer))
    await listenOn(name, createServer(getRequestListener(app.fetch)))
  }
}

for (const [adapter, start] of [["node", node], ["express", express], ["hono", hono]] as const) {
  try {
    await start()
  } catch (error) {
    skipped[adapter] = error instanceof Error ? error.message.split("\n")[0]! : String(error)
  }
}

process.stdout.write(`READY ${JSON.stringify({ ports, skipped })}\n`)

const stop = async () => {
  for (const server of servers) server.closeAllConnections()
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  await Promise.all(auths.map((a) => a.dispose()))
  process.exit(0)
}
process.stdin.on("end", () => void stop())
process.stdin.on("close", () => void stop())
process.stdin.resume()
