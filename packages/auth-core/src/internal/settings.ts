/** Validation of settings shared by providers, failing with a ConfigProblem that names the setting. */
import * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import { isScopeToken } from "../Challenge.js"
import { ConfigProblem } from "../ConfigProblem.js"
import { isLoopback } from "../ResourceUrl.js"

/** An issuer or endpoint URL: absolute, https unless loopback, no fragment; an issuer also has no query. */
export const checkUrl = (
  setting: string,
  value: string,
  kind: "issuer" | "endpoint" = "endpoint"
): Effect.Effect<string, ConfigProblem> => {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return Effect.fail(new ConfigProblem({ setting, problem: `${JSON.stringify(value)} is not a URL` }))
  }
  const problem =
    url.protocol !== "https:" && url.protocol !== "http:"
      ? "must be an https URL"
      : url.protocol === "http:" && !isLoopback(url)
        ? "must use https (http is allowed only for loopback hosts)"
        : url.hash !== "" || value.includes("#")
          ? "must not contain a fragment"
          : url.username !== "" || url.password !== ""
            ? "must not contain a user name or password"
            : kind === "issuer" && url.search !== ""
              ? "must not contain a query"
              : undefined
  return problem === undefined
    ? Effect.succeed(value)
    : Effect.fail(new ConfigProblem({ setting, problem: `${JSON.stringify(value)} ${problem}` }))
}

const firstProblem = (error: ConfigError.ConfigError): ConfigProblem => {
  switch (error._op) {
    case "And":
    case "Or":
      return firstProblem(error.left)
    case "MissingData":
      return new ConfigProblem({ setting: error.path.join("_") || "configuration", problem: "is required" })
    case "InvalidData":
      return new ConfigProblem({ setting: error.path.join("_") || "configuration", problem: error.message })
    case "SourceUnavailable":
    case "Unsupported":
      return new ConfigProblem({ setting: error.path.join("_") || "configuration", problem: error.message })
  }
}

/** Turns Effect's ConfigError into one ConfigProblem naming the first variable at fault. */
export const fromConfigError = (error: ConfigError.ConfigError): ConfigProblem => firstProblem(error)

/** Space- or comma-separated list setting. */
export const splitList = (value: string): Array<string> => value.split(/[\s,]+/).filter((s) => s !== "")

/** Every scope must be an RFC 6749 scope token (it ends up quoted in challenges). */
export const checkScopes = (setting: string, scopes: ReadonlyArray<string>): Effect.Effect<void, ConfigProblem> => {
  const bad = scopes.find((s) => !isScopeToken(s))
  return bad === undefined
    ? Effect.void
    : Effect.fail(new ConfigProblem({ setting, problem: `${JSON.stringify(bad)} is not a valid OAuth scope` }))
}
