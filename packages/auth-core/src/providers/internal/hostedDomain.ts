/**
 * Settings shared by the provider modules: server URLs and hosted-IdP domains (Auth0, WorkOS, Clerk), audiences,
 * warnings.
 */
import * as Effect from "effect/Effect"
import { ConfigProblem } from "../../ConfigProblem.js"
import { isLoopback, sameResource } from "../../ResourceUrl.js"

/**
 * A server URL from a bare host (https assumed) or a full URL: https unless loopback; no query, fragment or
 * credentials; `extra` may name one more problem (checked before the host name). Fails naming `setting`, describing
 * the expected value as an origin or a URL after `kind`.
 */
export const toServerUrl = (
  setting: string,
  value: string,
  kind: "origin" | "URL",
  extra?: (url: URL) => string | undefined
): Effect.Effect<URL, ConfigProblem> => {
  const trimmed = value.trim()
  const fail = (problem: string) => Effect.fail(new ConfigProblem({ setting, problem: `${JSON.stringify(value)} ${problem}` }))
  if (trimmed === "") return Effect.fail(new ConfigProblem({ setting, problem: "must not be empty" }))
  const withScheme = trimmed.includes("://") ? trimmed : `https://${trimmed}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    return fail(`is not a host name or ${kind === "origin" ? "an origin URL" : "a URL"}`)
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return fail(`must be an https ${kind}`)
  if (url.protocol === "http:" && !isLoopback(url)) return fail("must use https (http is allowed only for loopback hosts)")
  if (url.username !== "" || url.password !== "") return fail("must not contain a user name or password")
  if (url.hash !== "" || withScheme.includes("#")) return fail("must not contain a fragment")
  if (url.search !== "" || withScheme.includes("?")) return fail("must not contain a query")
  const problem = extra?.(url)
  if (problem !== undefined) return fail(problem)
  if (url.hostname === "") return fail("has no host name")
  return Effect.succeed(url)
}

/**
 * The origin of a hosted identity provider from a bare host (`tenant.auth0.com`, https assumed) or a full origin URL
 * (`https://login.example.com`, `http://127.0.0.1:4000` for a local stand-in). https unless loopback; no path (a
 * single `/` is tolerated), query, fragment or credentials. Fails naming `setting`.
 */
export const toOrigin = (setting: string, value: string): Effect.Effect<string, ConfigProblem> =>
  toServerUrl(setting, value, "origin", (url) =>
    url.pathname !== "/" ? "must be a host name or an origin, without a path" : undefined
  ).pipe(Effect.map((url) => url.origin))

/** A list setting: a string or an array of strings, every one non-empty. */
export const toList = (
  setting: string,
  value: string | ReadonlyArray<string>
): Effect.Effect<ReadonlyArray<string>, ConfigProblem> => {
  const list = typeof value === "string" ? [value] : value
  if (list.length === 0) return Effect.fail(new ConfigProblem({ setting, problem: "must not be empty" }))
  const blank = list.find((item) => item.trim() === "")
  return blank === undefined
    ? Effect.succeed(list.map((item) => item.trim()))
    : Effect.fail(new ConfigProblem({ setting, problem: "must not contain an empty value" }))
}

/**
 * The loud start-up warning for accepted audiences that do not name this server: tokens carrying them are not bound to
 * it. Empty when every audience is this server's resource URL.
 */
export const audienceWarnings = (
  provider: string,
  audiences: ReadonlyArray<string>,
  resource: string,
  consequence: string
): ReadonlyArray<string> => {
  const foreign = audiences.filter((audience) => !sameResource(audience, resource))
  return foreign.length === 0
    ? []
    : [
        `${provider}: tokens are accepted for audience ${foreign.map((a) => JSON.stringify(a)).join(", ")}, ` +
          `not for this server's resource URL ${JSON.stringify(resource)}; ${consequence}`
      ]
}
