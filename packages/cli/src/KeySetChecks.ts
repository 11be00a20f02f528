/**
 * Checks of an issuer's key set: `jwks_uri` reachable as the library fetches it, then every key judged by the
 * library's own key selection (KeyVerdict).
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Jwks from "@mcp-oauth/auth-core/Jwks"
import type * as Metadata from "@mcp-oauth/auth-core/Metadata"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { type Check, fail, pass, warn } from "./Check.js"
import { answerProblem, endpointProblem } from "./internal/documents.js"
import * as KeyVerdict from "./KeyVerdict.js"
import { json, Probe } from "./Probe.js"

/** The key set: reachable as the library fetches it, then each key judged by the library's key selection. */
export const run = (
  document: Metadata.AuthorizationServerMetadata
): Effect.Effect<ReadonlyArray<Check>, never, Probe | HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const probe = yield* Probe
    const uri = document.jwks_uri
    const title = "Key set (jwks_uri)"
    if (uri === undefined) {
      const check =
        document.introspection_endpoint !== undefined
          ? warn(
              "issuer.jwks",
              title,
              "jwks_uri is missing: JWT access tokens cannot be verified, only introspected",
              "publish jwks_uri, or protect the server with the introspection provider for opaque tokens"
            )
          : fail(
              "issuer.jwks",
              title,
              "jwks_uri is missing and there is no introspection_endpoint: access tokens cannot be verified",
              "publish jwks_uri in the authorization server metadata"
            )
      return [check]
    }
    const problem = endpointProblem(uri)
    if (problem !== undefined) {
      return [fail("issuer.jwks", title, `jwks_uri ${uri} ${problem}`, "serve the key set over https")]
    }
    const answer = yield* Effect.either(
      probe.send({ method: "GET", url: uri, headers: { accept: "application/jwk-set+json, application/json" } })
    )
    const body = Either.isRight(answer) ? json(answer.right) : undefined
    const unreachable = Either.isLeft(answer)
      ? answer.left.why
      : answerProblem(answer.right) ?? (
        typeof body !== "object" || body === null || !Array.isArray((body as { keys?: unknown }).keys)
          ? 'JSON without a "keys" array'
          : undefined
      )
    if (unreachable !== undefined) {
      return [
        fail(
          "issuer.jwks",
          title,
          `${uri}: ${unreachable}`,
          'serve the JSON Web Key Set ({"keys": [...]}) at jwks_uri with status 200 and no redirect'
        )
      ]
    }
    const keys = (body as { keys: ReadonlyArray<unknown> }).keys
    const reports = yield* KeyVerdict.judgeAll(keys)
    // end to end through the library's remote key set: fetched, selected and imported as during verification
    const firstUsable = reports.findIndex((r) => r.verdict._tag === "Usable")
    const verdict = reports[firstUsable]?.verdict
    if (verdict !== undefined && verdict._tag === "Usable") {
      const kid = (keys[firstUsable] as { readonly kid?: unknown }).kid
      const remote = yield* Effect.either(
        Effect.flatMap(Jwks.make({ uri, timeout: probe.timeout }), (set) =>
          set.getKey({ alg: verdict.algorithms[0]!, kid: typeof kid === "string" ? kid : undefined })
        )
      )
      if (Either.isLeft(remote) && remote.left._tag === "UpstreamUnavailable") {
        return [
          fail(
            "issuer.jwks",
            title,
            `${uri}: the library's key set fetch failed (${remote.left.reason})`,
            "serve the key set as JSON (not HTML), under 512 KiB, with status 200 and no redirect"
          )
        ]
      }
    }
    return [pass("issuer.jwks", title, `${uri}: ${keys.length} key${keys.length === 1 ? "" : "s"}`), keysCheck(reports)]
  })

/** The verdict over every key of a set. */
export const keysCheck = (reports: ReadonlyArray<KeyVerdict.KeyReport>): Check => {
  const title = "Signing keys"
  const describe = (report: KeyVerdict.KeyReport): string => {
    const v = report.verdict
    switch (v._tag) {
      case "Usable":
        return `${report.label}: usable (${v.algorithms.join(", ")})`
      case "Secret":
        return `${report.label}: publishes private or symmetric material (${v.members.join(", ")})`
      case "Weak":
        return `${report.label}: RSA modulus ${v.bits ?? "?"} bits, below ${KeyVerdict.minRsaModulusBits}`
      case "Algorithm":
        return `${report.label}: alg ${v.alg} is not accepted (asymmetric algorithms only)`
      case "NotForSignatures":
        return `${report.label}: not a signature key, ignored`
      case "Unsupported":
        return `${report.label}: malformed or unsupported key type, ignored`
    }
  }
  const detail = reports.length === 0 ? "the key set is empty" : reports.map(describe).join("; ")
  const tags = new Set(reports.map((r) => r.verdict._tag))
  if (tags.has("Secret")) {
    return fail(
      "issuer.keys",
      title,
      detail,
      "remove private members (d, p, q, dp, dq, qi, oth) and symmetric keys (k) from the published set, and rotate " +
        "those keys: anyone could read them"
    )
  }
  if (tags.has("Weak")) {
    return fail(
      "issuer.keys",
      title,
      detail,
      `replace RSA keys shorter than ${KeyVerdict.minRsaModulusBits} bits; the library refuses tokens signed with them`
    )
  }
  if (!tags.has("Usable")) {
    return fail(
      "issuer.keys",
      title,
      detail,
      "publish at least one public signing key (RSA ≥ 2048 bits, P-256/P-384/P-521 or Ed25519) with an asymmetric alg"
    )
  }
  if (tags.has("Algorithm") || tags.has("Unsupported")) {
    return warn(
      "issuer.keys",
      title,
      detail,
      "tokens signed with the ignored keys will be refused; sign with a usable key or fix the ignored ones"
    )
  }
  return pass("issuer.keys", title, detail)
}
