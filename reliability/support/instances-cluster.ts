/**
 * Two proxy instances behind a pretend load balancer: each request is sent to the instance a flow chose, or to the
 * other one while the chosen one is down, and every request is counted per flow and per instance, so that a crash can
 * tell which flows had a request in flight on the killed process.
 */
import { randomBytes } from "node:crypto"
import { generateSigningKeyJson } from "@mcp-oauth/auth-core/proxy/AccessTokens"
import type { BrowserDriver } from "@mcp-oauth/testing"
import { type ChildServer, startChild } from "./load-child.js"

/** What the instances share: keys, secrets, the public origin and the store. */
export interface ClusterSettings {
  /** The public origin (the first port's); the resource is `<origin>/mcp`. */
  readonly origin: string
  readonly ports: readonly [number, number]
  readonly upstreamIssuer: string
  readonly upstreamClientId: string
  readonly upstreamSecret: string
  readonly redisUrl: string
  readonly keyPrefix: string
}

/** An answer as a flow reads it. */
export interface Reply {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  /** The instance that answered. */
  readonly instance: number
}

/** One flow's view of the cluster: its requests in flight per instance. */
export interface FlowRequests {
  readonly pending: [number, number]
}

/** A request that failed without an HTTP answer (connection refused or reset, timeout). */
export class NoAnswer extends Error {
  constructor(
    readonly instance: number,
    cause: unknown
  ) {
    super(`no answer from instance ${instance}: ${cause instanceof Error ? `${cause.name}: ${cause.message}${cause.cause instanceof Error ? ` (${cause.cause.message})` : ""}` : String(cause)}`)
  }
}

/** Shared secrets for a cluster, generated fresh per run. */
export const clusterSecrets = async () => ({
  RELIABILITY_SIGNING_KEY: await generateSigningKeyJson(),
  RELIABILITY_ENCRYPTION_KEY: randomBytes(32).toString("base64url"),
  RELIABILITY_COOKIE_SECRET: randomBytes(32).toString("base64url")
})

/** A running pair of instances. */
export interface Cluster {
  readonly settings: ClusterSettings
  /** Whether the instance takes requests. */
  readonly alive: (instance: number) => boolean
  /** `instance` when alive, else the other one (what a load balancer with health checks does). */
  readonly route: (instance: number) => number
  /** Sends a request for `url` (on the public origin) to an instance on behalf of a flow, through its browser. */
  readonly send: (flow: FlowRequests, browser: BrowserDriver, instance: number, url: string | URL, init?: RequestInit) => Promise<Reply>
  /** Takes an instance out of the rotation at once (before the returned promise settles), then SIGKILLs it. */
  readonly kill: (instance: number) => Promise<void>
  /** Starts a killed instance again on its port and puts it back in the rotation. */
  readonly restart: (instance: number) => Promise<void>
  /** Requests answered per instance. */
  readonly answered: () => readonly [number, number]
  /** Server log tails, for failures. */
  readonly logs: () => ReadonlyArray<string>
  readonly stop: () => Promise<void>
}

/** Starts both instances (reliability/support/instances-server.ts). */
export const startCluster = async (settings: ClusterSettings): Promise<Cluster> => {
  const secrets = await clusterSecrets()
  const envOf = (port: number): Record<string, string> => ({
    ...secrets,
    RELIABILITY_PORT: String(port),
    RELIABILITY_RESOURCE: `${settings.origin}/mcp`,
    RELIABILITY_UPSTREAM_ISSUER: settings.upstreamIssuer,
    RELIABILITY_UPSTREAM_CLIENT_ID: settings.upstreamClientId,
    RELIABILITY_UPSTREAM_SECRET: settings.upstreamSecret,
    RELIABILITY_REDIS_URL: settings.redisUrl,
    RELIABILITY_KEY_PREFIX: settings.keyPrefix
  })
  const spawnInstance = (i: number) => startChild("reliability/support/instances-server.ts", envOf(settings.ports[i]!))
  const children: Array<ChildServer> = await Promise.all([spawnInstance(0), spawnInstance(1)])
  const up = [true, true]
  const answered: [number, number] = [0, 0]
  const previousLogs: Array<string> = []

  const at = (instance: number, url: string | URL) => {
    const moved = new URL(url)
    moved.port = String(settings.ports[instance])
    return moved
  }
  const route = (instance: number) => (up[instance] ? instance : 1 - instance)
  const slot = (instance: number) => (instance === 0 ? 0 : 1)

  return {
    settings,
    alive: (instance) => up[instance] === true,
    route,
    send: async (flow, browser, instance, url, init = {}) => {
      const target = route(instance)
      flow.pending[slot(target)]++
      try {
        // nothing may hang: a request without an answer in 30 seconds counts as lost
        const response = await browser.request(at(target, url), { ...init, signal: AbortSignal.timeout(30_000) })
        const text = await response.text()
        answered[slot(target)]++
        return { status: response.status, headers: response.headers, text, instance: target }
      } catch (error) {
        throw new NoAnswer(target, error)
      } finally {
        flow.pending[slot(target)]--
      }
    },
    kill: async (instance) => {
      up[instance] = false
      previousLogs.push(children[instance]!.stderr())
      await children[instance]!.kill()
    },
    restart: async (instance) => {
      children[instance] = await spawnInstance(instance)
      up[instance] = true
    },
    answered: () => [answered[0], answered[1]],
    logs: () => [...previousLogs, ...children.map((c) => c.stderr())],
    stop: async () => {
      await Promise.all(children.map((c) => c.stop()))
    }
  }
}
