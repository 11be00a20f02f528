/**
 * The hostile-token corpus: bearer credentials a protected resource must refuse (and a few it must accept),
 * each with the HTTP outcome RFC 6750 / RFC 9068 / RFC 8725 call for. Send `authorization` to the server
 * under test and compare the response with {@link isExpectedOutcome}.
 *
 * @since 0.1.0
 */
import * as crypto from "node:crypto"
import * as jose from "jose"
import { b64u, rawCompact, rawSignature, segment } from "./internal/jws.js"
import type { TokenForge } from "./TokenForge.js"

/** The `error` attribute of a Bearer challenge. */
export type HostileError = "invalid_token" | "invalid_request" | "insufficient_scope"

/** One acceptable outcome: a status and the challenge's `error` (`null`: the challenge must carry none; omitted: not checked). */
export interface HostileExpectation {
  readonly status: 200 | 400 | 401 | 403 | 431
  readonly error?: HostileError | null
}

/** What a case exercises. */
export type HostileCategory =
  | "valid"
  | "alg-none"
  | "alg-confusion"
  | "signature"
  | "key"
  | "embedded-key"
  | "crit"
  | "serialization"
  | "ecdsa"
  | "issuer"
  | "audience"
  | "time"
  | "typ"
  | "subject"
  | "prototype"
  | "size"
  | "syntax"
  | "scope"

/** One case of the corpus. */
export interface HostileCase {
  /** A unique kebab-case name. */
  readonly name: string
  readonly category: HostileCategory
  /** What the case does and why the expectation holds. */
  readonly description: string
  /** The complete `Authorization` header value to send. */
  readonly authorization: string
  /** The bearer token inside `authorization`, when the case is about a token rather than header syntax. */
  readonly token?: string
  /** The outcome the specifications call for. */
  readonly expect: HostileExpectation
  /** Other outcomes that are equally correct (e.g. 431 from an HTTP server's header limit). */
  readonly alsoAccept?: ReadonlyArray<HostileExpectation>
  /** Only meaningful when the server requires `typ: at+jwt` (RFC 9068); a server that does not may accept it. */
  readonly requiresTyp?: boolean
}

/** Options of the corpus. */
export interface HostileCorpusOptions {
  /** The resource the server protects, the expected `aud` (default the forge's audience). */
  readonly resource?: string
  /** The issuer the server trusts (default the forge's issuer). */
  readonly issuer?: string
  /** Scopes the probed operation requires; adds the 403 `insufficient_scope` cases (default none). */
  readonly requiredScopes?: ReadonlyArray<string>
}

/** The `error` attribute of a `WWW-Authenticate: Bearer ...` value, `null` when absent. */
export const challengeError = (wwwAuthenticate: string | null): string | null =>
  wwwAuthenticate === null ? null : (/(?:^|[\s,])error="([^"]*)"/.exec(wwwAuthenticate)?.[1] ?? null)

/** Whether a response's status and `WWW-Authenticate` satisfy a case (its `expect` or one of `alsoAccept`). */
export const isExpectedOutcome = (
  hostileCase: HostileCase,
  response: { readonly status: number; readonly headers: { get(name: string): string | null } }
): boolean => {
  const error = challengeError(response.headers.get("www-authenticate"))
  return [hostileCase.expect, ...(hostileCase.alsoAccept ?? [])].some(
    (expectation) =>
      expectation.status === response.status && (expectation.error === undefined || expectation.error === error)
  )
}

const ACCEPT: HostileExpectation = { status: 200 }
const INVALID_TOKEN: HostileExpectation = { status: 401, error: "invalid_token" }
const INVALID_REQUEST: HostileExpectation = { status: 400, error: "invalid_request" }
const NO_ERROR: HostileExpectation = { status: 401, error: null }
const INSUFFICIENT_SCOPE: HostileExpectation = { status: 403, error: "insufficient_scope" }

const HOMOGLYPHS: Readonly<Record<string, string>> = { a: "а", c: "с", e: "е", i: "і", o: "о", p: "р", x: "х", y: "у" }

/** Replaces the first letter that has a Cyrillic look-alike. */
const homoglyph = (value: string): string => {
  for (let i = 0; i < value.length; i++) {
    const replacement = HOMOGLYPHS[value.charAt(i)]
    if (replacement !== undefined) return value.slice(0, i) + replacement + value.slice(i + 1)
  }
  return `${value}\u200b`
}

/** The URL with scheme and host upper-cased (the host alone when it has letters). */
const upperCaseHost = (value: string): string => {
  const url = URL.parse(value)
  if (url === null) return value.toUpperCase()
  const prefix = `${url.protocol}//${url.host}`
  if (!value.startsWith(prefix)) return value.toUpperCase()
  const host = url.host.toUpperCase()
  const upper = host === url.host ? `${url.protocol.toUpperCase()}//${host}` : `${url.protocol}//${host}`
  return upper + value.slice(prefix.length)
}

const withTrailingSlash = (value: string): string => (value.endsWith("/") ? value.slice(0, -1) : `${value}/`)

const flipFirstByte = (signature: string): string => {
  const bytes = Buffer.from(signature, "base64url")
  bytes[0] = (bytes[0] ?? 0) ^ 0x01
  return b64u(bytes)
}

const parts = (token: string): [string, string, string] => {
  const [header = "", payload = "", signature = ""] = token.split(".")
  return [header, payload, signature]
}

const TEN_YEARS = 10 * 365 * 24 * 3600

/** Builds the corpus against a forge (see {@link TokenForge.hostileCorpus}). */
export const buildHostileCorpus = async (
  forge: TokenForge,
  options: HostileCorpusOptions
): Promise<ReadonlyArray<HostileCase>> => {
  const resource = options.resource ?? forge.audience
  const issuer = options.issuer ?? forge.issuer
  const required = [...(options.requiredScopes ?? [])]
  const scope = required.length > 0 ? required.join(" ") : "mcp"
  const now = Math.floor(Date.now() / 1000)
  const { keys } = forge
  const claims = (overrides: Record<string, unknown> = {}): Record<string, unknown> => {
    const base: Record<string, unknown> = {
      iss: issuer,
      aud: resource,
      sub: "forge-user",
      client_id: "forge-client",
      scope,
      iat: now,
      exp: now + 600,
      jti: crypto.randomUUID()
    }
    for (const [name, value] of Object.entries(overrides)) {
      if (value === undefined) delete base[name]
      else base[name] = value
    }
    return base
  }
  const rsaHeader = { alg: "RS256", kid: "rsa-1", typ: "at+jwt" }
  const valid = await forge.sign(claims())

  const cases: Array<HostileCase> = []
  const add = (
    category: HostileCategory,
    name: string,
    description: string,
    token: string,
    expect: HostileExpectation,
    extra: { alsoAccept?: ReadonlyArray<HostileExpectation>; requiresTyp?: boolean; authorization?: string } = {}
  ) => {
    cases.push({
      name,
      category,
      description,
      authorization: extra.authorization ?? `Bearer ${token}`,
      token,
      expect,
      ...(extra.alsoAccept === undefined ? {} : { alsoAccept: extra.alsoAccept }),
      ...(extra.requiresTyp === undefined ? {} : { requiresTyp: extra.requiresTyp })
    })
  }
  const addHeader = (
    name: string,
    description: string,
    authorization: string,
    expect: HostileExpectation,
    alsoAccept?: ReadonlyArray<HostileExpectation>
  ) => {
    cases.push({ name, category: "syntax", description, authorization, expect, ...(alsoAccept ? { alsoAccept } : {}) })
  }
  const rejectClaims = async (category: HostileCategory, name: string, description: string, overrides: Record<string, unknown>) =>
    add(category, name, description, await forge.sign(claims(overrides)), INVALID_TOKEN)

  // ---- must accept -------------------------------------------------------------------------------------------
  add("valid", "valid-rs256", "A correct RS256 access token.", valid, ACCEPT)
  add("valid", "valid-es256", "A correct ES256 access token.", await forge.sign(claims(), { alg: "ES256" }), ACCEPT)
  add("valid", "valid-eddsa", "A correct EdDSA (Ed25519) access token.", await forge.sign(claims(), { alg: "EdDSA" }), ACCEPT)
  add(
    "valid",
    "valid-aud-array",
    "aud is an array that contains the resource (RFC 7519 §4.1.3).",
    await forge.sign(claims({ aud: ["https://other.example/api", resource] })),
    ACCEPT
  )
  add(
    "valid",
    "valid-typ-application-at+jwt",
    'typ "application/at+jwt" is the same media type as "at+jwt" (RFC 9068 §2.1).',
    await forge.sign(claims(), { header: { typ: "application/at+jwt" } }),
    ACCEPT
  )
  add(
    "valid",
    "valid-lowercase-scheme",
    "The auth scheme is case-insensitive (RFC 9110 §11.1): `bearer <token>`.",
    valid,
    ACCEPT,
    { authorization: `bearer ${valid}` }
  )
  add(
    "scope",
    "valid-scp-array",
    "Scopes as an `scp` array instead of a `scope` string, covering every required scope.",
    await forge.sign(claims({ scope: undefined, scp: scope.split(" ") })),
    ACCEPT
  )
  add(
    "scope",
    "valid-scope-superset",
    "A `scope` string with more than the required scopes.",
    await forge.sign(claims({ scope: `${scope} extra:scope` })),
    ACCEPT
  )
  {
    const text = `${JSON.stringify(claims()).slice(0, -1)},"__proto__":{"admin":true,"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}`
    add(
      "prototype",
      "proto-claims",
      "Otherwise valid claims carrying `__proto__` and `constructor.prototype`: must not pollute prototypes; accepting or rejecting is fine, a 500 is not.",
      rawCompact(rsaHeader, text, "RS256", keys.rsa.privateKey),
      ACCEPT,
      { alsoAccept: [INVALID_TOKEN] }
    )
    const header = `{"alg":"RS256","kid":"rsa-1","typ":"at+jwt","__proto__":{"alg":"none","kid":"attacker"}}`
    add(
      "prototype",
      "proto-header",
      "A valid signature under a header with a `__proto__` member: never 500, never read `alg` from the prototype.",
      rawCompact(header, claims(), "RS256", keys.rsa.privateKey),
      ACCEPT,
      { alsoAccept: [INVALID_TOKEN] }
    )
  }
  add(
    "time",
    "exp-far-future",
    "exp ten years ahead. Accepted unless the server caps token lifetime (document which).",
    await forge.sign(claims({ exp: now + TEN_YEARS })),
    ACCEPT,
    { alsoAccept: [INVALID_TOKEN] }
  )

  // ---- alg none ----------------------------------------------------------------------------------------------
  const [, validPayload, validSignature] = parts(valid)
  for (const alg of ["none", "None", "NONE", "nOnE"]) {
    add(
      "alg-none",
      `alg-${alg}`,
      `Unsecured JWS with alg "${alg}" and an empty signature (RFC 8725 §3.1).`,
      `${segment({ ...rsaHeader, alg })}.${validPayload}.`,
      INVALID_TOKEN
    )
  }
  add(
    "alg-none",
    "alg-none-with-signature",
    'alg "none" with the original RS256 signature left in place.',
    `${segment({ ...rsaHeader, alg: "none" })}.${validPayload}.${validSignature}`,
    INVALID_TOKEN
  )
  add(
    "alg-none",
    "alg-none-no-kid",
    'alg "none" and no kid.',
    `${segment({ alg: "none", typ: "at+jwt" })}.${validPayload}.`,
    INVALID_TOKEN
  )
  add(
    "alg-none",
    "alg-missing",
    "No alg header at all, signed with the real RSA key.",
    rawCompact({ kid: "rsa-1", typ: "at+jwt" }, claims(), "RS256", keys.rsa.privateKey),
    INVALID_TOKEN
  )
  add(
    "alg-none",
    "alg-empty",
    'alg "" signed with the real RSA key.',
    rawCompact({ ...rsaHeader, alg: "" }, claims(), "RS256", keys.rsa.privateKey),
    INVALID_TOKEN
  )
  add(
    "alg-none",
    "alg-null",
    "alg null signed with the real RSA key.",
    rawCompact({ ...rsaHeader, alg: null }, claims(), "RS256", keys.rsa.privateKey),
    INVALID_TOKEN
  )

  // ---- algorithm confusion -------------------------------------------------------------------------------
  const rsaSpkiPem = keys.rsa.publicKey.export({ type: "spki", format: "pem" }).toString()
  const hmacSecrets: Array<[string, string, Uint8Array, string | undefined]> = [
    ["hs256-rsa-spki-pem", "the RSA public key as SPKI PEM (with its trailing newline)", Buffer.from(rsaSpkiPem), "rsa-1"],
    ["hs256-rsa-spki-pem-trimmed", "the RSA public key as SPKI PEM, trimmed", Buffer.from(rsaSpkiPem.trim()), "rsa-1"],
    ["hs256-rsa-spki-der", "the RSA public key as SPKI DER", keys.rsa.publicKey.export({ type: "spki", format: "der" }), "rsa-1"],
    [
      "hs256-rsa-pkcs1-pem",
      "the RSA public key as PKCS#1 PEM",
      Buffer.from(keys.rsa.publicKey.export({ type: "pkcs1", format: "pem" }).toString()),
      "rsa-1"
    ],
    ["hs256-rsa-jwk-json", "the RSA public JWK's JSON text", Buffer.from(JSON.stringify(forge.jwks.keys[0] ?? {})), "rsa-1"],
    [
      "hs256-ec-spki-pem",
      "the EC public key as SPKI PEM",
      Buffer.from(keys.ec.publicKey.export({ type: "spki", format: "pem" }).toString()),
      "ec-1"
    ],
    ["hs256-no-kid", "the RSA public key as SPKI PEM, without kid", Buffer.from(rsaSpkiPem), undefined]
  ]
  for (const [name, what, secret, kid] of hmacSecrets) {
    const header = kid === undefined ? { alg: "HS256", typ: "at+jwt" } : { alg: "HS256", kid, typ: "at+jwt" }
    add("alg-confusion", name, `HS256 with ${what} as the HMAC secret.`, rawCompact(header, claims(), "HS256", secret), INVALID_TOKEN)
  }
  add(
    "alg-confusion",
    "ps256-with-rs256-key",
    "PS256 signed with rsa-1, whose JWK says alg RS256: a key is used with one algorithm only (RFC 8725 §3.1).",
    await forge.sign(claims(), { alg: "PS256", key: "rsa-1", kid: "rsa-1" }),
    INVALID_TOKEN
  )
  add(
    "alg-confusion",
    "rs256-with-ec-kid",
    "RS256 signed with rsa-1 but naming the EC key ec-1.",
    await forge.sign(claims(), { alg: "RS256", key: "rsa-1", kid: "ec-1" }),
    INVALID_TOKEN
  )
  add(
    "alg-confusion",
    "es256-with-rsa-kid",
    "ES256 by an attacker key naming the RSA key rsa-1.",
    await forge.sign(claims(), { alg: "ES256", key: "attacker-ec", kid: "rsa-1" }),
    INVALID_TOKEN
  )

  // ---- signatures ----------------------------------------------------------------------------------------
  const [validHeader] = parts(valid)
  const other = await forge.sign(claims({ sub: "admin", scope: `${scope} admin` }))
  const [, otherPayload, otherSignature] = parts(other)
  add("signature", "signature-stripped", "The signature segment is empty.", `${validHeader}.${validPayload}.`, INVALID_TOKEN)
  add("signature", "signature-segment-missing", "Only two segments.", `${validHeader}.${validPayload}`, INVALID_TOKEN)
  add(
    "signature",
    "signature-tampered",
    "One bit of the signature flipped.",
    `${validHeader}.${validPayload}.${flipFirstByte(validSignature)}`,
    INVALID_TOKEN
  )
  add(
    "signature",
    "signature-truncated",
    "The signature cut short.",
    `${validHeader}.${validPayload}.${validSignature.slice(0, -10)}`,
    INVALID_TOKEN
  )
  add(
    "signature",
    "payload-tampered",
    "The payload replaced (sub admin), the original signature kept.",
    `${validHeader}.${segment(claims({ sub: "admin" }))}.${validSignature}`,
    INVALID_TOKEN
  )
  add(
    "signature",
    "header-tampered",
    "A header field added after signing.",
    `${segment({ ...rsaHeader, x: 1 })}.${validPayload}.${validSignature}`,
    INVALID_TOKEN
  )
  add(
    "signature",
    "signature-spliced",
    "The payload of one valid token with the signature of another.",
    `${validHeader}.${otherPayload}.${validSignature}`,
    INVALID_TOKEN
  )
  add(
    "signature",
    "signature-swapped",
    "The payload of one valid token with the signature of the other, reversed.",
    `${validHeader}.${validPayload}.${otherSignature}`,
    INVALID_TOKEN
  )

  // ---- keys ----------------------------------------------------------------------------------------------
  add(
    "key",
    "attacker-key-real-kid",
    "Signed by an attacker's RSA key under the published kid rsa-1.",
    await forge.sign(claims(), { key: "attacker-rsa", kid: "rsa-1" }),
    INVALID_TOKEN
  )
  add(
    "key",
    "attacker-key-unknown-kid",
    "Signed by an attacker's RSA key under an unknown kid (at most one key-set refresh).",
    await forge.sign(claims(), { key: "attacker-rsa", kid: "attacker-1" }),
    INVALID_TOKEN
  )
  add(
    "key",
    "attacker-key-no-kid",
    "Signed by an attacker's RSA key without kid.",
    await forge.sign(claims(), { key: "attacker-rsa", kid: null }),
    INVALID_TOKEN
  )
  add(
    "key",
    "attacker-ec-real-kid",
    "Signed by an attacker's EC key under the published kid ec-1.",
    await forge.sign(claims(), { key: "attacker-ec", kid: "ec-1" }),
    INVALID_TOKEN
  )
  add(
    "key",
    "rsa-1024",
    "Correctly signed by the published 1024-bit RSA key rsa-weak: refuse RSA keys under 2048 bits.",
    await forge.sign(claims(), { key: "rsa-weak" }),
    INVALID_TOKEN
  )
  add(
    "key",
    "kid-path-traversal",
    "kid is a path traversal string (attacker-signed).",
    await forge.sign(claims(), { key: "attacker-rsa", kid: "../../../../../../dev/null" }),
    INVALID_TOKEN
  )
  add(
    "key",
    "kid-injection",
    "kid is an injection string (attacker-signed).",
    await forge.sign(claims(), { key: "attacker-rsa", kid: "x' OR '1'='1" }),
    INVALID_TOKEN
  )
  add(
    "key",
    "kid-non-string",
    "kid is a number (attacker-signed).",
    await forge.sign(claims(), { key: "attacker-rsa", kid: null, header: { kid: 1234 } }),
    INVALID_TOKEN
  )

  // ---- keys embedded in or referenced by the header ----------------------------------------------------
  const attackerJwk = { ...(keys.attackerRsa.publicJwk as jose.JWK), kid: "attacker-1" }
  const x5c = [keys.attackerCertificate.toString("base64")]
  const embedded: Array<[string, string, Record<string, unknown>, string | null]> = [
    ["jwk-header", "the attacker's public key in a `jwk` header, under kid rsa-1", { jwk: attackerJwk }, "rsa-1"],
    ["jwk-header-no-kid", "the attacker's public key in a `jwk` header, without kid", { jwk: attackerJwk }, null],
    ["jku-header", "a `jku` pointing at the attacker's key set (<forge>/attacker/jwks)", { jku: forge.url("/attacker/jwks") }, "attacker-1"],
    ["jku-header-real-kid", "a `jku` pointing at the attacker's key set, under kid rsa-1", { jku: forge.url("/attacker/jwks") }, "rsa-1"],
    ["x5u-header", "an `x5u` pointing at the attacker's certificate (<forge>/attacker/x5u)", { x5u: forge.url("/attacker/x5u") }, null],
    ["x5c-header", "the attacker's self-signed certificate in `x5c`", { x5c }, null],
    ["x5c-header-real-kid", "the attacker's self-signed certificate in `x5c`, under kid rsa-1", { x5c }, "rsa-1"]
  ]
  for (const [name, what, header, kid] of embedded) {
    add(
      "embedded-key",
      name,
      `Signed by the attacker with ${what}; the server must use only its configured key set and fetch nothing.`,
      await forge.sign(claims(), { key: "attacker-rsa", kid, header }),
      INVALID_TOKEN
    )
  }

  // ---- crit and b64 --------------------------------------------------------------------------------------
  add(
    "crit",
    "crit-unknown",
    "A correct signature with `crit` naming an extension the server does not understand (RFC 7515 §4.1.11).",
    rawCompact({ ...rsaHeader, crit: ["x-forge-critical"], "x-forge-critical": true }, claims(), "RS256", keys.rsa.privateKey),
    INVALID_TOKEN
  )
  add(
    "crit",
    "crit-empty",
    "A correct signature with an empty `crit` list (forbidden).",
    rawCompact({ ...rsaHeader, crit: [] }, claims(), "RS256", keys.rsa.privateKey),
    INVALID_TOKEN
  )
  add(
    "crit",
    "crit-registered-name",
    "A correct signature with `crit` naming a registered header (kid), which is forbidden.",
    rawCompact({ ...rsaHeader, crit: ["kid"] }, claims(), "RS256", keys.rsa.privateKey),
    INVALID_TOKEN
  )
  {
    const header = segment({ ...rsaHeader, b64: false, crit: ["b64"] })
    const payload = segment(claims())
    add(
      "crit",
      "b64-false",
      "b64:false (RFC 7797) whose signing input equals a normal token's: a server that ignores b64 would accept it.",
      `${header}.${payload}.${rawSignature("RS256", keys.rsa.privateKey, `${header}.${payload}`)}`,
      INVALID_TOKEN
    )
    const text = JSON.stringify(claims())
    add(
      "crit",
      "b64-false-detached",
      "b64:false with a detached payload (empty middle segment).",
      `${header}..${rawSignature("RS256", keys.rsa.privateKey, Buffer.concat([Buffer.from(`${header}.`), Buffer.from(text)]))}`,
      INVALID_TOKEN
    )
  }

  // ---- serializations ------------------------------------------------------------------------------------
  {
    const jwe = await new jose.CompactEncrypt(new TextEncoder().encode(valid))
      .setProtectedHeader({ alg: "RSA-OAEP-256", enc: "A256GCM", cty: "JWT", kid: "rsa-1" })
      .encrypt(keys.rsa.publicKey)
    add("serialization", "nested-jwe", "A valid token nested in a JWE (5 segments) encrypted to rsa-1's public key.", jwe, INVALID_TOKEN)
    const dir = `${segment({ alg: "dir", enc: "A128GCM" })}..${b64u(crypto.randomBytes(12))}.${b64u(crypto.randomBytes(32))}.${b64u(crypto.randomBytes(16))}`
    add("serialization", "jwe-dir", "A 5-segment JWE with alg dir and random content.", dir, INVALID_TOKEN)
    const flattened = JSON.stringify({ protected: validHeader, payload: validPayload, signature: validSignature })
    const general = JSON.stringify({ payload: validPayload, signatures: [{ protected: validHeader, signature: validSignature }] })
    add("serialization", "jws-json-flattened", "A valid token in flattened JSON serialization.", flattened, INVALID_TOKEN, {
      alsoAccept: [INVALID_REQUEST]
    })
    add("serialization", "jws-json-general", "A valid token in general JSON serialization.", general, INVALID_TOKEN, {
      alsoAccept: [INVALID_REQUEST]
    })
    add("serialization", "jws-json-base64url", "The flattened JSON serialization, base64url-encoded.", b64u(flattened), INVALID_TOKEN)
    add("serialization", "four-segments", "A valid token with a fourth segment appended.", `${valid}.${validSignature}`, INVALID_TOKEN)
  }

  // ---- ECDSA -----------------------------------------------------------------------------------------------
  {
    const header = segment({ alg: "ES256", kid: "ec-1", typ: "at+jwt" })
    const payload = segment(claims())
    add(
      "ecdsa",
      "ecdsa-zero-signature",
      "ES256 with r = s = 0 (CVE-2022-21449 'psychic signatures').",
      `${header}.${payload}.${b64u(Buffer.alloc(64))}`,
      INVALID_TOKEN
    )
    const der = crypto.sign("sha256", Buffer.from(`${header}.${payload}`), { key: keys.ec.privateKey, dsaEncoding: "der" })
    add(
      "ecdsa",
      "ecdsa-der-signature",
      "A correct ES256 signature in DER instead of the JWS raw r||s encoding.",
      `${header}.${payload}.${b64u(der)}`,
      INVALID_TOKEN
    )
  }

  // ---- issuer ----------------------------------------------------------------------------------------------
  await rejectClaims("issuer", "iss-wrong", "iss is another issuer.", { iss: "https://evil.example" })
  await rejectClaims("issuer", "iss-missing", "No iss.", { iss: undefined })
  await rejectClaims("issuer", "iss-prefix-extended-path", "iss is the issuer plus a path: prefix matching is wrong.", {
    iss: `${issuer.replace(/\/$/, "")}/evil`
  })
  await rejectClaims("issuer", "iss-prefix-extended-host", "iss is the issuer plus a host suffix.", {
    iss: `${issuer.replace(/\/$/, "")}.evil.example`
  })
  await rejectClaims("issuer", "iss-trailing-slash", "iss differs from the issuer by a trailing slash.", {
    iss: withTrailingSlash(issuer)
  })
  await rejectClaims("issuer", "iss-homoglyph", "iss with one letter replaced by a Cyrillic look-alike.", { iss: homoglyph(issuer) })
  await rejectClaims("issuer", "iss-upper-case", "iss with an upper-cased scheme/host: issuers compare as exact strings.", {
    iss: upperCaseHost(issuer)
  })
  await rejectClaims("issuer", "iss-array", "iss is an array holding the issuer.", { iss: [issuer] })
  await rejectClaims("issuer", "iss-empty", "iss is the empty string.", { iss: "" })

  // ---- audience --------------------------------------------------------------------------------------------
  await rejectClaims("audience", "aud-missing", "No aud (RFC 8707: tokens must be bound to this resource).", { aud: undefined })
  await rejectClaims("audience", "aud-foreign", "aud is another resource.", { aud: "https://other.example/mcp" })
  await rejectClaims("audience", "aud-trailing-slash", "aud differs from the resource by a trailing slash.", {
    aud: withTrailingSlash(resource)
  })
  await rejectClaims("audience", "aud-upper-case-host", "aud with an upper-cased host (or scheme).", { aud: upperCaseHost(resource) })
  await rejectClaims("audience", "aud-array-without-resource", "aud is an array of other resources.", {
    aud: ["https://other.example/mcp", withTrailingSlash(resource)]
  })
  await rejectClaims("audience", "aud-empty-array", "aud is an empty array.", { aud: [] })
  await rejectClaims("audience", "aud-empty-string", "aud is the empty string.", { aud: "" })
  await rejectClaims("audience", "aud-prefix-extended", "aud is the resource with characters appended.", { aud: `${resource}x` })
  await rejectClaims("audience", "aud-issuer", "aud is the authorization server itself.", { aud: issuer })
  {
    const origin = URL.parse(resource)?.origin
    if (origin !== undefined && origin !== resource && `${origin}/` !== resource) {
      await rejectClaims("audience", "aud-origin-only", "aud is only the origin of the resource.", { aud: origin })
    }
  }

  // ---- time ------------------------------------------------------------------------------------------------
  await rejectClaims("time", "exp-missing", "No exp: expiry is required.", { exp: undefined })
  await rejectClaims("time", "exp-expired", "exp an hour ago.", { iat: now - 7200, exp: now - 3600 })
  await rejectClaims("time", "exp-zero", "exp 0.", { exp: 0 })
  await rejectClaims("time", "exp-string", "exp is a numeric string.", { exp: String(now + 600) })
  await rejectClaims("time", "nbf-future", "nbf an hour ahead.", { nbf: now + 3600 })
  await rejectClaims("time", "iat-future", "iat an hour ahead.", { iat: now + 3600, exp: now + 7200 })
  await rejectClaims("time", "iat-far-future", "iat ten years ahead.", { iat: now + TEN_YEARS, exp: now + TEN_YEARS + 600 })
  await rejectClaims("time", "iat-string", "iat is a numeric string.", { iat: String(now) })
  await rejectClaims("time", "nbf-string", "nbf is a numeric string.", { nbf: String(now - 60) })

  // ---- typ -------------------------------------------------------------------------------------------------
  add("typ", "typ-jwt", 'typ "JWT" where "at+jwt" is required (RFC 9068 §4).', await forge.sign(claims(), { header: { typ: "JWT" } }), INVALID_TOKEN, {
    requiresTyp: true
  })
  add("typ", "typ-missing", "No typ.", await forge.sign(claims(), { header: { typ: undefined } }), INVALID_TOKEN, { requiresTyp: true })
  add("typ", "typ-dpop", 'typ "dpop+jwt".', await forge.sign(claims(), { header: { typ: "dpop+jwt" } }), INVALID_TOKEN, { requiresTyp: true })
  const idTokenClaims = {
    iss: issuer,
    sub: "forge-user",
    nonce: "n-0S6_WzA2Mj",
    auth_time: now - 10,
    at_hash: "77QmUPtjPfzWtF2AnpK9RQ",
    iat: now,
    exp: now + 600
  }
  add(
    "typ",
    "id-token",
    "An OpenID Connect ID token (aud = the client, typ JWT) presented as an access token.",
    await forge.sign({ ...idTokenClaims, aud: "forge-client", azp: "forge-client" }, { header: { typ: "JWT" } }),
    INVALID_TOKEN
  )
  add(
    "typ",
    "id-token-resource-aud",
    "An ID-token-shaped JWT whose aud happens to be the resource; only typ tells it apart.",
    await forge.sign({ ...idTokenClaims, aud: resource, scope }, { header: { typ: "JWT" } }),
    INVALID_TOKEN,
    { requiresTyp: true }
  )

  // ---- subject ---------------------------------------------------------------------------------------------
  await rejectClaims("subject", "sub-empty", "sub is the empty string.", { sub: "" })
  await rejectClaims("subject", "sub-numeric", "sub is a number.", { sub: 12345 })
  await rejectClaims("subject", "sub-missing", "No sub (RFC 9068 §2.2).", { sub: undefined })
  await rejectClaims("subject", "sub-object", "sub is an object.", { sub: { id: "forge-user" } })

  // ---- size ------------------------------------------------------------------------------------------------
  add(
    "size",
    "oversized-1mb",
    "A correctly signed 1 MB token: refuse by size before parsing. An HTTP server's header limit (431) is equally fine.",
    await forge.sign(claims({ padding: "A".repeat(1024 * 1024) })),
    INVALID_TOKEN,
    { alsoAccept: [{ status: 431 }] }
  )

  // ---- malformed tokens ------------------------------------------------------------------------------------
  add("syntax", "garbage", "Not a JWT.", "not-a-jwt", INVALID_TOKEN)
  add("syntax", "dots-only", "Three empty segments.", "..", INVALID_TOKEN)
  add("syntax", "non-base64url-characters", "Characters outside base64url and b64token.", "eyJ!!!.e30.$$$", INVALID_TOKEN, {
    alsoAccept: [INVALID_REQUEST]
  })
  add(
    "syntax",
    "base64-standard-alphabet",
    "The header re-encoded with the standard base64 alphabet and padding.",
    `${Buffer.from(JSON.stringify({ ...rsaHeader, pad: "??>>" })).toString("base64")}.${validPayload}.${validSignature}`,
    INVALID_TOKEN,
    { alsoAccept: [INVALID_REQUEST] }
  )
  add("syntax", "header-not-object", "The header is a JSON string.", `${segment('"RS256"')}.${validPayload}.${validSignature}`, INVALID_TOKEN)
  add("syntax", "header-invalid-utf8", "The header is not UTF-8.", `${b64u(Buffer.from([0xff, 0xfe, 0x7b]))}.${validPayload}.${validSignature}`, INVALID_TOKEN)
  add(
    "syntax",
    "payload-not-json",
    "A correctly signed payload that is not JSON.",
    rawCompact(rsaHeader, "hello", "RS256", keys.rsa.privateKey),
    INVALID_TOKEN
  )
  add(
    "syntax",
    "payload-json-array",
    "A correctly signed payload that is a JSON array.",
    rawCompact(rsaHeader, "[1,2,3]", "RS256", keys.rsa.privateKey),
    INVALID_TOKEN
  )

  // ---- Authorization header syntax (RFC 6750 §2.1, §3.1) ------------------------------------------------
  addHeader("bearer-without-token", "`Bearer` with no token.", "Bearer", INVALID_REQUEST, [INVALID_TOKEN, NO_ERROR])
  addHeader("token-with-space", "A token followed by a space and more text.", `Bearer ${valid} extra`, INVALID_REQUEST)
  addHeader("two-credentials", "Two bearer credentials in one header.", `Bearer ${valid}, Bearer ${valid}`, INVALID_REQUEST, [INVALID_TOKEN])
  addHeader("tab-separator", "A tab instead of a space after the scheme.", `Bearer\t${valid}`, INVALID_REQUEST, [NO_ERROR, INVALID_TOKEN])
  addHeader("basic-scheme", "Another scheme: a challenge without an error attribute (RFC 6750 §3.1).", "Basic dXNlcjpwYXNz", NO_ERROR)
  addHeader("unknown-scheme", "An unknown scheme carrying a valid token.", `Token ${valid}`, NO_ERROR)

  // ---- scope (only when the probed operation requires scopes) -------------------------------------------
  const [firstScope] = required
  if (firstScope !== undefined) {
    const scopeCase = async (name: string, description: string, overrides: Record<string, unknown>) =>
      add("scope", name, description, await forge.sign(claims(overrides)), INSUFFICIENT_SCOPE)
    await scopeCase("scope-missing", "No scope claim at all.", { scope: undefined })
    await scopeCase("scope-empty", "An empty scope string.", { scope: "" })
    await scopeCase("scope-insufficient", "A scope string without the required scopes.", { scope: "unrelated" })
    await scopeCase("scp-insufficient", "An scp array without the required scopes.", { scope: undefined, scp: ["unrelated"] })
    await scopeCase("scope-substring", "Scopes that merely contain the required one as a substring.", {
      scope: `${firstScope}x x${firstScope}`
    })
    await scopeCase("scope-comma-separated", "Comma-separated scopes (one unknown scope token).", { scope: `${required.join(",")},other` })
    if (firstScope.toUpperCase() !== firstScope) {
      await scopeCase("scope-case-variant", "The required scope upper-cased: scopes are case-sensitive.", {
        scope: required.map((s) => s.toUpperCase()).join(" ")
      })
    }
  }

  return cases
}
