/**
 * Grants, authorization codes and refresh tokens of the proxy, in the Store.
 *
 * A grant is one user's authorization of one client. Its upstream tokens are sealed (AES-256-GCM) inside it; the
 * proxy's access tokens name it (`gid`) and are refused once it is gone, and its refresh tokens form one family.
 * Codes and refresh tokens are random 256-bit strings stored under their SHA-256, so the Store never holds one in
 * clear. A code is single-use through `take`; a second redemption finds the code's grant through a longer-lived
 * marker and revokes it (RFC 6749 §4.1.2, OAuth 2.1 §4.1.3). A refresh token is rotated by compare-and-set; a rotated
 * one presented again revokes the whole family (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2).
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { InvalidGrant, type UpstreamUnavailable } from "../Errors.js"
import type * as Store from "../Store.js"
import { randomToken, sha256 } from "./internal/bytes.js"
import {
  CodeRecord,
  decode,
  encode,
  GrantRecord,
  RefreshRecord
} from "./internal/records.js"
import type { Sealer } from "./Sealing.js"
import type { UpstreamTokens } from "./Upstream.js"

/** Settings of the grant store. */
export interface GrantsOptions {
  readonly store: Store.Service
  readonly sealer: Sealer
  readonly keyPrefix: string
  /** Lifetime of an authorization code. */
  readonly codeTtl: Duration.DurationInput
  /** Lifetime of a refresh token (and so the idle lifetime of a grant). */
  readonly refreshTokenTtl: Duration.DurationInput
  /** Absolute lifetime of a grant, whatever refreshes happen. */
  readonly grantTtl: Duration.DurationInput
  /**
   * Called once for each grant that ends by revocation, with its upstream tokens when the upstream grant should be
   * revoked too (the proxy's upstream revocation and the withdrawal of remembered approvals). Must not fail.
   */
  readonly onRevoked?: ((grant: GrantRecord, upstream: Option.Option<UpstreamTokens>) => Effect.Effect<void>) | undefined
}

/** How a grant is revoked. */
export interface RevokeOptions {
  /** Revoke the upstream grant too (default true); false when the upstream itself ended it. */
  readonly upstream?: boolean | undefined
}

/** What a new grant holds. */
export interface NewGrant {
  readonly clientId: string
  readonly subject: string
  readonly scope: ReadonlyArray<string>
  readonly resource: string
  readonly claims: Readonly<Record<string, unknown>>
  readonly upstream: UpstreamTokens
}

/** The grant store. */
export interface Grants {
  readonly create: (grant: NewGrant) => Effect.Effect<GrantRecord, UpstreamUnavailable>
  /** The live grant with this id. */
  readonly get: (grantId: string) => Effect.Effect<Option.Option<GrantRecord>, UpstreamUnavailable>
  /** Ends a grant: its access tokens, refresh tokens and unredeemed code stop working. */
  readonly revoke: (grantId: string, why: string, options?: RevokeOptions) => Effect.Effect<void, UpstreamUnavailable>
  /** The grant's upstream tokens. */
  readonly upstreamTokens: (grant: GrantRecord) => Effect.Effect<Option.Option<UpstreamTokens>>
  /** Replaces the grant's upstream tokens (after an upstream refresh). */
  readonly replaceUpstream: (grant: GrantRecord, tokens: UpstreamTokens) => Effect.Effect<GrantRecord, UpstreamUnavailable>
  /** Issues a code for a grant. */
  readonly issueCode: (code: CodeRecord) => Effect.Effect<string, UpstreamUnavailable>
  /**
   * Redeems a code, once. A code seen before (redeemed, or expired after issue) revokes its grant and fails; an
   * unknown one fails.
   */
  readonly redeemCode: (code: string) => Effect.Effect<CodeRecord, InvalidGrant | UpstreamUnavailable>
  /** Issues a new active refresh token in a grant's family. */
  readonly issueRefreshToken: (grant: GrantRecord) => Effect.Effect<string, UpstreamUnavailable>
  /**
   * The grant of an active refresh token presented by `clientId`, without rotating it yet. A rotated token (reuse)
   * or another client's token revokes the family; an unknown token fails.
   */
  readonly checkRefreshToken: (token: string, clientId: string) => Effect.Effect<GrantRecord, InvalidGrant | UpstreamUnavailable>
  /** Retires a checked refresh token; if another request retired it first, that is reuse: the family is revoked. */
  readonly rotateRefreshToken: (token: string, grant: GrantRecord) => Effect.Effect<void, InvalidGrant | UpstreamUnavailable>
  /** The grant of a refresh token, if it is one of ours (revocation). */
  readonly refreshTokenOwner: (token: string) => Effect.Effect<Option.Option<RefreshRecord>, UpstreamUnavailable>
}

const invalid = (description: string) => new InvalidGrant({ description })

/** Builds the grant store. */
export const make = (options: GrantsOptions): Grants => {
  const { store, sealer } = options
  const prefix = options.keyPrefix
  const grantKey = (id: string) => `${prefix}grant:${id}`
  const codeKey = (hash: string) => `${prefix}code:${hash}`
  const codeGrantKey = (hash: string) => `${prefix}code-grant:${hash}`
  const refreshKey = (hash: string) => `${prefix}refresh:${hash}`
  const encodeGrant = encode(GrantRecord)
  const decodeGrant = decode(GrantRecord, "grant")
  const encodeCode = encode(CodeRecord)
  const decodeCode = decode(CodeRecord, "code")
  const encodeRefresh = encode(RefreshRecord)
  const decodeRefresh = decode(RefreshRecord, "refresh token")
  const refreshTtl = Duration.decode(options.refreshTokenTtl)
  // the replay marker outlives the code, so a late second redemption still finds the grant to revoke
  const codeGrantTtl = Duration.max(Duration.times(Duration.decode(options.codeTtl), 10), Duration.minutes(10))

  const sealedContext = (grantId: string) => `upstream-tokens:${grantId}`

  const remaining = (grant: GrantRecord) =>
    Effect.map(Clock.currentTimeMillis, (now) => Duration.millis(Math.max(1, grant.expires_at - now)))

  const put = (grant: GrantRecord) =>
    Effect.gen(function* () {
      const ttl = yield* remaining(grant)
      yield* store.set(grantKey(grant.grant_id), yield* encodeGrant(grant), ttl)
    })

  const create = (grant: NewGrant) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const grantId = randomToken(18)
      const record: GrantRecord = {
        grant_id: grantId,
        client_id: grant.clientId,
        subject: grant.subject,
        scope: [...grant.scope],
        resource: grant.resource,
        claims: { ...grant.claims },
        upstream: yield* sealer.seal(JSON.stringify(grant.upstream), sealedContext(grantId)),
        created_at: now,
        expires_at: now + Duration.toMillis(options.grantTtl)
      }
      yield* put(record)
      return record
    })

  const get = (grantId: string) => Effect.flatMap(store.get(grantKey(grantId)), decodeGrant)

  const upstreamTokens = (grant: GrantRecord) =>
    Effect.map(sealer.open(grant.upstream, sealedContext(grant.grant_id)), Option.flatMap((text) => {
      try {
        return Option.some(JSON.parse(text) as UpstreamTokens)
      } catch {
        return Option.none()
      }
    }))

  // taken rather than deleted, so that of concurrent revocations only one calls the upstream
  const revoke = (grantId: string, why: string, revokeOptions: RevokeOptions = {}) =>
    Effect.gen(function* () {
      const taken = yield* Effect.flatMap(store.take(grantKey(grantId)), decodeGrant)
      yield* Effect.logWarning("proxy grant revoked").pipe(Effect.annotateLogs({ why }))
      if (Option.isNone(taken) || options.onRevoked === undefined) return
      const tokens = revokeOptions.upstream === false ? Option.none<UpstreamTokens>() : yield* upstreamTokens(taken.value)
      yield* options.onRevoked(taken.value, tokens)
    })

  const replaceUpstream = (grant: GrantRecord, tokens: UpstreamTokens) =>
    Effect.gen(function* () {
      const next: GrantRecord = { ...grant, upstream: yield* sealer.seal(JSON.stringify(tokens), sealedContext(grant.grant_id)) }
      yield* put(next)
      return next
    })

  const issueCode = (code: CodeRecord) =>
    Effect.gen(function* () {
      const value = randomToken(32)
      const hash = yield* sha256(value)
      yield* store.set(codeGrantKey(hash), code.grant_id, codeGrantTtl)
      yield* store.set(codeKey(hash), yield* encodeCode(code), options.codeTtl)
      return value
    })

  const redeemCode = (code: string) =>
    Effect.gen(function* () {
      if (code.length > 512) return yield* invalid("The authorization code is invalid")
      const hash = yield* sha256(code)
      const record = yield* Effect.flatMap(store.take(codeKey(hash)), decodeCode)
      if (Option.isSome(record)) return record.value
      const grantId = yield* store.get(codeGrantKey(hash))
      if (Option.isSome(grantId)) {
        // a code presented twice was intercepted or replayed: what it produced must stop working
        yield* revoke(grantId.value, "authorization code replayed or expired")
        return yield* invalid("The authorization code was already used or has expired")
      }
      return yield* invalid("The authorization code is invalid")
    })

  const issueRefreshToken = (grant: GrantRecord) =>
    Effect.gen(function* () {
      const value = randomToken(32)
      const hash = yield* sha256(value)
      const record: RefreshRecord = { grant_id: grant.grant_id, client_id: grant.client_id, status: "active" }
      const ttl = Duration.min(refreshTtl, yield* remaining(grant))
      yield* store.set(refreshKey(hash), yield* encodeRefresh(record), ttl)
      return value
    })

  const checkRefreshToken = (token: string, clientId: string) =>
    Effect.gen(function* () {
      if (token.length > 512) return yield* invalid("The refresh token is invalid")
      const hash = yield* sha256(token)
      const found = yield* Effect.flatMap(store.get(refreshKey(hash)), decodeRefresh)
      if (Option.isNone(found)) return yield* invalid("The refresh token is invalid, expired or revoked")
      const record = found.value
      if (record.client_id !== clientId) {
        yield* revoke(record.grant_id, "refresh token presented by another client")
        return yield* invalid("The refresh token was not issued to this client")
      }
      if (record.status !== "active") {
        yield* revoke(record.grant_id, "rotated refresh token reused")
        return yield* invalid("The refresh token was already used; the grant is revoked")
      }
      const grant = yield* get(record.grant_id)
      if (Option.isNone(grant)) return yield* invalid("The grant was revoked or has expired")
      return grant.value
    })

  const rotateRefreshToken = (token: string, grant: GrantRecord) =>
    Effect.gen(function* () {
      const hash = yield* sha256(token)
      const active = yield* encodeRefresh({ grant_id: grant.grant_id, client_id: grant.client_id, status: "active" })
      const rotated = yield* encodeRefresh({ grant_id: grant.grant_id, client_id: grant.client_id, status: "rotated" })
      // kept as long as the token could have lived, so a late reuse is still recognized
      const ttl = Duration.min(refreshTtl, yield* remaining(grant))
      const won = yield* store.compareAndSet(refreshKey(hash), active, rotated, ttl)
      if (!won) {
        yield* revoke(grant.grant_id, "concurrent refresh token reuse")
        return yield* invalid("The refresh token was already used; the grant is revoked")
      }
    })

  const refreshTokenOwner = (token: string) =>
    token.length > 512
      ? Effect.succeed(Option.none<RefreshRecord>())
      : Effect.flatMap(sha256(token), (hash) => Effect.flatMap(store.get(refreshKey(hash)), decodeRefresh))

  return {
    create,
    get,
    revoke,
    upstreamTokens,
    replaceUpstream,
    issueCode,
    redeemCode,
    issueRefreshToken,
    checkRefreshToken,
    rotateRefreshToken,
    refreshTokenOwner
  }
}
