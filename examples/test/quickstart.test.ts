import { type ChildProcess, spawn } from "node:child_process"
import { createServer } from "node:net"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { getTokens, startTestIdp } from "@mcp-oauth/testing"

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

interface Run {
  readonly child: ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  readonly exited: Promise<number | null>
}

/** Runs the quickstart as `npm start` does (or through npm itself), with only the given variables set. */
const run = (env: Record<string, string>, viaNpm = false): Run => {
  const base = { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "/tmp", NODE_OPTIONS: "" }
  const child = viaNpm
    ? spawn("npm", ["start", "--silent"], { cwd: root, env: { ...base, ...env }, detached: true })
    : spawn(`${root}/node_modules/.bin/tsx`, ["--conditions=@mcp-oauth/source", "examples/quickstart/main.ts"], {
        cwd: root,
        env: { ...base, ...env },
        detached: true
      })
  let out = ""
  let err = ""
  child.stdout!.on("data", (chunk) => (out += chunk))
  child.stderr!.on("data", (chunk) => (err += chunk))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  return { child, stdout: () => out, stderr: () => err, exited }
}

const waitFor = async (predicate: () => boolean, what: string, timeoutMs = 30_000) => {
  const started = Date.now()
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const callProfile = async (mcpUrl: string, token: string) => {
  const response = await fetch(mcpUrl, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${token}` },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "get-user-profile", arguments: {} } })
  })
  const text = await response.text()
  const json = text.startsWith("{") ? text : (text.split("\n").find((l) => l.startsWith("data:")) ?? "").slice(5)
  return { status: response.status, profile: JSON.parse(JSON.parse(json).result.content[0].text) }
}

const stopGroup = (child: ChildProcess, signal: NodeJS.Signals) => {
  try {
    process.kill(-child.pid!, signal)
  } catch {
    // already gone
  }
}

const children: Array<ChildProcess> = []
afterAll(() => {
  for (const child of children) stopGroup(child, "SIGKILL")
})

describe("npm start", () => {
  it("starts with no configuration on the embedded development IdP", async () => {
    const port = await freePort()
    const started = run({ PORT: String(port) }, true)
    children.push(started.child)
    await waitFor(() => started.stdout().includes("listening"), "the server to listen")
    const mcpUrl = `http://127.0.0.1:${port}/mcp`
    expect(started.stdout()).toContain(mcpUrl)
    expect(started.stdout()).toMatch(/development only/i)
    const unauthenticated = await fetch(mcpUrl, { method: "POST" })
    expect(unauthenticated.status).toBe(401)
    const metadata = await (await fetch(`http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`)).json()
    expect(metadata.resource).toBe(mcpUrl)
    const issuer: string = metadata.authorization_servers[0]
    const { access_token } = await getTokens({ idp: { issuer, resources: [mcpUrl], scopes: ["mcp"] } })
    const { status, profile } = await callProfile(mcpUrl, access_token)
    expect(status).toBe(200)
    expect(profile).toEqual({ userId: "test-user", email: "test-user@example.com", name: "Test User" })
    // admin-report needs scope admin: a token with only "mcp" is told to step up
    const admin = await fetch(mcpUrl, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${access_token}` },
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "admin-report", arguments: {} } })
    })
    expect(admin.status).toBe(403)
    expect(admin.headers.get("www-authenticate")).toContain('scope="mcp admin", error="insufficient_scope"')
    // as a terminal does: the signal goes to the whole process group (npm, tsx, node)
    stopGroup(started.child, "SIGINT")
    await started.exited
    let stopped = false
    await waitFor(() => {
      void fetch(mcpUrl).then(
        () => undefined,
        () => (stopped = true)
      )
      return stopped
    }, "the server to stop", 10_000)
  })

  it("protects the server with an external issuer when MCP_OAUTH_PROVIDER=custom", async () => {
    const port = await freePort()
    const mcpUrl = `http://127.0.0.1:${port}/mcp`
    const idp = await startTestIdp({ resource: mcpUrl, scopes: ["mcp"] })
    try {
      const started = run({ PORT: String(port), MCP_OAUTH_PROVIDER: "custom", MCP_OAUTH_ISSUER: idp.issuer })
      children.push(started.child)
      await waitFor(() => started.stdout().includes("listening"), "the server to listen")
      expect(started.stdout()).not.toMatch(/development only/i)
      const metadata = await (await fetch(`http://127.0.0.1:${port}/.well-known/oauth-protected-resource`)).json()
      expect(metadata.authorization_servers).toEqual([idp.issuer])
      const { access_token } = await getTokens({ idp, loginHint: "alice" })
      const { status, profile } = await callProfile(mcpUrl, access_token)
      expect(status).toBe(200)
      expect(profile.userId).toBe("alice")
      stopGroup(started.child, "SIGTERM")
      await started.exited
    } finally {
      await idp.close()
    }
  })

  it.concurrent.each([
    [{ MCP_OAUTH_PROVIDER: "custom" }, "MCP_OAUTH_ISSUER"],
    [{ MCP_OAUTH_PROVIDER: "custom", MCP_OAUTH_ISSUER: "not a url" }, "MCP_OAUTH_ISSUER"],
    [{ MCP_OAUTH_PROVIDER: "custom", MCP_OAUTH_ISSUER: "http://idp.example.com" }, "MCP_OAUTH_ISSUER"],
    [{ MCP_OAUTH_PROVIDER: "custom", MCP_OAUTH_ISSUER: "https://idp.example.com", MCP_OAUTH_JWKS_URI: "ftp://x" }, "MCP_OAUTH_JWKS_URI"],
    [{ MCP_OAUTH_PROVIDER: "okta-typo" }, "MCP_OAUTH_PROVIDER"],
    [{ MCP_OAUTH_PROVIDER: "auth0" }, "MCP_OAUTH_AUTH0_DOMAIN"],
    [{ MCP_OAUTH_PROVIDER: "keycloak", MCP_OAUTH_KEYCLOAK_URL: "http://kc.example.com", MCP_OAUTH_KEYCLOAK_REALM: "r" }, "MCP_OAUTH_KEYCLOAK_URL"],
    [{ MCP_OAUTH_PROVIDER: "supabase" }, "MCP_OAUTH_SUPABASE_URL"],
    [{ MCP_OAUTH_BASE_URL: "http://public.example.com" }, "MCP_OAUTH_BASE_URL"],
    [{ PORT: "http" }, "PORT"]
  ])("ends with one clear line for %j", async (env, variable) => {
    const started = run(env)
    children.push(started.child)
    expect(await started.exited).toBe(1)
    const lines = started.stderr().trim().split("\n")
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(variable)
    expect(lines[0]).not.toMatch(/\bat\s.+:\d+:\d+/)
  })
})
