/** Starting a reliability server script as a child process (this Node, tsx, the workspace source condition). */
import { type ChildProcess, spawn } from "node:child_process"
import { createServer } from "node:net"
import { createInterface } from "node:readline"

/** Node flags for a child running a TypeScript file of the repository from its root. */
export const nodeArgs = (...extra: ReadonlyArray<string>): Array<string> => [...extra, "--import", "tsx", "--conditions=@mcp-oauth/source"]

/** A running child server. */
export interface ChildServer {
  readonly process: ChildProcess
  /** What followed `READY` on its ready line (e.g. the URL it serves). */
  readonly ready: string
  /** Whatever it wrote on stderr so far (its logs). */
  readonly stderr: () => string
  /** True once it has exited, however. */
  readonly exited: () => boolean
  /** Closes its stdin (it stops itself) and waits for it, killing it after 5 seconds. */
  readonly stop: () => Promise<void>
  /** SIGKILL, now: the crash being simulated. */
  readonly kill: () => Promise<void>
}

/** Spawns `script` with `env` added and waits for its `READY` line (failing if it exits first). */
export const startChild = async (script: string, env: Record<string, string>): Promise<ChildServer> => {
  const child = spawn(process.execPath, [...nodeArgs(), script], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] })
  let stderr = ""
  let exited = false
  child.stderr!.on("data", (chunk) => (stderr = (stderr + String(chunk)).slice(-20_000)))
  const gone = new Promise<void>((resolve) => child.once("exit", () => ((exited = true), resolve())))
  const ready = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${script} exited before READY (${code}): ${stderr.slice(-2000)}`)))
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line.startsWith("READY")) resolve(line.slice("READY".length).trim())
    })
  })
  return {
    process: child,
    ready,
    stderr: () => stderr,
    exited: () => exited,
    stop: async () => {
      if (exited) return
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000)
      child.stdin!.end()
      await gone
      clearTimeout(timer)
    },
    kill: async () => {
      if (exited) return
      child.kill("SIGKILL")
      await gone
    }
  }
}

/** A free loopback port (the resource URL must be known before the IdP starts). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })
