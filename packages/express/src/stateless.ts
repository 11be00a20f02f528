/**
 * Serving an MCP server statelessly (a fresh server per request, so no session outlives the token that opened it)
 * with either SDK generation. Each SDK is loaded on first use, so only the one you serve needs to be installed.
 */
import type { RequestHandler, Response } from "express"
import type { McpServer as McpServerV1 } from "@modelcontextprotocol/sdk/server/mcp.js"
import type { McpServerFactory } from "@modelcontextprotocol/server"
import type { AuthenticatedRequest } from "./requireMcpAuth.js"

const methodNotAllowed = (res: Response): void => {
  res.writeHead(405, { allow: "POST", "content-type": "application/json" })
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message: "Method not allowed." }, id: null }))
}

/**
 * SDK v1 (`@modelcontextprotocol/sdk`): each POST gets a new server on a stateless `StreamableHTTPServerTransport`;
 * `req.auth` reaches tools as `extra.authInfo`, `req.body` (read by the guard, or by `express.json()`) is the parsed message. Other
 * methods (GET, DELETE) are 405: a stateless server has no stream or session to offer.
 */
export const statelessMcpHandlerV1 = (createServer: () => McpServerV1): RequestHandler => {
  let sdk: Promise<typeof import("@modelcontextprotocol/sdk/server/streamableHttp.js")> | undefined
  return (req, res, next) => {
    if (req.method !== "POST") return methodNotAllowed(res)
    sdk ??= import("@modelcontextprotocol/sdk/server/streamableHttp.js")
    sdk
      .then(async ({ StreamableHTTPServerTransport }) => {
        const server = createServer()
        const transport = new StreamableHTTPServerTransport({}) // no sessionIdGenerator: stateless
        res.on("close", () => {
          void transport.close()
          void server.close()
        })
        await server.connect(transport)
        await transport.handleRequest(req as AuthenticatedRequest, res, req.body)
      })
      .catch(next)
  }
}

/**
 * SDK v2 (`@modelcontextprotocol/server`): `createMcpHandler` serves both protocol eras with a fresh server per
 * request, and `toNodeHandler` from `@modelcontextprotocol/node` bridges it to Express, handing `req.auth` over as
 * the request's `authInfo` (tools read `ctx.http.authInfo`) and `req.body` as the parsed body. The factory may take
 * the SDK's request context (`{ era, authInfo }`) to build a server per principal.
 */
export const statelessMcpHandlerV2 = (createServer: McpServerFactory): RequestHandler => {
  let handler: Promise<(req: AuthenticatedRequest, res: Response) => Promise<void>> | undefined
  const load = async () => {
    const [{ createMcpHandler }, { toNodeHandler }] = await Promise.all([
      import("@modelcontextprotocol/server"),
      import("@modelcontextprotocol/node")
    ])
    const node = toNodeHandler(createMcpHandler(createServer))
    return (req: AuthenticatedRequest, res: Response) => node(req, res, req.body)
  }
  return (req, res, next) => {
    handler ??= load()
    handler.then((serve) => serve(req, res)).catch(next)
  }
}
