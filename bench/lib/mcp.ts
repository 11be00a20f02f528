/** The trivial MCP server every HTTP benchmark serves: one `ping` tool, SDK v1, stateless. */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"

/** A fresh server with a `ping` tool answering "pong". */
export const createToolServer = (): McpServer => {
  const server = new McpServer({ name: "bench", version: "0.0.0" })
  server.registerTool("ping", { description: "Answers pong" }, async () => ({ content: [{ type: "text", text: "pong" }] }))
  return server
}

/** The JSON-RPC body of the benchmarked request. */
export const toolCallBody = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "ping", arguments: {} } })

/** Headers of the benchmarked request (plus Authorization when the variant is protected). */
export const toolCallHeaders = (token?: string): Record<string, string> => ({
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  ...(token === undefined ? {} : { authorization: `Bearer ${token}` })
})
