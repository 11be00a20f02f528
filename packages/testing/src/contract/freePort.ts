/** A free loopback port, for servers whose URL must be known before they start. */
import { createServer } from "node:net"

/** Asks the OS for a free port on 127.0.0.1 and releases it. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })
