import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { main, parse } from "../src/Cli.js"
import * as Render from "../src/Render.js"
import type { Report } from "../src/Check.js"
import { freePort, startGoodStack, startMisconfiguredServer } from "./support/servers.js"

// the link npm install makes for the workspace's bin: what `npx mcp-oauth` runs in this repository
const bin = fileURLToPath(new URL("../../../node_modules/.bin/mcp-oauth", import.meta.url))

/** Runs the real executable as `npx mcp-oauth` would, resolving to its exit code and output. */
const runBin = (args: ReadonlyArray<string>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(bin, args, { timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : null, stdout, stderr }))
  })

/** Runs `main` in-process, capturing what it writes. */
const runMain = async (args: ReadonlyArray<string>, io: { isTTY?: boolean; env?: Record<string, string> } = {}) => {
  let stdout = ""
  let stderr = ""
  const code = await main(args, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    isTTY: io.isTTY ?? false,
    env: io.env ?? {}
  })
  return { code, stdout, stderr }
}

describe("mcp-oauth command line", () => {
  let stack: Awaited<ReturnType<typeof startGoodStack>>
  let broken: Awaited<ReturnType<typeof startMisconfiguredServer>>
  beforeAll(async () => {
    stack = await startGoodStack()
    broken = await startMisconfiguredServer({ authorizationServers: [stack.idp.issuer], metadataAtRoot: false })
  })
  afterAll(async () => {
    await broken.close()
    await stack.close()
  })

  it("exits 1 and prints the JSON report when a check fails, as the real executable run by npx", async () => {
    const result = await runBin(["doctor", broken.resource, "--kind", "server", "--json"])
    expect(result.stderr).toBe("")
    expect(result.code).toBe(1)
    const json = JSON.parse(result.stdout) as { ok: boolean; counts: { fail: number }; report: Report }
    expect(json.ok).toBe(false)
    expect(json.counts.fail).toBe(1)
    expect(json.report.checks.find((c) => c.status === "fail")?.id).toBe("server.prm.root")
    expect(json.report.authorizationServers[0]?.target).toBe(stack.idp.issuer)
  })

  it("exits 0 for a good server and 1 for a broken one, with a table outside a terminal", async () => {
    const good = await runMain(["doctor", stack.resource])
    expect(good.code).toBe(0)
    expect(good.stdout).toMatch(/^20 passed, 0 warnings, 0 failed\.$/m)
    const bad = await runMain(["doctor", broken.resource])
    expect(bad.code).toBe(1)
    expect(bad.stdout).toMatch(/^ {2}FAIL {2}Resource metadata \(root\) +http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource: HTTP 404$/m)
    expect(bad.stdout).toMatch(/^ +fix: also serve it at /m)
    expect(bad.stdout).toContain("1 failed: fix the FAIL rows above.")
    // not a terminal: no escape codes
    expect(bad.stdout).not.toContain("\u001b[")
  })

  it("exits 2 with one line when the target cannot be reached", async () => {
    const dead = `http://127.0.0.1:${await freePort()}/mcp`
    const result = await runMain(["doctor", dead])
    expect(result).toEqual({ code: 2, stdout: "", stderr: `mcp-oauth doctor: ${dead}: unreachable (ECONNREFUSED)\n` })
  })

  it("exits 2 when the URL is neither a server nor an issuer, suggesting --kind", async () => {
    const result = await runMain(["doctor", `${stack.idp.issuer}/nothing-here`])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("pass --kind server or --kind issuer")
    expect(result.stderr.trim().split("\n")).toHaveLength(1)
  })

  it("colors the status only for a terminal without NO_COLOR", async () => {
    const colored = await runMain(["doctor", stack.idp.issuer], { isTTY: true })
    expect(colored.code).toBe(0)
    expect(colored.stdout).toContain("\u001b[32mPASS\u001b[0m")
    const plain = await runMain(["doctor", stack.idp.issuer], { isTTY: true, env: { NO_COLOR: "1" } })
    expect(plain.stdout).not.toContain("\u001b[")
    expect(plain.stdout).toMatch(/^ {2}PASS {2}PKCE S256 +code_challenge_methods_supported: S256$/m)
  })

  it("refuses bad usage with exit 2 and one line plus the usage", async () => {
    for (const args of [
      ["doctor"],
      ["doctor", "not a url"],
      ["doctor", "ftp://example.com"],
      ["doctor", "https://a.example", "https://b.example"],
      ["doctor", "https://a.example", "--kind", "idp"],
      ["doctor", "https://a.example", "--timeout", "-1"],
      ["doctor", "https://a.example", "--origin", "https://app.example/path"],
      ["doctor", "https://a.example", "--colour"],
      ["diagnose", "https://a.example"]
    ]) {
      const result = await runMain(args)
      expect(result.code, args.join(" ")).toBe(2)
      expect(result.stderr.split("\n")[0], args.join(" ")).toMatch(/^mcp-oauth: /)
      expect(result.stderr.split("\n")[1]).toMatch(/^usage: mcp-oauth doctor/)
    }
  })

  it("parses options in both spellings", () => {
    expect(parse(["doctor", "https://a.example/mcp", "--kind=server", "--json", "--origin", "https://app.example", "--timeout", "2.5"])).toEqual({
      _tag: "Doctor",
      target: "https://a.example/mcp",
      kind: "server",
      json: true,
      origin: "https://app.example",
      timeoutSeconds: 2.5
    })
    expect(parse([])).toEqual({ _tag: "Help" })
    expect(parse(["--version"])).toEqual({ _tag: "Version" })
  })

  it("decides on color from the terminal and NO_COLOR", () => {
    expect(Render.useColor(true, {})).toBe(true)
    expect(Render.useColor(false, {})).toBe(false)
    expect(Render.useColor(undefined, {})).toBe(false)
    expect(Render.useColor(true, { NO_COLOR: "1" })).toBe(false)
    // no-color.org: an empty NO_COLOR does not disable color
    expect(Render.useColor(true, { NO_COLOR: "" })).toBe(true)
  })
})
