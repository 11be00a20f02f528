/**
 * `npm start` with `MCP_OAUTH_PROVIDER=proxy`: the quickstart behind the OAuth proxy, in front of oidc-provider playing
 * an identity provider without dynamic registration (one static confidential client). The SDK v2 client registers at
 * the proxy, approves its consent page, signs in upstream, calls a tool, and steps up to `admin` for admin-report.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createServer } from "node:net"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { connectSdkV2, startTestIdp } from "@mcp-oauth/testing"

const root = fileURLToPath(new URL("../..", import.meta.url))
const secret = "quickstart-upstream-secret-never-printed"

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

const children: Array<ChildProcess> = []
afterAll(() => {
  for (const child of children) {
    try {
      process.kill(-child.pid!, "SIGKILL")
    } catch {
      // already gone
    }
  }
})

const run = (env: Record<string, string>) => {
  const base = { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "/tmp", NODE_OPTIONS: "" }
  const child = spawn(`${root}/node_modules/.bin/tsx`, ["--conditions=@mcp-oauth/source", "examples/quickstart/main.ts"], {
    cwd: root,
    env: { ...base, ...env },
    detached: true
  })
  children.push(child)
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

describe("npm start with MCP_OAUTH_PROVIDER=proxy", () => {
  it("runs the whole proxy flow with the generic preset, including the step-up to admin", async () => {
    const port = await freePort()
    const origin = `http://127.0.0.1:${port}`
    const idp = await startTestIdp({
      resource: `${origin}/mcp`,
      registration: false,
      staticClients: [
        {
          client_id: "quickstart-proxy",
          client_secret: secret,
          redirect_uris: [`${origin}/oauth/callback`],
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"],
          token_endpoint_auth_method: "client_secret_basic"
        }
      ]
    })
    try {
      const started = run({
        PORT: String(port),
        MCP_OAUTH_PROVIDER: "proxy",
        MCP_OAUTH_UPSTREAM_ISSUER: idp.issuer,
        MCP_OAUTH_UPSTREAM_CLIENT_ID: "quickstart-proxy",
        MCP_OAUTH_UPSTREAM_CLIENT_SECRET: secret
      })
      await waitFor(() => started.stdout().includes("listening") || started.stderr().includes("error"), "the server to listen")
      expect(started.stderr()).toContain("MCP_OAUTH_PROXY_SIGNING_KEY is not set")
      const metadata = await (await fetch(`${origin}/.well-known/oauth-protected-resource/mcp`)).json()
      expect(metadata.authorization_servers).toEqual([origin])

      const session = await connectSdkV2({ url: `${origin}/mcp`, loginHint: "alice", approveConsent: true })
      try {
        const profile = JSON.parse((await session.callTool("get-user-profile")).content[0]?.text ?? "null")
        expect(profile.userId).toBe("alice")
        const report = JSON.parse((await session.callTool("admin-report")).content[0]?.text ?? "null")
        expect(report).toEqual({ report: "all systems nominal", requestedBy: "alice" })
        expect(session.provider.authorizationUrls).toHaveLength(2)
        expect(new URL(session.provider.authorizationUrls[1]!).searchParams.get("scope")).toContain("admin")
      } finally {
        await session.close()
      }
      expect(`${started.stdout()}${started.stderr()}`).not.toContain(secret)
      process.kill(-started.child.pid!, "SIGTERM")
      await started.exited
    } finally {
      await idp.close()
    }
  })

  it.each([
    [{ MCP_OAUTH_PROVIDER: "proxy" }, "MCP_OAUTH_UPSTREAM_CLIENT_ID"],
    [{ MCP_OAUTH_PROVIDER: "proxy", MCP_OAUTH_UPSTREAM_CLIENT_ID: "c", MCP_OAUTH_UPSTREAM_CLIENT_SECRET: "s" }, "MCP_OAUTH_UPSTREAM_ISSUER"],
    [{ MCP_OAUTH_PROVIDER: "proxy", MCP_OAUTH_UPSTREAM_ISSUER: "https://idp.example.com", MCP_OAUTH_UPSTREAM_CLIENT_ID: "c" }, "MCP_OAUTH_UPSTREAM_CLIENT_SECRET"],
    [{ MCP_OAUTH_PROVIDER: "github" }, "MCP_OAUTH_GITHUB_CLIENT_ID"],
    [{ MCP_OAUTH_PROVIDER: "github", MCP_OAUTH_GITHUB_CLIENT_ID: "c", MCP_OAUTH_GITHUB_CLIENT_SECRET: "s", MCP_OAUTH_PROXY_COOKIE_SECRET: "short" }, "MCP_OAUTH_PROXY_COOKIE_SECRET"]
  ])("ends with one clear line for %j", async (env, variable) => {
    const started = run(env)
    const code = await started.exited
    expect(code).toBe(1)
    expect(started.stderr().trim()).toMatch(new RegExp(`^Configuration error: ${variable}`))
  })
})
