/** A key set whose URL comes from the issuer's metadata, resolved on first use so an unreachable issuer is retried. */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as SynchronizedRef from "effect/SynchronizedRef"
import type * as Discovery from "../Discovery.js"
import { UpstreamUnavailable } from "../Errors.js"
import * as Jwks from "../Jwks.js"

/** A {@link Jwks.Service} that discovers its `jwks_uri` through {@link Discovery} and follows it if it changes. */
export const discoveredJwks = (
  discovery: Discovery.Service,
  options: Omit<Jwks.JwksOptions, "uri">
): Effect.Effect<Jwks.Service, never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const context = yield* Effect.context<HttpClient.HttpClient>()
    const current = yield* SynchronizedRef.make<{ readonly uri: string; readonly jwks: Jwks.Service } | undefined>(
      undefined
    )
    // one key-set instance per URI, created under the ref's lock so concurrent first requests share it
    const forUri = (uri: string) =>
      SynchronizedRef.updateAndGetEffect(current, (known) =>
        known?.uri === uri
          ? Effect.succeed(known)
          : Effect.map(Jwks.make({ ...options, uri }).pipe(Effect.provide(context)), (jwks) => ({ uri, jwks }))
      ).pipe(Effect.map((entry) => entry!.jwks))
    return {
      getKey: (selector) =>
        Effect.gen(function* () {
          const metadata = yield* discovery.metadata
          if (metadata.jwks_uri === undefined) {
            return yield* new UpstreamUnavailable({ reason: "bad_response", target: "authorization server metadata", retryAfterSeconds: 30 })
          }
          const jwks = yield* forUri(metadata.jwks_uri)
          return yield* jwks.getKey(selector)
        })
    }
  })
