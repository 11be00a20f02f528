import type { TestIdp } from "@mcp-oauth/testing"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { hasFailure } from "../src/Check.js"
import {
  freePort,
  startExpressServer,
  startGoodStack,
  startMisconfiguredIdp,
  startMisconfiguredServer,
  startNodeServer,
  type ServerMisconfiguration
} from "./support/servers.js"
import { check, doctor, issuerCheckIds, serverCheckIds, statuses } from "./support/report.js"

describe("doctor on an MCP server", () => {
  let stack: Awaited<ReturnType<typeof startGoodStack>>
  let idp: TestIdp
  beforeAll(async () => {
    stack = await startGoodStack()
    idp = stack.idp
  })
  afterAll(() => stack.close())

  /** Runs the doctor on a hand-written MCP server with one thing wrong (or nothing, given no knob). */
  const misconfigured = async (misconfiguration: Partial<ServerMisconfiguration>) => {
    const server = await startMisconfiguredServer({ authorizationServers: [idp.issuer], ...misconfiguration })
    try {
      return { resource: server.resource, report: await doctor(server.resource) }
    } finally {
      await server.close()
    }
  }

  const failures = (report: Parameters<typeof statuses>[0]) => statuses(report).filter((s) => !s.endsWith("pass"))

  it("passes every check on the node adapter in front of the test IdP, its issuer checked too", async () => {
    const report = await doctor(stack.resource)
    expect(report.kind).toBe("server")
    expect(statuses(report)).toEqual([...serverCheckIds, ...issuerCheckIds].map((id) => `${id}: pass`))
    expect(report.authorizationServers.map((r) => r.target)).toEqual([idp.issuer])
  })

  it("passes every check on the Express adapter too", async () => {
    const server = await startExpressServer({ issuer: idp.issuer })
    try {
      const report = await doctor(server.resource)
      expect(report.kind).toBe("server")
      expect(failures(report)).toEqual([])
      expect(report.checks).toHaveLength(11)
    } finally {
      await server.close()
    }
  })

  it("passes every check on the hand-written server with no knob turned, so each failure below is its knob", async () => {
    const { report } = await misconfigured({})
    expect(failures(report)).toEqual([])
  })

  it("fails resource exactness when the metadata names another resource", async () => {
    const { resource, report } = await misconfigured({ resource: (canonical) => `${canonical}/` })
    const exact = check(report, "server.resource")
    expect(exact.status).toBe("fail")
    expect(exact.detail).toContain(`says "${resource}/", not "${resource}"`)
    expect(exact.fix).toContain(`configure the resource as exactly "${resource}"`)
    expect(failures(report)).toEqual(["server.resource: fail"])
  })

  it("fails when the metadata is missing at the root well-known URL", async () => {
    const { resource, report } = await misconfigured({ metadataAtRoot: false })
    const root = check(report, "server.prm.root")
    expect(root.status).toBe("fail")
    expect(root.detail).toContain("HTTP 404")
    expect(root.fix).toContain(`also serve it at ${new URL(resource).origin}/.well-known/oauth-protected-resource`)
    expect(failures(report)).toEqual(["server.prm.root: fail"])
  })

  it("fails when the metadata is missing at the path-inserted well-known URL", async () => {
    const { resource, report } = await misconfigured({ metadataAtPath: false })
    const path = check(report, "server.prm.path")
    expect(path.status).toBe("fail")
    expect(path.fix).toContain(`serve the protected resource metadata at ${new URL(resource).origin}/.well-known/oauth-protected-resource/mcp`)
    expect(failures(report)).toEqual(["server.prm.path: fail"])
  })

  it("fails CORS when WWW-Authenticate is not exposed to browser clients", async () => {
    const { report } = await misconfigured({ exposeHeaders: "Mcp-Session-Id, MCP-Protocol-Version" })
    const cors = check(report, "server.cors.challenge")
    expect(cors.status).toBe("fail")
    expect(cors.detail).toBe("Access-Control-Expose-Headers lacks WWW-Authenticate")
    expect(cors.fix).toContain("Access-Control-Expose-Headers: WWW-Authenticate, Mcp-Session-Id, MCP-Protocol-Version")
    expect(failures(report)).toEqual(["server.cors.challenge: fail"])
  })

  it("fails the challenge when requests without a token get through, still detecting a server by its metadata", async () => {
    const { report } = await misconfigured({ challenge: false })
    expect(report.kind).toBe("server")
    const challenge = check(report, "server.challenge")
    expect(challenge.status).toBe("fail")
    expect(challenge.detail).toContain("answered 200 to a request without a token: the endpoint is not protected")
    expect(challenge.fix).toContain("put the MCP endpoint behind the mcp-oauth guard")
  })

  it("fails a 401 without WWW-Authenticate", async () => {
    const { report } = await misconfigured({ wwwAuthenticate: false })
    const challenge = check(report, "server.challenge")
    expect(challenge.status).toBe("fail")
    expect(challenge.detail).toBe("401 without WWW-Authenticate: clients cannot find the authorization server")
    expect(challenge.fix).toContain('WWW-Authenticate: Bearer resource_metadata="')
  })

  it("fails when a bad token gets a 500 instead of 401 invalid_token", async () => {
    const { report } = await misconfigured({ badTokenStatus: 500 })
    const refused = check(report, "server.invalid_token")
    expect(refused.status).toBe("fail")
    expect(refused.detail).toBe("a bad token got 500, not 401")
    expect(refused.fix).toContain('error="invalid_token"')
    expect(failures(report)).toEqual(["server.invalid_token: fail"])
  })

  it("fails the server when its authorization server fails, with the issuer's own checks nested", async () => {
    const noPkce = await startMisconfiguredIdp(idp, {
      edit: ({ code_challenge_methods_supported: _, ...doc }) => doc
    })
    try {
      const { report } = await misconfigured({ authorizationServers: [noPkce.origin] })
      const summary = check(report, "server.authorization_server")
      expect(summary.status).toBe("fail")
      expect(summary.detail).toBe(`${noPkce.origin} fails: PKCE S256`)
      expect(report.authorizationServers).toHaveLength(1)
      expect(check(report.authorizationServers[0]!, "issuer.pkce").status).toBe("fail")
      expect(hasFailure(report)).toBe(true)
    } finally {
      await noPkce.close()
    }
  })

  it("fails an authorization server that cannot be reached, without giving up on the server", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`
    const { report } = await misconfigured({ authorizationServers: [dead] })
    expect(check(report, "server.authorization_server").status).toBe("fail")
    expect(check(report.authorizationServers[0]!, "issuer.metadata").detail).toContain("unreachable (ECONNREFUSED)")
    expect(check(report, "server.invalid_token").status).toBe("pass")
  })

  it("warns instead of failing CORS when the server allows only some origins, and passes for an allowed one", async () => {
    const server = await startNodeServer({ issuer: idp.issuer, allowedOrigins: ["https://app.example"] })
    try {
      const refused = await doctor(server.resource)
      expect(check(refused, "server.cors.challenge")).toMatchObject({
        status: "warn",
        detail: "origin https://mcp-oauth-doctor.example is refused with 403: the server has an origin allowlist"
      })
      expect(check(refused, "server.cors.challenge").fix).toContain("--origin")
      expect(check(refused, "server.cors.preflight").status).toBe("warn")
      expect(hasFailure(refused)).toBe(false)
      const allowed = await doctor(server.resource, { origin: "https://app.example" })
      expect(check(allowed, "server.cors.challenge").status).toBe("pass")
      expect(check(allowed, "server.cors.preflight").status).toBe("pass")
    } finally {
      await server.close()
    }
  })
})
