/**
 * Small node:http helpers shared by the test servers: loopback listening, closing, request counting and faults.
 */
import * as http from "node:http"
import type { AddressInfo } from "node:net"

/** A way to make a key-set endpoint misbehave on demand. */
export type EndpointFault = "500" | "timeout" | "html" | "empty" | null

/** Listens on 127.0.0.1 with a random free port and returns the origin. */
export const listenLoopback = (server: http.Server): Promise<string> =>
  new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject)
      const { port } = server.address() as AddressInfo
      resolve(`http://127.0.0.1:${port}`)
    })
  })

/** Closes a server, dropping kept-alive and hanging connections. */
export const closeServer = (server: http.Server): Promise<void> =>
  new Promise((resolve, reject) => {
    if (!server.listening) return resolve()
    server.close((error) => (error ? reject(error) : resolve()))
    server.closeAllConnections()
  })

/** Counts requests by URL path. */
export class RequestCounter {
  readonly #counts = new Map<string, number>()

  /** Records one request for `path`. */
  record(path: string): void {
    this.#counts.set(path, (this.#counts.get(path) ?? 0) + 1)
  }

  /** Requests seen for `path` (a trailing `*` matches a prefix), or for every path when omitted. */
  count(path?: string): number {
    if (path !== undefined && !path.endsWith("*")) return this.#counts.get(path) ?? 0
    const prefix = path === undefined ? "" : path.slice(0, -1)
    let total = 0
    for (const [seen, n] of this.#counts) if (seen.startsWith(prefix)) total += n
    return total
  }

  /** Forgets every count. */
  reset(): void {
    this.#counts.clear()
  }
}

/** Answers a request according to `fault`; returns false when there is no fault and the request should proceed. */
export const applyFault = (fault: EndpointFault, res: http.ServerResponse): boolean => {
  switch (fault) {
    case null:
      return false
    case "500":
      res.writeHead(500, { "content-type": "text/plain" }).end("injected failure")
      return true
    case "html":
      res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><html><body>Login</body></html>")
      return true
    case "empty":
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [] }))
      return true
    case "timeout":
      // Never answer: the connection is dropped when the server closes.
      return true
  }
}

/** Sends a JSON response. */
export const sendJson = (res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}) => {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers })
  res.end(JSON.stringify(body))
}

/** The path of a request URL, without query. */
export const requestPath = (req: http.IncomingMessage): string => new URL(req.url ?? "/", "http://localhost").pathname
