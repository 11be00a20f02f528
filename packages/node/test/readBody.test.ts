/**
 * The body readers on a real node:http server, fed over raw sockets: chunked and split bodies, the cap reached
 * mid-stream, a declared length over the cap, and a client that goes away mid-body (which must end the read, not hang it).
 */
import { createServer, type IncomingMessage, type Server } from "node:http"
import { connect } from "node:net"
import type { AddressInfo } from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import { readJsonBody, readRawBody } from "../src/readJsonBody.js"

type Reader = (req: IncomingMessage) => Promise<unknown>

let server: Server | undefined
afterEach(async () => {
  server?.closeAllConnections()
  await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)))
  server = undefined
})

/** A server handing each request to `read`; resolves with the first outcome, then answers 200. */
const serve = async (read: Reader) => {
  let settle: (outcome: unknown) => void = () => undefined
  const outcome = new Promise<unknown>((resolve) => (settle = resolve))
  server = createServer((req, res) => {
    read(req).then(
      (value) => {
        settle(value)
        if (!res.destroyed) res.end("ok")
      },
      (error: unknown) => {
        settle({ rejected: String(error) })
        if (!res.destroyed) res.end("failed")
      }
    )
  })
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve))
  return { port: (server.address() as AddressInfo).port, outcome }
}

/** Writes raw HTTP pieces with a pause between them; `end` closes the socket after the last one. */
const send = async (port: number, pieces: ReadonlyArray<string>, end: boolean) => {
  const socket = connect(port, "127.0.0.1")
  socket.on("error", () => undefined)
  await new Promise((resolve) => socket.once("connect", resolve))
  for (const piece of pieces) {
    socket.write(piece)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  if (end) socket.destroy()
  return socket
}

const head = (extra: string) => `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${extra}\r\n`
const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`
const text = (outcome: unknown) => (outcome instanceof Uint8Array ? new TextDecoder().decode(outcome) : outcome)

describe("readRawBody and readJsonBody", () => {
  it("read a chunked body sent in pieces, byte for byte", async () => {
    const { port, outcome } = await serve((req) => readRawBody(req, 1024))
    const socket = await send(port, [head("Transfer-Encoding: chunked\r\n"), chunk('{"a":'), chunk('"héllo"}'), "0\r\n\r\n"], false)
    expect(text(await outcome)).toBe('{"a":"héllo"}')
    socket.destroy()
  })

  it("parse a JSON body split across packets, and tell JSON that does not parse", async () => {
    const json = await serve((req) => readJsonBody(req, 1024))
    const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" })
    const first = await send(json.port, [head(`Content-Length: ${body.length}\r\n`), body.slice(0, 10), body.slice(10)], false)
    expect(await json.outcome).toEqual({ kind: "json", value: JSON.parse(body) })
    first.destroy()
  })

  it("stop at the cap mid-stream, without reading the rest", async () => {
    const { port, outcome } = await serve((req) => readRawBody(req, 64))
    const socket = await send(port, [head("Transfer-Encoding: chunked\r\n"), chunk("x".repeat(40)), chunk("y".repeat(40))], false)
    expect(await outcome).toBe("too_large")
    socket.destroy()
  })

  it("refuse a declared length over the cap before reading anything", async () => {
    let read = 0
    const { port, outcome } = await serve((req) => {
      req.on("data", (piece: Buffer) => (read += piece.length))
      return readRawBody(req, 64)
    })
    const socket = await send(port, [head("Content-Length: 1000\r\n")], false)
    expect(await outcome).toBe("too_large")
    expect(read).toBe(0)
    socket.destroy()
  })

  it("end the read when the client goes away mid-body: unreadable, for both readers", async () => {
    const raw = await serve((req) => readRawBody(req, 1024))
    await send(raw.port, [head("Content-Length: 100\r\n"), "x".repeat(30)], true)
    expect(await raw.outcome).toBe("unreadable")
    await new Promise((resolve) => server!.close(resolve))
    server = undefined

    const json = await serve((req) => readJsonBody(req, 1024))
    await send(json.port, [head("Content-Length: 100\r\n"), '{"a":'], true)
    expect(await json.outcome).toEqual({ kind: "unreadable" })
  })

  it("give an empty body for a request whose stream already ended", async () => {
    const { port, outcome } = await serve(async (req) => {
      for await (const _ of req) void _
      return readRawBody(req, 64)
    })
    const socket = await send(port, [head("Content-Length: 2\r\n"), "{}"], false)
    expect(text(await outcome)).toBe("")
    socket.destroy()
  })
})
