/**
 * Smoke test of `npm run example:otel`: the example runs as its own process, serves one authenticated and one refused
 * request, and its console exporters print the library's spans (with the refusal's reason) and counters.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createServer } from "node:net"
import { fileURLToPath } from "node:url"
import { afterAll, expect, it } from "vitest"
import { getTokens } from "@mcp-oauth/testing"

const root = fileURLToPath(new URL("../..", import.meta.url))

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

// polls the child's output; the limit only bounds a broken run, no assertion depends on timing
const waitFor = async (predicate: () => boolean, what: string, output: () => string, limitMs = 45_000) => {
  const started = Date.now()
  while (!predicate()) {
    if (Date.now() - started > limitMs) throw new Error(`never saw ${what}; output so far:\n${output().slice(-2000)}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const listTools = (mcpUrl: string, authorization: string | undefined) =>
  fetch(mcpUrl, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...(authorization === undefined ? {} : { authorization })
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} })
  })

let child: ChildProcess | undefined

afterAll(async () => {
  if (child?.pid === undefined || child.exitCode !== null) return
  const exited = new Promise((resolve) => child!.once("exit", resolve))
  process.kill(-child.pid, "SIGTERM")
  await exited
})

it("prints the spans of an accepted and a refused request, and the counters", async () => {
  const port = await freePort()
  const env = {
    PATH: process.env["PATH"] ?? "",
    HOME: process.env["HOME"] ?? "/tmp",
    NODE_OPTIONS: "",
    PORT: String(port),
    OTEL_METRIC_EXPORT_INTERVAL: "500"
  }
  child = spawn(`${root}/node_modules/.bin/tsx`, ["--conditions=@mcp-oauth/source", "examples/otel/main.ts"], {
    cwd: root,
    env,
    detached: true
  })
  let out = ""
  child.stdout!.on("data", (chunk) => (out += chunk))
  child.stderr!.on("data", (chunk) => (out += chunk))
  const output = () => out

  await waitFor(() => out.includes("MCP server listening at"), "the start-up line", output)
  const issuer = /Development identity provider[^:]*: (\S+)/.exec(out)?.[1]
  expect(issuer).toBeDefined()
  const mcpUrl = `http://127.0.0.1:${port}/mcp`

  const tokens = await getTokens({ idp: { issuer: issuer!, resources: [mcpUrl], scopes: ["mcp"] }, resource: mcpUrl, scope: "mcp" })
  const accepted = await listTools(mcpUrl, `Bearer ${tokens.access_token}`)
  expect(accepted.status).toBe(200)
  const refused = await listTools(mcpUrl, "Bearer not-a-valid-token")
  expect(refused.status).toBe(401)

  // the console span exporter prints each span as it ends: the verifications, with the refusal's reason
  await waitFor(() => (out.match(/name: 'mcp_oauth\.verify_token'/g) ?? []).length >= 2, "two verify_token spans", output)
  await waitFor(() => out.includes("'mcp_oauth.failure.reason': 'malformed'"), "the refusal's reason", output)
  expect(out).toContain("name: 'mcp_oauth.jwks.fetch'")
  expect(out).toContain("name: 'mcp_oauth.discovery.fetch'")
  // and the metric reader exports Effect's counters
  await waitFor(() => out.includes("name: 'mcp_oauth_outbound_calls_total'"), "the outbound calls counter", output)
  expect(out).not.toContain(tokens.access_token)
})
