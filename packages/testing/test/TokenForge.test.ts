import * as crypto from "node:crypto"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as jose from "jose"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { challengeError, isExpectedOutcome, startTokenForge } from "../src/index.js"
import type { HostileCase, TokenForge } from "../src/index.js"

const RESOURCE = "http://localhost:4100/mcp"
const REQUIRED = ["mcp:read"]

const decodePart = (token: string, index: number): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split(".")[index] ?? "", "base64url").toString("utf8")) as Record<string, unknown>
const header = (token: string) => decodePart(token, 0)
const payload = (token: string) => decodePart(token, 1)
const signingInput = (token: string) => token.split(".").slice(0, 2).join(".")
const signatureOf = (token: string) => Buffer.from(token.split(".")[2] ?? "", "base64url")
const verifyRs256 = (token: string, key: crypto.KeyObject) =>
  crypto.verify("sha256", Buffer.from(signingInput(token)), key, signatureOf(token))

/**
 * A strict reference resource server on jose: Bearer syntax per RFC 6750, a size cap, iss/aud/typ/exp/iat/sub checks,
 * an algorithm allowlist and scopes. Every corpus expectation must be reachable by it.
 */
const startReferenceServer = async (forge: TokenForge, requiredScopes: ReadonlyArray<string>) => {
  const keySet = jose.createLocalJWKSet(forge.jwks)
  const challenge = (error?: string) =>
    `Bearer resource_metadata="http://localhost:4100/.well-known/oauth-protected-resource/mcp"${error ? `, error="${error}"` : ""}`
  const deny = (res: http.ServerResponse, status: number, error?: string) =>
    res.writeHead(status, { "www-authenticate": challenge(error) }).end()
  const server = http.createServer(async (req, res) => {
    const value = req.headers.authorization
    if (value === undefined) return deny(res, 401)
    const match = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)(?: +(.*))?$/s.exec(value)
    if (match === null) return deny(res, 400, "invalid_request")
    if (match[1]!.toLowerCase() !== "bearer") return deny(res, 401)
    const token = match[2]
    if (token === undefined || !/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) return deny(res, 400, "invalid_request")
    if (token.length > 8192) return deny(res, 401, "invalid_token")
    let claims: jose.JWTPayload
    try {
      ;({ payload: claims } = await jose.jwtVerify(token, keySet, {
        issuer: forge.issuer,
        audience: RESOURCE,
        typ: "at+jwt",
        algorithms: ["RS256", "ES256", "EdDSA"],
        requiredClaims: ["iss", "aud", "exp", "iat", "sub"]
      }))
    } catch {
      return deny(res, 401, "invalid_token")
    }
    const now = Date.now() / 1000
    if (typeof claims.sub !== "string" || claims.sub === "" || (claims.iat ?? 0) > now + 60) {
      return deny(res, 401, "invalid_token")
    }
    const granted = typeof claims.scope === "string" ? claims.scope.split(" ") : Array.isArray(claims.scp) ? claims.scp : []
    if (!requiredScopes.every((s) => granted.includes(s))) return deny(res, 403, "insufficient_scope")
    res.writeHead(200).end("ok")
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}

describe("TokenForge", () => {
  let forge: TokenForge
  let corpus: ReadonlyArray<HostileCase>
  const byName = (name: string) => {
    const found = corpus.find((c) => c.name === name)
    if (found === undefined) throw new Error(`no case ${name}`)
    return found
  }
  const tokenOf = (name: string) => byName(name).token!

  beforeAll(async () => {
    forge = await startTokenForge({ audience: RESOURCE, scope: "mcp:read" })
    corpus = await forge.hostileCorpus({ requiredScopes: REQUIRED })
  })
  afterAll(() => forge.close())

  it("serves RFC 8414 metadata and a JWKS of public keys", async () => {
    const metadata = (await (await fetch(forge.metadataUrl)).json()) as Record<string, unknown>
    expect(metadata).toMatchObject({
      issuer: forge.issuer,
      jwks_uri: forge.jwksUri,
      code_challenge_methods_supported: ["S256"]
    })
    const jwks = (await (await fetch(forge.jwksUri)).json()) as jose.JSONWebKeySet
    expect(jwks.keys.map((k) => [k.kid, k.kty, k.alg])).toEqual([
      ["rsa-1", "RSA", "RS256"],
      ["ec-1", "EC", "ES256"],
      ["ed-1", "OKP", "EdDSA"],
      ["rsa-weak", "RSA", "RS256"]
    ])
    for (const key of jwks.keys) expect(key).not.toHaveProperty("d")
    expect(Buffer.from(jwks.keys[3]!.n!, "base64url").length * 8).toBe(1024)
    expect(forge.requests("/jwks")).toBe(1)
  })

  it("signs valid tokens that verify with jose against its remote JWKS", async () => {
    const keySet = jose.createRemoteJWKSet(new URL(forge.jwksUri))
    for (const alg of ["RS256", "ES256", "EdDSA"] as const) {
      const token = await forge.token({ sub: "bob" }, { alg })
      const { payload: claims, protectedHeader } = await jose.jwtVerify(token, keySet, {
        issuer: forge.issuer,
        audience: RESOURCE,
        typ: "at+jwt"
      })
      expect(protectedHeader.alg).toBe(alg)
      expect(claims).toMatchObject({ sub: "bob", scope: "mcp:read", client_id: "forge-client" })
    }
  })

  it("can make the JWKS endpoint fail", async () => {
    forge.faults.jwks = "500"
    expect((await fetch(forge.jwksUri)).status).toBe(500)
    forge.faults.jwks = null
    expect((await fetch(forge.jwksUri)).status).toBe(200)
  })

  it("builds a corpus of more than 60 uniquely named cases", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60)
    expect(new Set(corpus.map((c) => c.name)).size).toBe(corpus.length)
    expect(corpus.filter((c) => c.expect.status === 200).length).toBeGreaterThanOrEqual(5)
    for (const c of corpus) {
      expect(c.authorization.length).toBeGreaterThan(0)
      if (c.token !== undefined) expect(c.authorization.endsWith(c.token)).toBe(true)
    }
    const categories = new Set(corpus.map((c) => c.category))
    for (const category of ["alg-none", "alg-confusion", "signature", "key", "embedded-key", "crit", "serialization", "ecdsa"]) {
      expect(categories).toContain(category)
    }
  })

  it("shapes the signature and algorithm attacks as intended", () => {
    for (const name of ["alg-none", "alg-None", "alg-NONE", "alg-nOnE"]) {
      expect(String(header(tokenOf(name)).alg).toLowerCase()).toBe("none")
      expect(tokenOf(name).endsWith(".")).toBe(true)
    }
    const pem = forge.keys.rsa.publicKey.export({ type: "spki", format: "pem" })
    const hs = tokenOf("hs256-rsa-spki-pem")
    expect(header(hs)).toMatchObject({ alg: "HS256", kid: "rsa-1" })
    expect(crypto.createHmac("sha256", pem).update(signingInput(hs)).digest().equals(signatureOf(hs))).toBe(true)

    const attacker = tokenOf("attacker-key-real-kid")
    expect(header(attacker).kid).toBe("rsa-1")
    expect(verifyRs256(attacker, forge.keys.attackerRsa.publicKey)).toBe(true)
    expect(verifyRs256(attacker, forge.keys.rsa.publicKey)).toBe(false)

    const weak = tokenOf("rsa-1024")
    expect(header(weak).kid).toBe("rsa-weak")
    expect(forge.keys.weak.publicKey.asymmetricKeyDetails?.modulusLength).toBe(1024)
    expect(verifyRs256(weak, forge.keys.weak.publicKey)).toBe(true)

    expect(signatureOf(tokenOf("ecdsa-zero-signature")).equals(Buffer.alloc(64))).toBe(true)
    expect(tokenOf("nested-jwe").split(".")).toHaveLength(5)
    expect(header(tokenOf("nested-jwe"))).toMatchObject({ alg: "RSA-OAEP-256", cty: "JWT" })

    const tampered = tokenOf("signature-tampered")
    expect(signingInput(tampered)).toBe(signingInput(tokenOf("valid-rs256")))
    expect(verifyRs256(tampered, forge.keys.rsa.publicKey)).toBe(false)
  })

  it("shapes the embedded-key and crit attacks as intended", async () => {
    const jwkCase = tokenOf("jwk-header")
    const embedded = header(jwkCase).jwk as jose.JWK
    expect(embedded.n).toBe(forge.keys.attackerRsa.publicJwk.n)
    expect(verifyRs256(jwkCase, crypto.createPublicKey({ key: embedded as crypto.JsonWebKey, format: "jwk" }))).toBe(true)

    const x5c = tokenOf("x5c-header")
    const certificate = new crypto.X509Certificate(Buffer.from((header(x5c).x5c as Array<string>)[0]!, "base64"))
    expect(certificate.verify(certificate.publicKey)).toBe(true)
    expect(certificate.publicKey.equals(forge.keys.attackerRsa.publicKey)).toBe(true)
    expect(verifyRs256(x5c, certificate.publicKey)).toBe(true)

    const jku = header(tokenOf("jku-header")).jku as string
    expect(jku).toBe(forge.url("/attacker/jwks"))
    const attackerSet = (await (await fetch(jku)).json()) as jose.JSONWebKeySet
    expect(attackerSet.keys[0]?.n).toBe(forge.keys.attackerRsa.publicJwk.n)

    const crit = tokenOf("crit-unknown")
    expect(header(crit).crit).toEqual(["x-forge-critical"])
    expect(verifyRs256(crit, forge.keys.rsa.publicKey)).toBe(true)
    await expect(jose.compactVerify(crit, forge.keys.rsa.publicKey)).rejects.toThrow(/crit|not recognized/i)

    const b64 = tokenOf("b64-false")
    expect(header(b64)).toMatchObject({ b64: false, crit: ["b64"] })
    expect(verifyRs256(b64, forge.keys.rsa.publicKey)).toBe(true)
  })

  it("shapes the claim attacks as intended", async () => {
    expect(payload(tokenOf("iss-homoglyph")).iss).not.toBe(forge.issuer)
    expect(String(payload(tokenOf("iss-homoglyph")).iss).length).toBe(forge.issuer.length)
    expect(payload(tokenOf("aud-upper-case-host")).aud).toBe("http://LOCALHOST:4100/mcp")
    expect(payload(tokenOf("aud-trailing-slash")).aud).toBe(`${RESOURCE}/`)
    expect(payload(tokenOf("aud-missing"))).not.toHaveProperty("aud")
    expect(payload(tokenOf("exp-string")).exp).toBeTypeOf("string")
    expect(payload(tokenOf("sub-numeric")).sub).toBe(12345)

    const typ = byName("typ-jwt")
    expect(typ.requiresTyp).toBe(true)
    expect(header(typ.token!).typ).toBe("JWT")
    await jose.jwtVerify(typ.token!, jose.createLocalJWKSet(forge.jwks), { issuer: forge.issuer, audience: RESOURCE })

    const proto = tokenOf("proto-claims")
    expect(Buffer.from(proto.split(".")[1]!, "base64url").toString()).toContain('"__proto__":{"admin":true')
    const { payload: claims } = await jose.jwtVerify(proto, jose.createLocalJWKSet(forge.jwks), { audience: RESOURCE })
    expect(Object.getPrototypeOf(claims)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()

    expect(tokenOf("oversized-1mb").length).toBeGreaterThan(1024 * 1024)
    expect(byName("scope-missing").expect).toEqual({ status: 403, error: "insufficient_scope" })
    expect(byName("token-with-space").expect).toEqual({ status: 400, error: "invalid_request" })
    expect(byName("basic-scheme").expect).toEqual({ status: 401, error: null })
  })

  it("judges outcomes by status and challenge error", () => {
    const challenge = (value: string) => new Headers({ "www-authenticate": value })
    expect(isExpectedOutcome(byName("alg-none"), { status: 401, headers: challenge('Bearer error="invalid_token"') })).toBe(true)
    expect(isExpectedOutcome(byName("alg-none"), { status: 401, headers: challenge("Bearer") })).toBe(false)
    expect(isExpectedOutcome(byName("alg-none"), { status: 200, headers: new Headers() })).toBe(false)
    expect(isExpectedOutcome(byName("basic-scheme"), { status: 401, headers: challenge('Bearer resource_metadata="x"') })).toBe(true)
    expect(isExpectedOutcome(byName("basic-scheme"), { status: 401, headers: challenge('Bearer error="invalid_token"') })).toBe(false)
    expect(isExpectedOutcome(byName("oversized-1mb"), { status: 431, headers: new Headers() })).toBe(true)
    expect(challengeError('Bearer resource_metadata="a", error="insufficient_scope", scope="x"')).toBe("insufficient_scope")
  })

  it("omits the scope cases when no scopes are required", async () => {
    const plain = await forge.hostileCorpus()
    expect(plain.some((c) => c.expect.status === 403)).toBe(false)
    expect(plain.length).toBeGreaterThanOrEqual(60)
  })

  it("is satisfied case by case by a strict jose-based reference server", async () => {
    const server = await startReferenceServer(forge, REQUIRED)
    try {
      const failures: Array<string> = []
      for (const c of corpus) {
        const response = await fetch(server.url, { headers: { authorization: c.authorization } }).catch(
          (error: unknown) => ({ status: -1, headers: new Headers(), error })
        )
        if (!isExpectedOutcome(c, response)) {
          failures.push(`${c.name}: got ${response.status} ${challengeError(response.headers.get("www-authenticate"))}`)
        }
      }
      expect(failures).toEqual([])
      expect(forge.requests("/attacker/jwks")).toBe(1) // only this test file's own fetch above
      expect(forge.requests("/attacker/x5u")).toBe(0)
    } finally {
      await server.close()
    }
  })
})
