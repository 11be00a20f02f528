import { type McpAuthEnv, mcpAuthMiddleware, mcpAuthRoutes } from "@mcp-oauth/hono"
import { startTestIdp, type TestIdp } from "@mcp-oauth/testing"
import { Hono } from "hono"
import { cors } from "hono/cors"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Check, Report, Status } from "../src/Check.js"
import { main } from "../src/Cli.js"
import { type HonoWiring, startHonoServer, unguardedMcpHandler } from "./support/hono.js"
import { issuerCheckIds, serverCheckIds, statuses } from "./support/report.js"

/** What `mcp-oauth doctor --json` prints. */
interface JsonOutput {
  readonly ok: boolean
  readonly counts: Readonly<Record<Status, number>>
  readonly report: Report
}

/** Runs the command line in-process with `--json`, as a user would, resolving to the exit code and the parsed output. */
const doctorJson = async (url: string, ...flags: ReadonlyArray<string>) => {
  let stdout = ""
  let stderr = ""
  const code = await main(["doctor", url, "--json", ...flags], {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    isTTY: false,
    env: {}
  })
  return { code, stderr, output: JSON.parse(stdout) as JsonOutput }
}

const notPassing = (report: Report) => statuses(report).filter((s) => !s.endsWith("pass"))

const checkOf = (report: Report, id: string): Check => {
  const found = report.checks.find((c) => c.id === id)
  if (found === undefined) throw new Error(`no ${id} check: ${report.checks.map((c) => c.id).join(", ")}`)
  return found
}

/** The documented wiring (README of @mcp-oauth/hono): routes first, the guard on the endpoint and below, the handler. */
const documented = ({ auth, mcp }: HonoWiring) => {
  const app = new Hono<McpAuthEnv>()
  app.route("/", mcpAuthRoutes(auth))
  app.use("/mcp/*", mcpAuthMiddleware(auth))
  app.all("/mcp", mcp)
  return app
}

describe("doctor on a Hono server (@mcp-oauth/hono)", () => {
  let idp: TestIdp
  beforeAll(async () => {
    idp = await startTestIdp({ resource: "http://127.0.0.1/mcp" })
  })
  afterAll(() => idp.close())

  /** Starts the Hono app `wire` builds in front of the test IdP, runs the doctor on it, and stops it. */
  const doctorOn = async (
    wire: (wiring: HonoWiring) => Hono<McpAuthEnv>,
    options: { readonly sdk?: "v1" | "v2"; readonly path?: string; readonly flags?: ReadonlyArray<string> } = {}
  ) => {
    const server = await startHonoServer({ issuer: idp.issuer, sdk: options.sdk ?? "v1", wire, ...(options.path === undefined ? {} : { path: options.path }) })
    try {
      return { resource: server.resource, ...(await doctorJson(server.resource, ...(options.flags ?? []))) }
    } finally {
      await server.close()
    }
  }

  for (const sdk of ["v1", "v2"] as const) {
    it(`passes every check, exit 0, on the documented wiring with the SDK ${sdk} handler`, async () => {
      const { resource, code, stderr, output } = await doctorOn(documented, { sdk })
      expect(stderr).toBe("")
      expect(output.report).toMatchObject({ kind: "server", target: resource })
      expect(statuses(output.report)).toEqual([...serverCheckIds, ...issuerCheckIds].map((id) => `${id}: pass`))
      expect(output.report.authorizationServers.map((r) => r.target)).toEqual([idp.issuer])
      expect(checkOf(output.report, "server.challenge").detail).toBe(
        `401 Bearer resource_metadata="${new URL(resource).origin}/.well-known/oauth-protected-resource/mcp", scope="mcp"`
      )
      expect(output.ok).toBe(true)
      expect(output.counts).toEqual({ pass: 20, warn: 0, fail: 0 })
      expect(code).toBe(0)
    })
  }

  it("fails both metadata checks, and only those, when mcpAuthRoutes is forgotten", async () => {
    const { resource, code, output } = await doctorOn(({ auth, mcp }) => {
      const app = new Hono<McpAuthEnv>()
      app.use("/mcp/*", mcpAuthMiddleware(auth))
      app.all("/mcp", mcp)
      return app
    })
    const origin = new URL(resource).origin
    expect(code).toBe(1)
    expect(output.ok).toBe(false)
    // the guard's challenge still makes it an MCP server, and the guard answers preflights itself
    expect(output.report.kind).toBe("server")
    expect(notPassing(output.report)).toEqual(["server.prm.path: fail", "server.prm.root: fail"])
    expect(checkOf(output.report, "server.prm.path").detail).toBe(`${origin}/.well-known/oauth-protected-resource/mcp: HTTP 404`)
    expect(checkOf(output.report, "server.prm.root").detail).toBe(`${origin}/.well-known/oauth-protected-resource: HTTP 404`)
    expect(checkOf(output.report, "server.prm.path").fix).toContain("serve the protected resource metadata at")
  })

  it("fails the preflight too when mcpAuthRoutes is forgotten and the guard is mounted for POST only", async () => {
    const { code, output } = await doctorOn(({ auth, mcp }) => {
      const app = new Hono<McpAuthEnv>()
      app.post("/mcp", mcpAuthMiddleware(auth), mcp)
      return app
    })
    expect(code).toBe(1)
    expect(notPassing(output.report)).toEqual(["server.prm.path: fail", "server.prm.root: fail", "server.cors.preflight: fail"])
    expect(checkOf(output.report, "server.cors.preflight").detail).toMatch(/^OPTIONS answered 404; no Access-Control-Allow-Origin/)
  })

  it("fails the challenge when the guard is mounted on another path, so /mcp serves requests without a token", async () => {
    const { code, output } = await doctorOn(({ auth }) => {
      const app = new Hono<McpAuthEnv>()
      app.route("/", mcpAuthRoutes(auth))
      app.use("/api/*", mcpAuthMiddleware(auth))
      app.all("/mcp", unguardedMcpHandler)
      return app
    })
    expect(code).toBe(1)
    // still detected as a server, by the metadata mcpAuthRoutes serves
    expect(output.report.kind).toBe("server")
    expect(notPassing(output.report)).toEqual(["server.challenge: fail", "server.cors.challenge: fail", "server.invalid_token: fail"])
    expect(checkOf(output.report, "server.challenge").detail).toBe(
      "answered 200 to a request without a token: the endpoint is not protected"
    )
    expect(checkOf(output.report, "server.invalid_token").detail).toBe("a token no issuer signed was accepted (200)")
  })

  it("fails the challenge with the 500 the SDK handler answers when it is registered before the guard", async () => {
    const { code, output } = await doctorOn(({ auth, mcp }) => {
      const app = new Hono<McpAuthEnv>()
      app.route("/", mcpAuthRoutes(auth))
      app.all("/mcp", mcp) // Hono runs handlers in registration order: the guard below never runs for /mcp
      app.use("/mcp/*", mcpAuthMiddleware(auth))
      // Hono's default 500, without its console.error of the handler's complaint
      app.onError((_, c) => c.text("Internal Server Error", 500))
      return app
    })
    expect(code).toBe(1)
    expect(notPassing(output.report)).toEqual(["server.challenge: fail", "server.cors.challenge: fail", "server.invalid_token: fail"])
    expect(checkOf(output.report, "server.challenge").detail).toBe("answered 500 to a request without a token, not 401")
    expect(checkOf(output.report, "server.invalid_token").detail).toBe("a bad token got 500, not 401")
  })

  it("fails the metadata checks when the app has a basePath, which keeps mcpAuthRoutes off the root well-known URLs", async () => {
    const { resource, code, output } = await doctorOn(
      ({ auth, mcp }) => {
        const app = new Hono<McpAuthEnv>().basePath("/api")
        app.route("/", mcpAuthRoutes(auth))
        app.use("/mcp/*", mcpAuthMiddleware(auth))
        app.all("/mcp", mcp)
        return app
      },
      { path: "/api/mcp" }
    )
    expect(code).toBe(1)
    expect(notPassing(output.report)).toEqual(["server.prm.path: fail", "server.prm.root: fail"])
    expect(checkOf(output.report, "server.prm.path").detail).toBe(
      `${new URL(resource).origin}/.well-known/oauth-protected-resource/api/mcp: HTTP 404`
    )
  })

  it("passes with the routes at the root and the MCP endpoint in a sub-app under /api", async () => {
    const { code, output } = await doctorOn(
      ({ auth, mcp }) => {
        const app = new Hono<McpAuthEnv>()
        app.route("/", mcpAuthRoutes(auth))
        const api = new Hono<McpAuthEnv>()
        api.use("/mcp/*", mcpAuthMiddleware(auth))
        api.all("/mcp", mcp)
        app.route("/api", api)
        return app
      },
      { path: "/api/mcp" }
    )
    expect(notPassing(output.report)).toEqual([])
    expect(code).toBe(0)
  })

  it("fails both CORS checks when hono/cors in front sets its own headers, which Hono lets override the guard's", async () => {
    const { code, output } = await doctorOn((wiring) => {
      const app = new Hono<McpAuthEnv>()
      app.use(cors({ origin: "*", allowHeaders: ["Content-Type"], exposeHeaders: ["Content-Length"] }))
      app.route("/", documented(wiring))
      return app
    })
    expect(code).toBe(1)
    expect(notPassing(output.report)).toEqual(["server.cors.challenge: fail", "server.cors.preflight: fail"])
    expect(checkOf(output.report, "server.cors.challenge").detail).toBe(
      "Access-Control-Expose-Headers lacks WWW-Authenticate; Access-Control-Expose-Headers lacks Mcp-Session-Id"
    )
    expect(checkOf(output.report, "server.cors.preflight").detail).toBe(
      "Access-Control-Allow-Headers lacks Authorization; Access-Control-Allow-Headers lacks MCP-Protocol-Version; " +
        "Access-Control-Allow-Headers lacks Mcp-Session-Id"
    )
  })

  it("passes with hono/cors in front on its defaults", async () => {
    const { code, output } = await doctorOn((wiring) => {
      const app = new Hono<McpAuthEnv>()
      app.use(cors())
      app.route("/", documented(wiring))
      return app
    })
    expect(notPassing(output.report)).toEqual([])
    expect(code).toBe(0)
  })

  it("warns, not fails, for an origin hono/cors's allowlist leaves out, and passes for an allowed one", async () => {
    const wire = (wiring: HonoWiring) => {
      const app = new Hono<McpAuthEnv>()
      app.use(cors({ origin: ["https://app.example"] }))
      app.route("/", documented(wiring))
      return app
    }
    const refused = await doctorOn(wire)
    // hono/cors answers the preflight 204 without Access-Control-Allow-Origin, with Vary: Origin
    expect(notPassing(refused.output.report)).toEqual(["server.cors.preflight: warn"])
    expect(checkOf(refused.output.report, "server.cors.preflight")).toMatchObject({
      detail:
        "origin https://mcp-oauth-doctor.example gets no Access-Control-Allow-Origin from an answer that varies by Origin: " +
        "the server has an origin allowlist",
      fix: expect.stringContaining("--origin")
    })
    expect(refused.output.ok).toBe(true)
    expect(refused.code).toBe(0)
    const allowed = await doctorOn(wire, { flags: ["--origin", "https://app.example"] })
    expect(notPassing(allowed.output.report)).toEqual([])
    expect(allowed.code).toBe(0)
  })
})
