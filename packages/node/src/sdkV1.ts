/** Serving an MCP SDK v1 server over Streamable HTTP in stateless mode, one server instance per request. */
import type { ServerResponse } from "node:http"
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js"
import type { AuthenticatedRequest, NodeHandler } from "./protect.js"

const methodNotAllowed = (res: ServerResponse): void => {
  res.writeHead(405, { allow: "POST", "content-type": "application/json" })
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message: "Method not allowed." }, id: null }))
}

/**
 * A handler that builds a fresh MCP server per request (the SDK's stateless pattern), so no session outlives
 * the token that opened it. `req.auth` set by the guard reaches tools as `extra.authInfo`. GET and DELETE (session
 * streams and teardown) answer 405, as the Express and Hono handlers do.
 */
export const statelessHandlerV1 =
  (createServer: (req: AuthenticatedRequest) => McpServer | Promise<McpServer>): NodeHandler =>
  async (req: AuthenticatedRequest, res: ServerResponse, parsedBody?: unknown) => {
    // a stateless server has no session stream to offer: the transport would hold a GET's event stream open for ever
    if (req.method !== "POST") return methodNotAllowed(res)
    // built per request, for the caller: a server may expose only the tools this caller may call
    const server = await createServer(req)
    // no sessionIdGenerator: the transport runs stateless
    const transport = new StreamableHTTPServerTransport({})
    res.on("close", () => {
      void transport.close()
      void server.close()
    })
    await server.connect(transport)
    await transport.handleRequest(req, res, parsedBody)
  }
