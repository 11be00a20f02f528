import * as net from "node:net"

/**
 * A TCP proxy on 127.0.0.1 in front of the shared Redis, to break one client's connection without touching Redis:
 * `stop` refuses and drops connections (Redis down), `pause` holds traffic (Redis stalled), `start`/`resume` bring
 * it back on the same port.
 */
export interface TcpProxy {
  readonly port: number
  /** Connections currently open through the proxy. */
  readonly connections: () => number
  /** Holds traffic in both directions (delivered on resume), like a stalled server. */
  readonly pause: () => void
  readonly resume: () => void
  /** Stops listening and resets every open connection. */
  readonly stop: () => Promise<void>
  /** Listens again on the same port. */
  readonly start: () => Promise<void>
}

export const startTcpProxy = async (target: { host: string; port: number }): Promise<TcpProxy> => {
  interface Pair {
    readonly client: net.Socket
    readonly upstream: net.Socket
    /** Chunks held while paused, each with the socket it goes to. */
    readonly held: Array<readonly [net.Socket, Buffer]>
  }
  const pairs = new Set<Pair>()
  let paused = false
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host)
    const pair: Pair = { client, upstream, held: [] }
    pairs.add(pair)
    const forward = (to: net.Socket) => (chunk: Buffer) => {
      if (paused) pair.held.push([to, chunk])
      else to.write(chunk)
    }
    client.on("data", forward(upstream))
    upstream.on("data", forward(client))
    const close = () => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on("close", close).on("error", close)
    upstream.on("close", close).on("error", close)
  })
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject)
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject)
        const address = server.address()
        resolve(typeof address === "object" && address !== null ? address.port : port)
      })
    })
  const port = await listen(0)
  return {
    port,
    connections: () => pairs.size,
    pause: () => {
      paused = true
    },
    resume: () => {
      paused = false
      for (const { held } of pairs) {
        for (const [to, chunk] of held.splice(0)) to.write(chunk)
      }
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const { client, upstream } of pairs) {
          client.resetAndDestroy()
          upstream.destroy()
        }
        pairs.clear()
        server.close(() => resolve())
      }),
    start: async () => {
      await listen(port)
    }
  }
}
