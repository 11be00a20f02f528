/** Serving an MCP SDK v2 server (`@modelcontextprotocol/server`) over Streamable HTTP, stateless, on node:http. */
import type { ServerResponse } from "node:http"
import { NodeStreamableHTTPServerTransport } from "@modelcontextprotocol/node"
import type { McpServer } from "@modelcontextprotocol/server"
import type { AuthenticatedRequest, NodeHandler } from "./protect.js"

/**
 * A handler that builds a fresh v2 MCP server per request. The v2 node transport reads `req.auth` set by the
 * guard; tools read it as `ctx.http.authInfo`.
 */
export const statelessHandlerV2 =
  (createServer: (req: AuthenticatedRequest) => McpServer | Promise<McpServer>): NodeHandler =>
  async (req: AuthenticatedRequest, res: ServerResponse, parsedBody?: unknown) => {
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
