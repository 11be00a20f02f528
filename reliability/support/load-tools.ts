/** The MCP server behind every reliability run: one `whoami` tool naming the caller, so a response proves whose token it served. */
import { AuthContext } from "@mcp-oauth/auth-core"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"

/** The text `whoami` answers for a subject; load checks compare it with the token's own subject. */
export const whoamiText = (subject: string): string => `subject=${subject};`

/** A fresh SDK v1 server with the `whoami` tool (built per request: the adapters serve it stateless). */
export const createWhoamiServer = (): McpServer => {
  const server = new McpServer({ name: "reliability", version: "0.0.0" })
  server.registerTool("whoami", { description: "Names the caller" }, async (extra) => ({
    content: [{ type: "text", text: whoamiText(AuthContext.of(extra)?.user.userId ?? "anonymous") }]
  }))
  return server
}

/** The JSON-RPC body calling `whoami`. */
export const whoamiCall = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "whoami", arguments: {} } })

/** Headers of a `whoami` call, with a bearer token when given. */
export const whoamiHeaders = (token?: string): Record<string, string> => ({
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  ...(token === undefined ? {} : { authorization: `Bearer ${token}` })
})
