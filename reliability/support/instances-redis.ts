/**
 * A private redis-server for the outage run, so that stopping and restarting it disturbs no one else's Redis. It saves
 * to a scratch directory on shutdown and loads it on restart, as a restarted production Redis with persistence does.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Redis } from "ioredis"

/** A private Redis that can be stopped and started again on the same port with the same data. */
export interface PrivateRedis {
  readonly url: string
  /** `SHUTDOWN SAVE`: the data is written out and every connection drops. */
  readonly stop: () => Promise<void>
  /** Starts it again on the same port, loading what `stop` saved. */
  readonly start: () => Promise<void>
  /** Stops it for good and removes its files. */
  readonly dispose: () => Promise<void>
}

const ping = async (url: string): Promise<boolean> => {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 })
  client.on("error", () => {})
  try {
    await client.connect()
    return (await client.ping()) === "PONG"
  } catch {
    return false
  } finally {
    client.disconnect()
  }
}

/** Starts redis-server on `port` (it must be on the PATH, as in CI). */
export const startPrivateRedis = async (port: number): Promise<PrivateRedis> => {
  const dir = mkdtempSync(join(tmpdir(), "mcp-oauth-reliability-redis-"))
  const url = `redis://127.0.0.1:${port}`
  let exited: Promise<void> = Promise.resolve()
  const start = async () => {
    const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--dbfilename", "dump.rdb"], {
      stdio: "ignore"
    })
    exited = new Promise((resolve) => child.once("exit", () => resolve()))
    const failed = new Promise<never>((_, reject) => child.once("error", (error) => reject(new Error(`redis-server did not start: ${error.message}`))))
    for (let attempt = 0; attempt < 100; attempt++) {
      if (await Promise.race([ping(url), failed])) return
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    throw new Error(`redis-server did not answer on port ${port}`)
  }
  const stop = async () => {
    const admin = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null })
    admin.on("error", () => {})
    // the connection drops as the server exits, which is the answer
    await admin.call("SHUTDOWN", "SAVE").catch(() => undefined)
    admin.disconnect()
    await exited
  }
  await start()
  return {
    url,
    stop,
    start,
    dispose: async () => {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
