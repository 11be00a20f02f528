/**
 * Validation shared by the presets: every problem is one `ConfigProblem` naming the option, or the environment
 * variable when the preset was configured from the environment.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { ConfigProblem } from "../../ConfigProblem.js"
import { checkScopes, fromConfigError, splitList } from "../../internal/settings.js"

/** A required, non-blank text setting, trimmed. */
export const requireText = (setting: string, value: string): Effect.Effect<string, ConfigProblem> => {
  const trimmed = value.trim()
  return trimmed === ""
    ? Effect.fail(new ConfigProblem({ setting, problem: "must not be empty" }))
    : /[\s\u0000-\u001f]/.test(trimmed)
      ? Effect.fail(new ConfigProblem({ setting, problem: "must not contain spaces or control characters" }))
      : Effect.succeed(trimmed)
}

/** A required secret; only its blankness is looked at, and it is never quoted. */
export const requireSecret = (
  setting: string,
  value: Redacted.Redacted<string>
): Effect.Effect<Redacted.Redacted<string>, ConfigProblem> =>
  Redacted.value(value).trim() === ""
    ? Effect.fail(new ConfigProblem({ setting, problem: "must not be empty" }))
    : Effect.succeed(value)

/** Scopes: RFC 6749 scope tokens, at least one. */
export const scopeList = (
  setting: string,
  scopes: ReadonlyArray<string>
): Effect.Effect<ReadonlyArray<string>, ConfigProblem> =>
  scopes.length === 0
    ? Effect.fail(new ConfigProblem({ setting, problem: "must name at least one scope" }))
    : Effect.as(checkScopes(setting, scopes), scopes)

/** An optional boolean variable (`true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0`). */
export const optionalBoolean = (name: string): Config.Config<boolean | undefined> =>
  Config.option(Config.boolean(name)).pipe(Config.map(Option.getOrUndefined))

/** An optional string variable. */
export const optionalString = (name: string): Config.Config<string | undefined> =>
  Config.option(Config.string(name)).pipe(Config.map(Option.getOrUndefined))

/** An optional list variable (space- or comma-separated). */
export const optionalList = (name: string): Config.Config<ReadonlyArray<string> | undefined> =>
  Config.option(Config.string(name)).pipe(Config.map((value) => Option.getOrUndefined(Option.map(value, splitList))))

/**
 * Reads a preset's options from configuration and builds it with the variable names, so every problem (missing,
 * invalid) is one ConfigProblem line naming the variable to fix.
 */
export const fromConfig = <Options, A, E, R>(
  config: Config.Config<Options>,
  build: (options: Options) => Effect.Effect<A, E, R>
): Effect.Effect<A, ConfigProblem | E, R> => Effect.flatMap(Effect.mapError(config, fromConfigError), build)
