/**
 * A loopback "authorization server" that only mints tokens: it serves RFC 8414 metadata and a JWKS
 * (RS256, ES256, Ed25519 and a deliberately weak 1024-bit RSA key), signs whatever tests ask for,
 * and builds the hostile-token corpus.
 *
 * @since 0.1.0
 */
import * as crypto from "node:crypto"
import * as http from "node:http"
import * as jose from "jose"
import { buildHostileCorpus } from "./HostileCorpus.js"
import type { HostileCase, HostileCorpusOptions } from "./HostileCorpus.js"
import type { EndpointFault } from "./internal/http.js"
import { applyFault, closeServer, listenLoopback, RequestCounter, requestPath, sendJson } from "./internal/http.js"
import { rawCompact } from "./internal/jws.js"
import { keyPair } from "./internal/keys.js"
import type { KeyPair } from "./internal/keys.js"
import { selfSignedCertificate } from "./internal/x509.js"

/** Algorithms {@link TokenForge.sign} accepts. */
export type ForgeAlgorithm = "RS256" | "PS256" | "ES256" | "EdDSA"

/** The forge's published keys (`rsa-1`, `ec-1`, `ed-1`, `rsa-weak`) and the attacker's unpublished ones. */
export type ForgeKeyName = "rsa-1" | "ec-1" | "ed-1" | "rsa-weak" | "attacker-rsa" | "attacker-ec"

/** Options of {@link startTokenForge}. */
export interface TokenForgeOptions {
  /** The audience of valid tokens: the MCP resource URL of the server under test. */
  readonly audience: string
  /** The `iss` of tokens and metadata (default the forge's own origin, `http://127.0.0.1:<port>`). */
  readonly issuer?: string
  /** The `scope` of valid tokens (default `mcp`). */
  readonly scope?: string
}

/** Options of {@link TokenForge.sign}. */
export interface ForgeSignOptions {
  /** The JWS algorithm (default RS256, or the one matching `key`). */
  readonly alg?: ForgeAlgorithm
  /** The `kid` header (default the name of the signing key); `null` omits it. */
  readonly kid?: string | null
  /** The signing key (default the published key for `alg`). */
  readonly key?: ForgeKeyName
  /** Header fields merged over `{ alg, kid, typ: "at+jwt" }`; an `undefined` value removes the field. */
  readonly header?: Readonly<Record<string, unknown>>
}

/** The key material behind a forge, for building hostile tokens. */
export interface ForgeKeys {
  readonly rsa: KeyPair
  readonly ec: KeyPair
  readonly ed: KeyPair
  readonly weak: KeyPair
  readonly attackerRsa: KeyPair
  readonly attackerEc: KeyPair
  /** A self-signed certificate (DER) of the attacker's RSA key. */
  readonly attackerCertificate: Buffer
}

/** A running token forge. */
export interface TokenForge {
  /** The `iss` of its tokens and metadata. */
  readonly issuer: string
  /** Where it listens, `http://127.0.0.1:<port>`. */
  readonly origin: string
  /** The audience of valid tokens. */
  readonly audience: string
  /** Its RFC 8414 metadata URL (`<origin>/.well-known/oauth-authorization-server`). */
  readonly metadataUrl: string
  /** Its JWKS URL. */
  readonly jwksUri: string
  /** The published key set. */
  readonly jwks: jose.JSONWebKeySet
  /** The key material, including the attacker's. */
  readonly keys: ForgeKeys
  /** Faults switchable at run time (`/jwks` only). */
  readonly faults: { jwks: EndpointFault }
  /** An absolute URL on the forge. */
  readonly url: (path: string) => string
  /** Requests seen for `path` (e.g. `/jwks`, `/attacker/jwks`; a trailing `*` matches a prefix), or all when omitted. */
  readonly requests: (path?: string) => number
  /** Resets the request counters. */
  readonly resetRequests: () => void
  /** The claims of a valid access token (iss, aud, sub, client_id, scope, iat, exp = now + 10 min, jti), with overrides. */
  readonly claims: (overrides?: Readonly<Record<string, unknown>>) => Record<string, unknown>
  /** Signs a payload as a compact JWS. */
  readonly sign: (payload: Readonly<Record<string, unknown>>, options?: ForgeSignOptions) => Promise<string>
  /** A valid access token (`claims(overrides)` signed with `options`). */
  readonly token: (overrides?: Readonly<Record<string, unknown>>, options?: ForgeSignOptions) => Promise<string>
  /** The hostile-token corpus for a server protecting `resource` and trusting `issuer`. */
  readonly hostileCorpus: (options?: HostileCorpusOptions) => Promise<ReadonlyArray<HostileCase>>
  /** Stops the server. */
  readonly close: () => Promise<void>
}

const algorithmOf = (key: ForgeKeyName): ForgeAlgorithm =>
  key === "ec-1" || key === "attacker-ec" ? "ES256" : key === "ed-1" ? "EdDSA" : "RS256"

const keyFor = (alg: ForgeAlgorithm): ForgeKeyName => (alg === "ES256" ? "ec-1" : alg === "EdDSA" ? "ed-1" : "rsa-1")

/** Loads (once per process) the forge's key material. */
export const forgeKeys = async (): Promise<ForgeKeys> => {
  const [rsa, ec, ed, weak, attackerRsa, attackerEc] = await Promise.all([
    keyPair("rsa-2048", "forge"),
    keyPair("ec-p256", "forge"),
    keyPair("ed25519", "forge"),
    keyPair("rsa-1024", "forge"),
    keyPair("rsa-2048", "attacker"),
    keyPair("ec-p256", "attacker")
  ])
  return {
    rsa,
    ec,
    ed,
    weak,
    attackerRsa,
    attackerEc,
    attackerCertificate: selfSignedCertificate(attackerRsa.privateKey, attackerRsa.publicKey, "attacker")
  }
}

const pairOf = (keys: ForgeKeys, name: ForgeKeyName): KeyPair => {
  switch (name) {
    case "rsa-1":
      return keys.rsa
    case "ec-1":
      return keys.ec
    case "ed-1":
      return keys.ed
    case "rsa-weak":
      return keys.weak
    case "attacker-rsa":
      return keys.attackerRsa
    case "attacker-ec":
      return keys.attackerEc
  }
}

/** Starts a token forge on 127.0.0.1 with a random port. */
export const startTokenForge = async (options: TokenForgeOptions): Promise<TokenForge> => {
  const keys = await forgeKeys()
  const publish = (pair: KeyPair, kid: string, alg: string): jose.JWK => ({
    ...(pair.publicJwk as jose.JWK),
    kid,
    alg,
    use: "sig"
  })
  const jwks: jose.JSONWebKeySet = {
    keys: [
      publish(keys.rsa, "rsa-1", "RS256"),
      publish(keys.ec, "ec-1", "ES256"),
      publish(keys.ed, "ed-1", "EdDSA"),
      publish(keys.weak, "rsa-weak", "RS256")
    ]
  }
  const attackerJwks: jose.JSONWebKeySet = { keys: [publish(keys.attackerRsa, "attacker-1", "RS256")] }
  const attackerPem = `-----BEGIN CERTIFICATE-----\n${keys.attackerCertificate
    .toString("base64")
    .replace(/(.{64})/g, "$1\n")
    .trim()}\n-----END CERTIFICATE-----\n`

  const counter = new RequestCounter()
  const faults: { jwks: EndpointFault } = { jwks: null }
  let metadata: Record<string, unknown> = {}
  const server = http.createServer((req, res) => {
    const path = requestPath(req)
    counter.record(path)
    if (path.startsWith("/.well-known/oauth-authorization-server") || path.startsWith("/.well-known/openid-configuration")) {
      return sendJson(res, 200, metadata, { "access-control-allow-origin": "*" })
    }
    if (path === "/jwks") {
      if (applyFault(faults.jwks, res)) return
      return sendJson(res, 200, jwks, { "content-type": "application/jwk-set+json" })
    }
    if (path === "/attacker/jwks") return sendJson(res, 200, attackerJwks)
    if (path === "/attacker/x5u") {
      res.writeHead(200, { "content-type": "application/pem-certificate-chain" }).end(attackerPem)
      return
    }
    if (path === "/authorize" || path === "/token" || path === "/register") {
      return sendJson(res, 400, { error: "unsupported_grant_type", error_description: "the token forge only mints tokens" })
    }
    sendJson(res, 404, { error: "not_found" })
  })
  const origin = await listenLoopback(server)
  const issuer = options.issuer ?? origin
  metadata = {
    issuer,
    jwks_uri: `${origin}/jwks`,
    authorization_endpoint: `${origin}/authorize`,
    token_endpoint: `${origin}/token`,
    registration_endpoint: `${origin}/register`,
    response_types_supported: ["code"],
    grant_types_supported: ["authorization_code", "refresh_token"],
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: ["none"],
    authorization_response_iss_parameter_supported: true
  }

  const claims = (overrides: Readonly<Record<string, unknown>> = {}): Record<string, unknown> => {
    const now = Math.floor(Date.now() / 1000)
    return {
      iss: issuer,
      aud: options.audience,
      sub: "forge-user",
      client_id: "forge-client",
      scope: options.scope ?? "mcp",
      iat: now,
      exp: now + 600,
      jti: crypto.randomUUID(),
      ...overrides
    }
  }

  const sign = async (payload: Readonly<Record<string, unknown>>, signOptions: ForgeSignOptions = {}): Promise<string> => {
    const keyName = signOptions.key ?? keyFor(signOptions.alg ?? "RS256")
    const alg = signOptions.alg ?? algorithmOf(keyName)
    const header: Record<string, unknown> = { alg, typ: "at+jwt" }
    const kid = signOptions.kid === undefined ? keyName : signOptions.kid
    if (kid !== null) header.kid = kid
    for (const [name, value] of Object.entries(signOptions.header ?? {})) {
      if (value === undefined) delete header[name]
      else header[name] = value
    }
    const pair = pairOf(keys, keyName)
    // jose refuses RSA keys under 2048 bits, which is the point of the weak key: sign it by hand.
    if (keyName === "rsa-weak") return rawCompact(header, payload, alg, pair.privateKey)
    return new jose.CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader(header as jose.CompactJWSHeaderParameters)
      .sign(pair.privateKey)
  }

  const forge: TokenForge = {
    issuer,
    origin,
    audience: options.audience,
    metadataUrl: `${origin}/.well-known/oauth-authorization-server`,
    jwksUri: `${origin}/jwks`,
    jwks,
    keys,
    faults,
    url: (path) => new URL(path, `${origin}/`).href,
    requests: (path) => counter.count(path),
    resetRequests: () => counter.reset(),
    claims,
    sign,
    token: (overrides, signOptions) => sign(claims(overrides), signOptions),
    hostileCorpus: (corpusOptions = {}) => buildHostileCorpus(forge, corpusOptions),
    close: () => closeServer(server)
  }
  return forge
}
