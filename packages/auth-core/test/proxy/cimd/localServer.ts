import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import * as https from "node:https"
import type { AddressInfo, Socket } from "node:net"
import * as os from "node:os"
import * as path from "node:path"

/** A request as the server received it: the request line, headers and body, for assertions. */
export interface Received {
  readonly method: string
  /** The request target exactly as sent on the request line (path and query). */
  readonly target: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
}

/** A loopback server counting TCP connections (so a refused fetch can be shown to have connected nowhere). */
export interface LocalServer {
  readonly port: number
  readonly host: string
  /** `http://127.0.0.1:port` (or https). */
  readonly origin: string
  readonly connections: () => number
  readonly received: () => ReadonlyArray<Received>
  readonly close: () => Promise<void>
}

export type Handler = (request: Received, response: http.ServerResponse) => void

export interface ServerOptions {
  readonly host?: string
  readonly port?: number
  readonly tls?: { readonly key: string; readonly cert: string }
}

/** Starts a server on `host` (default 127.0.0.1), on a random port unless one is given. */
export const startServer = async (handler: Handler, options: ServerOptions = {}): Promise<LocalServer> => {
  const host = options.host ?? "127.0.0.1"
  let connections = 0
  const received: Array<Received> = []
  const sockets = new Set<Socket>()
  const listener: http.RequestListener = (req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      const request: Received = {
        method: req.method ?? "",
        target: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8")
      }
      received.push(request)
      handler(request, res)
    })
  }
  const server = options.tls === undefined ? http.createServer(listener) : https.createServer(options.tls, listener)
  server.on("connection", (socket: Socket) => {
    connections++
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, host, resolve)
  })
  const port = (server.address() as AddressInfo).port
  return {
    port,
    host,
    origin: `${options.tls === undefined ? "http" : "https"}://${host}:${port}`,
    connections: () => connections,
    received: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      })
  }
}

/** JSON answer helper. */
export const sendJson = (
  response: http.ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {}
): void => {
  const text = JSON.stringify(body)
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers })
  response.end(text)
}

/** A self-signed certificate for `name` made with the openssl CLI, or undefined when openssl is missing. */
export const selfSignedCertificate = (name: string): { readonly key: string; readonly cert: string } | undefined => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mcp-oauth-cert-"))
  try {
    const keyFile = path.join(dir, "key.pem")
    const certFile = path.join(dir, "cert.pem")
    execFileSync(
      "openssl",
      [
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-subj", `/CN=${name}`, "-addext", `subjectAltName=DNS:${name}`, "-days", "1",
        "-keyout", keyFile, "-out", certFile
      ],
      { stdio: "ignore" }
    )
    return { key: fs.readFileSync(keyFile, "utf8"), cert: fs.readFileSync(certFile, "utf8") }
  } catch {
    return undefined
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
