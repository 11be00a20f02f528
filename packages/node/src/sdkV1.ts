/** Serving an MCP SDK v1 server over Streamable HTTP in stateless mode, one server instance per request. */
import type { ServerResponse } from "node:http"
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js"
import type { AuthenticatedRequest, NodeHandler } from "./protect.js"

/**
 * A handler that builds a fresh MCP server per request (the SDK's stateless pattern), so no session outlives
 * the token that opened it. `req.auth` set by the guard reaches tools as `extra.authInfo`.
 */
export const statelessHandlerV1 =
  (createServer: (req: AuthenticatedRequest) => McpServer | Promise<McpServer>): NodeHandler =>
  async (req: AuthenticatedRequest, res: ServerResponse, parsedBody?: unknown) => {
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
