/**
 * The upstream identity provider of the multi-instance run (the TestIdp as a non-DCR provider with one confidential
 * client), in a process of its own: with hundreds of flows signing in at once it must not share an event loop with
 * the clients driving them, or its answers would wait behind theirs. Prints `READY <issuer>`; stops when its standard
 * input closes.
 *
 * Environment: RELIABILITY_ORIGIN (the proxy's public origin), RELIABILITY_UPSTREAM_CLIENT_ID, RELIABILITY_UPSTREAM_SECRET.
 */
import { startTestIdp } from "@mcp-oauth/testing"
import { untilStdinCloses } from "./untilStdinCloses.js"

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === "") throw new Error(`instances-idp: ${name} is not set`)
  return value
}

const origin = env("RELIABILITY_ORIGIN")
const idp = await startTestIdp({
  resource: `${origin}/mcp`,
  registration: false,
  staticClients: [
    {
      client_id: env("RELIABILITY_UPSTREAM_CLIENT_ID"),
      client_secret: env("RELIABILITY_UPSTREAM_SECRET"),
      redirect_uris: [`${origin}/oauth/callback`],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic"
    }
  ]
})
process.stdout.write(`READY ${idp.issuer}\n`)

untilStdinCloses(() => idp.close())
