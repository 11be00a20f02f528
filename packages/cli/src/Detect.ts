/**
 * Tells an MCP server from an authorization server: a server answers an unauthenticated POST with a Bearer
 * challenge or serves protected resource metadata; an issuer serves authorization server metadata.
 *
 * @since 0.1.0
 */
import * as Discovery from "@mcp-oauth/auth-core/Discovery"
import * as Metadata from "@mcp-oauth/auth-core/Metadata"
import * as ResourceUrl from "@mcp-oauth/auth-core/ResourceUrl"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import type { Kind } from "./Check.js"
import { json, Probe, type ProbeError } from "./Probe.js"

/** The target answered, but like neither kind. */
export class UnknownKind extends Data.TaggedError("UnknownKind")<{ readonly target: string }> {
  /** One line, with what to do. */
  override get message(): string {
    return `${this.target} is neither an MCP server (no 401 Bearer challenge, no protected resource metadata) nor an ` +
      "issuer (no authorization server metadata); pass --kind server or --kind issuer to check it anyway"
  }
}

const isPrm = Schema.is(Metadata.ProtectedResourceMetadata)
const isAsMetadata = Schema.is(Metadata.AuthorizationServerMetadata)

/** The kind of a target; fails with a {@link ProbeError} when it cannot be reached at all. */
export const detect = (target: string): Effect.Effect<Kind, ProbeError | UnknownKind, Probe> =>
  Effect.gen(function* () {
    const probe = yield* Probe
    const answer = yield* probe.send({
      method: "POST",
      url: target,
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" })
    })
    if (answer.status === 401 && /^bearer\b/i.test(answer.headers["www-authenticate"] ?? "")) return "server"
    const getJson = (url: string) =>
      Effect.map(Effect.either(probe.send({ method: "GET", url, headers: { accept: "application/json" } })), (r) =>
        Either.isRight(r) && r.right.status === 200 ? json(r.right) : undefined)
    const canonical = ResourceUrl.canonicalize(target)
    const resource = "url" in canonical ? canonical.url : target
    if (isPrm(yield* getJson(ResourceUrl.protectedResourceMetadataUrl(resource)))) return "server"
    for (const url of Discovery.metadataUrls(target)) {
      if (isAsMetadata(yield* getJson(url))) return "issuer"
    }
    return yield* new UnknownKind({ target })
  }).pipe(Effect.withSpan("Detect.detect"))

/** Whether a value names a kind. */
export const isKind = (value: string): value is Kind => value === "issuer" || value === "server"

