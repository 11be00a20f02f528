/** Starting a node:http server for an auth-protected MCP handler, and closing it with its auth runtime. */
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import type { McpAuth } from "@mcp-oauth/auth-core"
import { type NodeHandler, protect } from "./protect.js"

/** A listening server. */
export interface Listening {
  readonly server: Server
  /** The port actually bound (useful with port 0). */
  readonly port: number
  /** Stops accepting connections, closes open ones, and disposes the auth runtime. */
  readonly close: () => Promise<void>
}

/** Listens on host:port with `handler` behind the guard. */
export const listen = async (
  auth: McpAuth.McpAuth,
  handler: NodeHandler,
  options: { readonly port: number; readonly host?: string | undefined }
): Promise<Listening> => {
  const guarded = protect(auth, handler)
  const server = createServer((req, res) => {
    Promise.resolve(guarded(req, res)).catch(() => {
      // the guard never throws; this is the MCP handler failing after auth
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" })
      res.end(res.writableEnded ? undefined : JSON.stringify({ error: "server_error" }))
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port, options.host ?? "127.0.0.1", () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  return {
    server,
    port,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await auth.dispose()
    }
  }
}
