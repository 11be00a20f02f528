/**
 * The plumbing every provider module repeats around its `make`: the layer built from it, the layer read from
 * configuration (validated again so that problems name the variables) and the `MCPServer` facade entry.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { ConfigProblem } from "../../ConfigProblem.js"
import type { OAuthProvider } from "../../OAuthProvider.js"
import { Provider } from "../../Provider.js"
import type { ResourceServer } from "../../ResourceServer.js"
import * as TokenVerifier from "../../TokenVerifier.js"
import { fromConfigError, splitList } from "../../internal/settings.js"

/** What a provider module's `make` builds. */
export interface Built {
  readonly provider: typeof Provider.Service
  readonly verifier: TokenVerifier.Service
}

/** What a provider module's `layer` and `layerConfig` return. */
export type ProviderLayer = Layer.Layer<
  Provider | TokenVerifier.TokenVerifier,
  ConfigProblem,
  ResourceServer | HttpClient.HttpClient
>

/** A layer providing {@link Provider} and {@link TokenVerifier.TokenVerifier} from what `built` builds. */
export const providerLayer = (
  built: Effect.Effect<Built, ConfigProblem, ResourceServer | HttpClient.HttpClient>
): ProviderLayer =>
  Layer.effectContext(
    Effect.map(built, ({ provider, verifier }) =>
      Context.make(Provider, provider).pipe(Context.add(TokenVerifier.TokenVerifier, verifier))
    )
  )

/**
 * The layer of the options `config` reads: a configuration error becomes a {@link ConfigProblem}, and `validate` runs
 * on the resolved options before `layer` so that a message names the variable rather than the option.
 */
export const configuredLayer = <A>(
  config: Config.Config<A>,
  validate: (resolved: A) => Effect.Effect<unknown, ConfigProblem>,
  layer: (options: A) => ProviderLayer
): ProviderLayer =>
  Layer.unwrapEffect(
    Effect.gen(function* () {
      const resolved = yield* Effect.mapError(config, fromConfigError)
      yield* validate(resolved)
      return layer(resolved)
    })
  )

/** The facade entry: `layer(options)`, or `layerConfig()` (the environment) when no options are given. */
export const facadeProvider = <A>(
  name: string,
  options: A | undefined,
  layer: (options: A) => ProviderLayer,
  layerConfig: () => ProviderLayer
): OAuthProvider => ({
  name,
  layer: options === undefined ? layerConfig() : layer(options)
})

/** An optional string variable, `undefined` when unset. */
export const optionalValue = (name: string): Config.Config<string | undefined> =>
  Config.option(Config.string(name)).pipe(Config.map(Option.getOrUndefined))

/** An optional space- or comma-separated list variable, `undefined` when unset. */
export const optionalList = (name: string): Config.Config<Array<string> | undefined> =>
  Config.option(Config.string(name)).pipe(Config.map((value) => Option.map(value, splitList).pipe(Option.getOrUndefined)))
