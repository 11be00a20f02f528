/**
 * A loopback HTTP server in front of a real upstream (the TestIdp) that forwards every request unchanged unless a
 * fault is switched on for its path: errors, HTML, garbage, huge or endless bodies, no answer at all, or a body of the
 * test's choosing (a rotated key set). Passed-through responses can be recorded, to learn the raw upstream tokens.
 */
import { randomBytes } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

/** How one path misbehaves. */
export type Fault =
  | { readonly kind: "status"; readonly status: number }
  | { readonly kind: "html" }
  | { readonly kind: "garbage" }
  /** A 200 JSON body of `bytes` bytes, streamed, never ending before the client gives up when `bytes` is Infinity. */
  | { readonly kind: "huge"; readonly bytes: number }
  /** Headers at once, then one byte of body every `everyMs`, for ever: only a timeout over the whole call ends it. */
  | { readonly kind: "drip"; readonly everyMs: number }
  /** Accepts the request and never answers. */
  | { readonly kind: "hang" }
  /** Closes the connection without an answer. */
  | { readonly kind: "reset" }
  /** A hostile upstream: answers `status` with everything it received (headers, URL, body) in its headers and JSON body. */
  | { readonly kind: "echo"; readonly status: number }
  /** Answers this JSON document instead of the upstream's. */
  | { readonly kind: "json"; readonly body: unknown }

/** One passed-through exchange. */
export interface Exchange {
  readonly method: string
  readonly path: string
  readonly status: number
  readonly body: string
}

/** A running faulty front. */
export interface FaultyUpstream {
  /** `http://127.0.0.1:<port>`: the same paths as the upstream. */
  readonly origin: string
  /** Faults by request path (without query); absent means forward. */
  readonly faults: Map<string, Fault>
  /** Passed-through exchanges of the paths named in `record`. */
  readonly exchanges: Array<Exchange>
  /** Requests seen per path, faulty or not. */
  readonly hits: (path: string) => number
  readonly close: () => Promise<void>
}

const hopByHop = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"])

const readAll = async (req: IncomingMessage): Promise<Buffer> => {
  const chunks: Array<Buffer> = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

const echo = async (status: number, req: IncomingMessage, res: ServerResponse): Promise<void> => {
  const received = `${req.method} ${req.url} ${JSON.stringify(req.headers)} ${(await readAll(req)).toString("utf8")}`
  const header = received.replace(/[^\x20-\x7e]/g, "?")
  res.writeHead(status, { "content-type": "application/json", "www-authenticate": `Basic realm="${header.replace(/"/g, "'")}"`, "x-echo": header })
  res.end(JSON.stringify({ error: "invalid_grant", error_description: received, access_token: received, id_token: received }))
}

const misbehave = (fault: Fault, req: IncomingMessage, res: ServerResponse, timers: Set<NodeJS.Timeout>): void => {
  switch (fault.kind) {
    case "echo":
      void echo(fault.status, req, res)
      return
    case "status":
      res.writeHead(fault.status, { "content-type": "text/plain" }).end("injected failure")
      return
    case "html":
      res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><html><body><h1>Sign in</h1></body></html>")
      return
    case "garbage":
      res.writeHead(200, { "content-type": "application/json" }).end(randomBytes(512))
      return
    case "json":
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(fault.body))
      return
    case "reset":
      res.socket?.destroy()
      return
    case "hang":
      return
    case "huge": {
      res.writeHead(200, { "content-type": "application/json" })
      res.write('{"keys":[],"padding":"')
      const chunk = Buffer.alloc(64 * 1024, 0x61)
      let sent = 0
      const pump = (): void => {
        while (sent < fault.bytes && !res.destroyed) {
          sent += chunk.length
          if (!res.write(chunk)) return void res.once("drain", pump)
        }
        if (!res.destroyed) res.end('"}')
      }
      pump()
      return
    }
    case "drip": {
      res.writeHead(200, { "content-type": "application/json" })
      res.write("{")
      const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(" ")), fault.everyMs)
      timers.add(timer)
      res.once("close", () => {
        clearInterval(timer)
        timers.delete(timer)
      })
      return
    }
  }
}

/** Starts the front for `target` (an origin); `record` names the paths whose passed-through answers are kept. */
export const startFaultyUpstream = async (target: string, record: ReadonlyArray<string> = []): Promise<FaultyUpstream> => {
  const faults = new Map<string, Fault>()
  const exchanges: Array<Exchange> = []
  const counts = new Map<string, number>()
  const timers = new Set<NodeJS.Timeout>()
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://front")
    counts.set(url.pathname, (counts.get(url.pathname) ?? 0) + 1)
    const fault = faults.get(url.pathname)
    if (fault !== undefined) {
      // the request body is drained so that the client sees the fault, not a stalled upload
      if (fault.kind !== "echo") req.resume()
      return misbehave(fault, req, res, timers)
    }
    void forward(req, res, url)
  })
  const forward = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    try {
      const headers = new Headers()
      for (const [name, value] of Object.entries(req.headers)) {
        if (value === undefined || hopByHop.has(name)) continue
        headers.set(name, Array.isArray(value) ? value.join(", ") : value)
      }
      const method = req.method ?? "GET"
      const body = method === "GET" || method === "HEAD" ? null : new Uint8Array(await readAll(req))
      const answer = await fetch(new URL(`${url.pathname}${url.search}`, target), { method, headers, body, redirect: "manual" })
      const text = Buffer.from(await answer.arrayBuffer())
      if (record.includes(url.pathname)) exchanges.push({ method, path: url.pathname, status: answer.status, body: text.toString("utf8") })
      const out: Record<string, string> = {}
      answer.headers.forEach((value, name) => {
        if (!hopByHop.has(name) && name !== "set-cookie") out[name] = value
      })
      const cookies = answer.headers.getSetCookie()
      res.writeHead(answer.status, cookies.length > 0 ? { ...out, "set-cookie": cookies } : out)
      res.end(text)
    } catch {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" })
      res.end("front could not reach the upstream")
    }
  }
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    faults,
    exchanges,
    hits: (path) => counts.get(path) ?? 0,
    close: async () => {
      for (const timer of timers) clearInterval(timer)
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
