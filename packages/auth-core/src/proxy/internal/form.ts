/** Strict `application/x-www-form-urlencoded` and JSON bodies for the proxy's POST endpoints. */
import * as Effect from "effect/Effect"
import { InvalidRequest } from "../../Errors.js"
import type { ProviderRequest } from "../../Provider.js"

/** The media type of a request, lower case, without parameters. */
export const mediaType = (request: ProviderRequest): string =>
  (request.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase()

const tooLarge = new InvalidRequest({ description: "The request body is too large" })
const unreadable = new InvalidRequest({ description: "The request body could not be read" })

/** Reads the body as UTF-8 text, at most `maxBytes`. */
export const readText = (request: ProviderRequest, maxBytes: number): Effect.Effect<string, InvalidRequest> =>
  request.body(maxBytes).pipe(
    Effect.mapError((problem) => (problem === "too_large" ? tooLarge : unreadable)),
    Effect.flatMap((bytes) =>
      Effect.try({ try: () => new TextDecoder("utf-8", { fatal: true }).decode(bytes), catch: () => unreadable })
    )
  )

/**
 * Parses a form body. Every parameter may appear once (RFC 6749 §3.1, §3.2): a repeated one is `invalid_request`,
 * so that two components can never read two different values of the same parameter.
 */
export const parseForm = (text: string): Effect.Effect<ReadonlyMap<string, string>, InvalidRequest> => {
  const params = new Map<string, string>()
  for (const [name, value] of new URLSearchParams(text)) {
    if (params.has(name)) return Effect.fail(new InvalidRequest({ description: `The parameter ${safeName(name)} is repeated` }))
    params.set(name, value)
  }
  return Effect.succeed(params)
}

/** Reads a form POST (the media type must be `application/x-www-form-urlencoded`). */
export const readForm = (request: ProviderRequest, maxBytes: number): Effect.Effect<ReadonlyMap<string, string>, InvalidRequest> =>
  mediaType(request) === "application/x-www-form-urlencoded"
    ? Effect.flatMap(readText(request, maxBytes), parseForm)
    : Effect.fail(new InvalidRequest({ description: "The body must be application/x-www-form-urlencoded" }))

/** The query parameters, each at most once. */
export const singleQuery = (query: URLSearchParams): Effect.Effect<ReadonlyMap<string, string>, InvalidRequest> =>
  parseForm(query.toString())

/** A parameter name as it may appear in a description: known names verbatim, anything else not at all. */
const safeName = (name: string): string => (/^[a-z_]{1,40}$/.test(name) ? name : "given")
