import { startTestIdp, type TestIdp } from "@mcp-oauth/testing"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { hasFailure } from "../src/Check.js"
import { freePort, rsaJwk, startMisconfiguredIdp, type IdpMisconfiguration } from "./support/servers.js"
import { check, doctor, statuses } from "./support/report.js"

describe("doctor on an identity provider", () => {
  let idp: TestIdp
  beforeAll(async () => {
    idp = await startTestIdp({ resource: `http://127.0.0.1:${await freePort()}/mcp` })
  })
  afterAll(() => idp.close())

  /** Runs the doctor on a copy of the test IdP with one thing wrong. */
  const misconfigured = async (misconfiguration: IdpMisconfiguration, kind?: "issuer") => {
    const server = await startMisconfiguredIdp(idp, misconfiguration)
    try {
      return { issuer: server.origin, report: await doctor(server.origin, { kind }) }
    } finally {
      await server.close()
    }
  }

  it("passes every check on the test IdP, detected as an issuer", async () => {
    const report = await doctor(idp.issuer)
    expect(report.kind).toBe("issuer")
    expect(statuses(report)).toEqual([
      "issuer.url: pass",
      "issuer.metadata: pass",
      "issuer.exact: pass",
      "issuer.pkce: pass",
      "issuer.registration: pass",
      "issuer.endpoints: pass",
      "issuer.token_auth: pass",
      "issuer.jwks: pass",
      "issuer.keys: pass"
    ])
    expect(check(report, "issuer.metadata").detail).toContain(`${idp.issuer}/.well-known/oauth-authorization-server`)
    expect(check(report, "issuer.keys").detail).toContain("usable (RS256)")
  })

  it("finds a path issuer's metadata at the third URL of the spec's order, as the library does", async () => {
    const realm = await startTestIdp({ resource: "http://127.0.0.1:1/mcp", issuerPath: "/realms/test" })
    try {
      const report = await doctor(realm.issuer, { kind: "issuer" })
      expect(hasFailure(report)).toBe(false)
      const metadata = check(report, "issuer.metadata")
      expect(metadata.detail).toContain(`found at ${realm.issuer}/.well-known/openid-configuration, URL 3 of 3`)
      // the two path-inserted URLs come first and are reported as missing
      expect(metadata.detail).toContain(`${new URL(realm.issuer).origin}/.well-known/oauth-authorization-server/realms/test → HTTP 404`)
    } finally {
      await realm.close()
    }
  })

  it("fails PKCE when S256 is not advertised", async () => {
    const { report } = await misconfigured({ edit: (doc) => ({ ...doc, code_challenge_methods_supported: ["plain"] }) })
    const pkce = check(report, "issuer.pkce")
    expect(pkce.status).toBe("fail")
    expect(pkce.detail).toContain("[plain], without S256")
    expect(pkce.fix).toContain('"code_challenge_methods_supported": ["S256"]')
    expect(statuses(report).filter((s) => s.endsWith("fail"))).toEqual(["issuer.pkce: fail"])
  })

  it("fails the issuer comparison on a trailing-slash mismatch, and discovery with it", async () => {
    const { issuer, report } = await misconfigured({ edit: (doc, origin) => ({ ...doc, issuer: `${origin}/` }) })
    const exact = check(report, "issuer.exact")
    expect(exact.status).toBe("fail")
    expect(exact.detail).toContain(`names issuer "${issuer}/", not "${issuer}"`)
    expect(exact.fix).toContain(`the trailing slash differs: configure the issuer as exactly "${issuer}/"`)
    // the library's own discovery refuses the document, so the metadata check fails too
    expect(check(report, "issuer.metadata").status).toBe("fail")
  })

  it("warns when the first discovery URL names another issuer, passing discovery on the next one as the library does", async () => {
    const { issuer, report } = await misconfigured({
      editRfc8414: (doc) => ({ ...doc, issuer: "https://other.example" })
    })
    const exact = check(report, "issuer.exact")
    expect(exact.status).toBe("warn")
    expect(exact.detail).toContain(`${issuer}/.well-known/oauth-authorization-server names issuer "https://other.example" and is skipped`)
    const metadata = check(report, "issuer.metadata")
    expect(metadata.status).toBe("pass")
    expect(metadata.detail).toContain(`found at ${issuer}/.well-known/openid-configuration, URL 2 of 2`)
    expect(hasFailure(report)).toBe(false)
  })

  it("fails client registration without DCR or CIMD, and accepts CIMD alone", async () => {
    const without = await misconfigured({
      edit: ({ registration_endpoint: _, ...doc }) => doc
    })
    const registration = check(without.report, "issuer.registration")
    expect(registration.status).toBe("fail")
    expect(registration.fix).toContain("oauthProxy")

    const cimd = await misconfigured({
      edit: ({ registration_endpoint: _, ...doc }) => ({ ...doc, client_id_metadata_document_supported: true })
    })
    expect(check(cimd.report, "issuer.registration")).toMatchObject({ status: "pass", detail: "Client ID Metadata Documents" })
  })

  it("fails a key set whose only RSA key is 1024 bits, with the library's minimum in the fix", async () => {
    const { report } = await misconfigured({ keys: [rsaJwk(1024, { kid: "weak" })] })
    const keys = check(report, "issuer.keys")
    expect(keys.status).toBe("fail")
    expect(keys.detail).toContain("kid=weak RSA RS256: RSA modulus 1024 bits, below 2048")
    expect(keys.fix).toContain("replace RSA keys shorter than 2048 bits")
  })

  it("fails a key set that publishes private or symmetric key material", async () => {
    const { report } = await misconfigured({
      keys: [rsaJwk(2048, { kid: "good" }), rsaJwk(2048, { private: true, kid: "leaked" }), { kty: "oct", k: "c2VjcmV0", alg: "HS256", kid: "hmac" }]
    })
    const keys = check(report, "issuer.keys")
    expect(keys.status).toBe("fail")
    expect(keys.detail).toContain("kid=good RSA RS256: usable (RS256)")
    expect(keys.detail).toContain("kid=leaked RSA RS256: publishes private or symmetric material (d, p, q, dp, dq, qi)")
    expect(keys.detail).toContain("kid=hmac oct HS256: publishes private or symmetric material (k)")
    expect(keys.fix).toContain("rotate")
  })

  it("warns about keys the library ignores when a usable key remains", async () => {
    const { report } = await misconfigured({
      keys: [rsaJwk(2048, { kid: "good" }), { ...rsaJwk(2048, { kid: "rs1" }), alg: "RS1" }]
    })
    const keys = check(report, "issuer.keys")
    expect(keys.status).toBe("warn")
    expect(keys.detail).toContain("kid=rs1 RSA RS1: alg RS1 is not accepted")
    expect(hasFailure(report)).toBe(false)
  })

  it("fails a key set that cannot be fetched", async () => {
    const dead = `http://127.0.0.1:${await freePort()}/jwks`
    const { report } = await misconfigured({ edit: (doc) => ({ ...doc, jwks_uri: dead }) })
    const jwks = check(report, "issuer.jwks")
    expect(jwks.status).toBe("fail")
    expect(jwks.detail).toContain(`${dead}: unreachable (ECONNREFUSED)`)
    expect(jwks.fix).toContain("serve the JSON Web Key Set")
  })

  it("warns when public clients cannot authenticate at the token endpoint", async () => {
    const { report } = await misconfigured({
      edit: ({ token_endpoint_auth_methods_supported: _, ...doc }) => doc
    })
    const tokenAuth = check(report, "issuer.token_auth")
    expect(tokenAuth.status).toBe("warn")
    expect(tokenAuth.detail).toContain("client_secret_basic (the RFC 8414 default)")
    expect(hasFailure(report)).toBe(false)
  })

  it("fails discovery when no URL serves metadata, naming each URL tried", async () => {
    // without a document the URL cannot be told to be an issuer, so the kind is given
    const { report } = await misconfigured({ edit: () => ({ error: "not here" }) }, "issuer")
    const metadata = check(report, "issuer.metadata")
    expect(metadata.status).toBe("fail")
    expect(metadata.detail).toContain("JSON, but not authorization server metadata")
    expect(metadata.fix).toContain("/.well-known/oauth-authorization-server")
    // nothing else can be judged without a document
    expect(report.checks.map((c) => c.id)).toEqual(["issuer.url", "issuer.metadata"])
  })
})
