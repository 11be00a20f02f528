/**
 * Requests exactly as written, below fetch: any method, duplicate or malformed headers, any bytes as body, bodies
 * streamed without end. Every request has a deadline, so a server that never answers fails the caller.
 */
import { request } from "node:http"
import { connect } from "node:net"
import { ANSWER_DEADLINE_MS } from "./clients.js"

/** A request to send as is. */
export interface RawRequest {
  readonly method: string
  /** The request target, sent verbatim (path and query). */
  readonly target: string
  /** Header values by name; several values send the header several times. */
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string>>>
  readonly body?: Uint8Array | undefined
}

/** A whole answer. */
export interface RawAnswer {
  readonly status: number
  readonly headers: Readonly<Record<string, string | Array<string> | undefined>>
  readonly body: Buffer
}

/** Sends one request and reads the whole answer. */
export const sendRaw = (origin: string, raw: RawRequest): Promise<RawAnswer> =>
  new Promise((resolve, reject) => {
    const url = new URL(origin)
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: raw.method,
        path: raw.target,
        headers: raw.headers as Record<string, string | Array<string>>,
        agent: false,
        timeout: ANSWER_DEADLINE_MS
      },
      (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (chunk: Buffer) => chunks.push(chunk))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
        res.on("error", reject)
      }
    )
    req.on("timeout", () => req.destroy(new Error(`no answer to ${raw.method} ${raw.target} within ${ANSWER_DEADLINE_MS} ms`)))
    req.on("error", reject)
    req.end(raw.body === undefined ? undefined : Buffer.from(raw.body))
  })

/** What happened to an endless upload. */
export interface Upload {
  /** The answer's status, or undefined when the server closed the connection without one. */
  readonly status: number | undefined
  readonly body: string
  /** Bytes of body written before the answer (or the close) arrived. */
  readonly bytesBeforeAnswer: number
}

/**
 * POSTs `target` with a body streamed in 64 KiB chunks up to `maxBytes` (no Content-Length unless `declare`), and
 * stops writing as soon as the server answers or closes: a server that buffers before deciding lets it run to the end.
 */
export const uploadEndless = (
  origin: string,
  target: string,
  headers: Readonly<Record<string, string>>,
  maxBytes: number,
  declare = false
): Promise<Upload> =>
  new Promise((resolve, reject) => {
    const url = new URL(origin)
    let written = 0
    let settled = false
    let bytesBeforeAnswer = -1
    const chunk = Buffer.alloc(64 * 1024, 0x7b)
    const req = request({
      host: url.hostname,
      port: url.port,
      method: "POST",
      path: target,
      headers: declare ? { ...headers, "content-length": String(maxBytes) } : headers,
      agent: false,
      timeout: ANSWER_DEADLINE_MS
    })
    const finish = (status: number | undefined, body: string) => {
      if (settled) return
      settled = true
      req.destroy()
      resolve({ status, body, bytesBeforeAnswer: bytesBeforeAnswer < 0 ? written : bytesBeforeAnswer })
    }
    req.on("response", (res) => {
      bytesBeforeAnswer = written
      const chunks: Array<Buffer> = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("end", () => finish(res.statusCode, Buffer.concat(chunks).toString("utf8")))
      res.on("error", () => finish(res.statusCode, Buffer.concat(chunks).toString("utf8")))
    })
    req.on("timeout", () => {
      if (!settled) reject(new Error(`no answer to an endless POST ${target} within ${ANSWER_DEADLINE_MS} ms`))
      settled = true
      req.destroy()
    })
    // a reset while writing is the server refusing the rest of the body: an answer may still have arrived
    req.on("error", () => setTimeout(() => finish(undefined, ""), 50))
    const pump = () => {
      while (!settled && bytesBeforeAnswer < 0 && written < maxBytes) {
        written += chunk.length
        if (!req.write(chunk)) return void req.once("drain", pump)
      }
      if (!settled && bytesBeforeAnswer < 0) req.end()
    }
    pump()
  })

/** The heap in use after a full collection (the collector is exposed at run time for this). */
export const heapAfterGc = async (): Promise<number> => {
  const v8 = await import("node:v8")
  const vm = await import("node:vm")
  v8.setFlagsFromString("--expose-gc")
  const gc = vm.runInNewContext("gc") as () => void
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

/**
 * Writes `bytes` on a fresh TCP connection, half-closes it, and returns the status of the first answer, or
 * undefined when the server closed without one; fails if the connection is still open at the deadline.
 */
export const sendWire = (origin: string, bytes: Uint8Array): Promise<number | undefined> =>
  new Promise((resolve, reject) => {
    const url = new URL(origin)
    const socket = connect({ host: url.hostname, port: Number(url.port) })
    const chunks: Array<Buffer> = []
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`connection still open ${ANSWER_DEADLINE_MS} ms after a malformed request`))
    }, ANSWER_DEADLINE_MS)
    socket.on("data", (chunk: Buffer) => chunks.push(chunk))
    socket.on("error", () => undefined)
    socket.on("close", () => {
      clearTimeout(timer)
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(Buffer.concat(chunks).toString("latin1"))?.[1]
      resolve(status === undefined ? undefined : Number(status))
    })
    socket.end(bytes)
  })
