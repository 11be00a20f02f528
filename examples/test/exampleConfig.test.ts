/**
 * Every example refuses to start without its variables, naming the first missing one (and `npm run example:<name>`
 * prints that as one line), and rejects bad values naming the variable at fault.
 */
import { spawn } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { start as startExpressAuth0 } from "../express-auth0/server.js"
import { start as startHonoWorkOS } from "../hono-workos/server.js"
import { start as startNodeKeycloak } from "../node-keycloak/server.js"
import { start as startProxyGitHub } from "../proxy-github/server.js"
import { start as startProxyGoogle } from "../proxy-google/server.js"

const root = fileURLToPath(new URL("../..", import.meta.url))

/** Runs an example's main.ts as its `npm run` script does (tsx, the source condition), with only PATH and HOME set. */
const runMain = (script: string) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const env = { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "/tmp", NODE_OPTIONS: "" }
    const [command, ...args] = script.split(" ")
    const child = spawn(`${root}/node_modules/.bin/${command}`, args, { cwd: root, env })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => (stdout += chunk))
    child.stderr.on("data", (chunk) => (stderr += chunk))
    child.on("exit", (code) => resolve({ code, stdout, stderr }))
  })

const examples = {
  "express-auth0": [startExpressAuth0, "MCP_OAUTH_AUTH0_DOMAIN"],
  "hono-workos": [startHonoWorkOS, "MCP_OAUTH_WORKOS_SUBDOMAIN"],
  "node-keycloak": [startNodeKeycloak, "MCP_OAUTH_KEYCLOAK_URL"],
  "proxy-google": [startProxyGoogle, "MCP_OAUTH_GOOGLE_CLIENT_ID"],
  "proxy-github": [startProxyGitHub, "MCP_OAUTH_GITHUB_CLIENT_ID"]
} as const

describe("the examples without their variables", () => {
  const scripts: Record<string, string> = JSON.parse(readFileSync(`${root}/package.json`, "utf8")).scripts

  it.each(Object.entries(examples))("%s: start rejects naming %s, and the npm script runs its main.ts", async (name, [start, variable]) => {
    const failure = await start({ PORT: "0" }).then(
      (running) => running.close().then(() => undefined),
      (error: unknown) => error
    )
    expect(failure).toMatchObject({ _tag: "ConfigProblem", setting: variable })
    expect((failure as Error).message).not.toContain("\n")
    expect(scripts[`example:${name}`]).toBe(`tsx --conditions=@mcp-oauth/source examples/${name}/main.ts`)
    expect(existsSync(`${root}/examples/${name}/main.ts`)).toBe(true)
  })

  // one cold start is enough to prove what every main.ts does with a ConfigProblem: they are the same file
  it("npm run example:node-keycloak ends with exit code 1 and one line naming the variable", async () => {
    const { code, stdout, stderr } = await runMain(scripts["example:node-keycloak"]!)
    expect(stdout).toBe("")
    expect(stderr.trim().split("\n")).toHaveLength(1)
    expect(stderr.trim()).toMatch(/^Configuration error: MCP_OAUTH_KEYCLOAK_URL: /)
    expect(code).toBe(1)
  })

  it("the examples' main.ts files differ only in their script name", () => {
    const mains = Object.keys(examples).map((name) =>
      readFileSync(`${root}/examples/${name}/main.ts`, "utf8").replace(`example:${name}`, "example:NAME")
    )
    expect(new Set(mains).size).toBe(1)
  })
})

describe("each example's start with a bad value", () => {
  const port = { PORT: "0" }
  it.each([
    ["node-keycloak", startNodeKeycloak, { MCP_OAUTH_KEYCLOAK_URL: "https://sso.example.com" }, "MCP_OAUTH_KEYCLOAK_REALM"],
    ["node-keycloak", startNodeKeycloak, { MCP_OAUTH_KEYCLOAK_URL: "https://sso.example.com/realms/a", MCP_OAUTH_KEYCLOAK_REALM: "b" }, "MCP_OAUTH_KEYCLOAK_REALM"],
    ["express-auth0", startExpressAuth0, { MCP_OAUTH_AUTH0_DOMAIN: "tenant.auth0.com", PORT: "http" }, "PORT"],
    ["express-auth0", startExpressAuth0, { MCP_OAUTH_AUTH0_DOMAIN: "tenant.auth0.com", MCP_OAUTH_BASE_URL: "http://mcp.example.com" }, "MCP_OAUTH_BASE_URL"],
    ["hono-workos", startHonoWorkOS, { MCP_OAUTH_WORKOS_SUBDOMAIN: "not a label" }, "MCP_OAUTH_WORKOS_SUBDOMAIN"],
    ["hono-workos", startHonoWorkOS, { MCP_OAUTH_WORKOS_SUBDOMAIN: "acme", MCP_OAUTH_WORKOS_DOMAIN: "auth.acme.com" }, "MCP_OAUTH_WORKOS_DOMAIN"],
    ["proxy-google", startProxyGoogle, { MCP_OAUTH_GOOGLE_CLIENT_ID: "c" }, "MCP_OAUTH_GOOGLE_CLIENT_SECRET"],
    ["proxy-google", startProxyGoogle, { MCP_OAUTH_GOOGLE_CLIENT_ID: "c", MCP_OAUTH_GOOGLE_CLIENT_SECRET: "s", MCP_OAUTH_GOOGLE_HOSTED_DOMAINS: "not a domain!" }, "MCP_OAUTH_GOOGLE_HOSTED_DOMAINS"],
    ["proxy-github", startProxyGitHub, { MCP_OAUTH_GITHUB_CLIENT_ID: "c", MCP_OAUTH_GITHUB_CLIENT_SECRET: "s", MCP_OAUTH_PROXY_COOKIE_SECRET: "short" }, "MCP_OAUTH_PROXY_COOKIE_SECRET"],
    ["proxy-github", startProxyGitHub, { MCP_OAUTH_GITHUB_CLIENT_ID: "c", MCP_OAUTH_GITHUB_CLIENT_SECRET: "s", MCP_OAUTH_GITHUB_API_URL: "ftp://api" }, "MCP_OAUTH_GITHUB_API_URL"]
  ] as const)("%s rejects %j naming %s", async (_name, start, env, variable) => {
    const failure = await start({ ...port, ...env }).then(
      (running) => running.close().then(() => undefined),
      (error: unknown) => error
    )
    expect(failure).toMatchObject({ _tag: "ConfigProblem", setting: variable })
  })
})
