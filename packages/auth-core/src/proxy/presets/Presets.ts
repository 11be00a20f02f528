/**
 * The presets by name, as `MCP_OAUTH_PROVIDER` selects them: `google`, `github`, `okta`, `entra`, `auth0-proxy`,
 * or `generic` (any OpenID Connect provider, from `MCP_OAUTH_UPSTREAM_ISSUER`).
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Effect from "effect/Effect"
import type { ConfigProblem } from "../../ConfigProblem.js"
import type { UpstreamUnavailable } from "../../Errors.js"
import * as Auth0 from "./Auth0.js"
import * as Entra from "./Entra.js"
import * as Generic from "./Generic.js"
import * as GitHub from "./GitHub.js"
import * as Google from "./Google.js"
import * as Okta from "./Okta.js"
import type { PresetName, UpstreamPreset } from "./UpstreamPreset.js"

/** Every preset name. */
export const names: ReadonlyArray<PresetName> = ["google", "github", "okta", "entra", "auth0-proxy", "generic"]

/** Whether a string names a preset. */
export const isPresetName = (value: string): value is PresetName => (names as ReadonlyArray<string>).includes(value)

/**
 * A preset from its environment variables (`MCP_OAUTH_<PRESET>_…`); every problem is one ConfigProblem naming the
 * variable. Only `generic` contacts the network (its discovery document).
 */
export const fromEnvironment = (
  name: PresetName
): Effect.Effect<UpstreamPreset, ConfigProblem | UpstreamUnavailable, HttpClient.HttpClient> => {
  switch (name) {
    case "google":
      return Google.fromEnvironment
    case "github":
      return GitHub.fromEnvironment
    case "okta":
      return Okta.fromEnvironment
    case "entra":
      return Entra.fromEnvironment
    case "auth0-proxy":
      return Auth0.fromEnvironment
    case "generic":
      return Generic.fromEnvironment
  }
}
