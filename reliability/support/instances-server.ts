/**
 * One server instance of the multi-instance run: the `whoami` MCP server behind the node adapter, in OAuth proxy mode
 * in front of the test IdP (a non-DCR upstream with one confidential client), keeping its state in Redis. Every
 * instance gets the same keys, secrets, public origin and key prefix, as a deployment behind a load balancer does;
 * only the port differs. Prints `READY` when listening; stops when its standard input closes.
 *
 * Environment: RELIABILITY_PORT, RELIABILITY_RESOURCE (the public MCP URL), RELIABILITY_UPSTREAM_ISSUER,
 * RELIABILITY_UPSTREAM_CLIENT_ID, RELIABILITY_UPSTREAM_SECRET, RELIABILITY_SIGNING_KEY, RELIABILITY_ENCRYPTION_KEY,
 * RELIABILITY_COOKIE_SECRET, RELIABILITY_REDIS_URL, RELIABILITY_KEY_PREFIX.
 */
import { McpAuth, OAuthProxy } from "@mcp-oauth/auth-core"
import { listen } from "@mcp-oauth/node"
import { statelessHandlerV1 } from "@mcp-oauth/node/sdk-v1"
import { RedisStore } from "@mcp-oauth/redis"
import { Redacted } from "effect"
import { createWhoamiServer } from "./load-tools.js"
import { untilStdinCloses } from "./untilStdinCloses.js"

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === "") throw new Error(`instances-server: ${name} is not set`)
  return value
}
const secret = (name: string) => Redacted.make(env(name))

// the run sends hundreds of flows from one loopback address: the per-source limits would (rightly) stop it
const unlimited = { limit: 1_000_000, window: "1 minute" } as const

const auth = await McpAuth.make(
  McpAuth.layer(
    { resource: env("RELIABILITY_RESOURCE"), scopesSupported: ["mcp"], requiredScopes: ["mcp"], resourceName: "reliability instances" },
    OAuthProxy.layer({
      upstream: { issuer: env("RELIABILITY_UPSTREAM_ISSUER"), clientId: env("RELIABILITY_UPSTREAM_CLIENT_ID"), clientSecret: secret("RELIABILITY_UPSTREAM_SECRET") },
      signingKey: secret("RELIABILITY_SIGNING_KEY"),
      encryptionKey: secret("RELIABILITY_ENCRYPTION_KEY"),
      cookieSecret: secret("RELIABILITY_COOKIE_SECRET"),
      rateLimits: { registration: unlimited, authorization: unlimited, token: unlimited }
    }),
    { store: RedisStore.layer({ url: secret("RELIABILITY_REDIS_URL"), keyPrefix: env("RELIABILITY_KEY_PREFIX") }) }
  )
)

const running = await listen(auth, statelessHandlerV1(createWhoamiServer), { port: Number(env("RELIABILITY_PORT")) })
process.stdout.write("READY\n")

untilStdinCloses(() => running.close())
