/** Serving an MCP SDK v2 server (`@modelcontextprotocol/server`) over Streamable HTTP, stateless, on node:http. */
import type { ServerResponse } from "node:http"
import { NodeStreamableHTTPServerTransport } from "@modelcontextprotocol/node"
import type { McpServer } from "@modelcontextprotocol/server"
import type { AuthenticatedRequest, NodeHandler } from "./protect.js"

const methodNotAllowed = (res: ServerResponse): void => {
  res.writeHead(405, { allow: "POST", "content-type": "application/json" })
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message: "Method not allowed." }, id: null }))
}

/**
 * A handler that builds a fresh v2 MCP server per request. The v2 node transport reads `req.auth` set by the
 * guard; tools read it as `ctx.http.authInfo`. GET and DELETE (session streams and teardown) answer 405, as the
 * Express and Hono handlers do.
 */
export const statelessHandlerV2 =
  (createServer: (req: AuthenticatedRequest) => McpServer | Promise<McpServer>): NodeHandler =>
  async (req: AuthenticatedRequest, res: ServerResponse, parsedBody?: unknown) => {
    // a stateless server has no session stream to offer: the transport would hold a GET's event stream open for ever
    if (req.method !== "POST") return methodNotAllowed(res)
    // built per request, for the caller: a server may expose only the tools this caller may call
    const server = await createServer(req)
    // no sessionIdGenerator: the transport runs stateless
    const transport = new NodeStreamableHTTPServerTransport({})
    res.on("close", () => {
      void transport.close()
      void server.close()
    })
    await server.connect(transport)
    await transport.handleRequest(req, res, parsedBody)
  }
