/** `MCP_OAUTH_PROVIDER` choices of the quickstart beyond `dev`: each reads its own documented variables. */
import { ConfigProvider, Layer } from "effect"
import { Auth0, BetterAuth, Clerk, Custom, Keycloak, OAuthProxy, type OAuthProvider, Supabase, WorkOS } from "@mcp-oauth/auth-core"

/** Provider layers configured from the environment, by `MCP_OAUTH_PROVIDER` name. */
const fromConfig = {
  custom: () => Custom.layerConfig(),
  auth0: () => Auth0.layerConfig(),
  workos: () => WorkOS.layerConfig(),
  clerk: () => Clerk.layerConfig(),
  supabase: () => Supabase.layerConfig(),
  keycloak: () => Keycloak.layerConfig(),
  "better-auth": () => BetterAuth.layerConfig(),
  // the OAuth proxy in front of a provider without dynamic registration (generic: MCP_OAUTH_UPSTREAM_ISSUER, ...)
  proxy: () => OAuthProxy.layerConfig(),
  // the proxy with a preset (docs/proxy-presets.md for each one's variables)
  google: () => OAuthProxy.layerPreset("google"),
  github: () => OAuthProxy.layerPreset("github"),
  okta: () => OAuthProxy.layerPreset("okta"),
  entra: () => OAuthProxy.layerPreset("entra"),
  "auth0-proxy": () => OAuthProxy.layerPreset("auth0-proxy"),
  generic: () => OAuthProxy.layerPreset("generic")
} as const

/** The names that put the OAuth proxy in front of the server. */
export const proxyNames: ReadonlySet<string> = new Set(["proxy", "google", "github", "okta", "entra", "auth0-proxy", "generic"])

/** A provider name `npm start` knows, besides `dev`. */
export type ConfiguredProvider = keyof typeof fromConfig

/** Every name `MCP_OAUTH_PROVIDER` accepts. */
export const providerNames: ReadonlyArray<string> = ["dev", ...Object.keys(fromConfig)]

/** Whether a name is a configured provider. */
export const isConfiguredProvider = (name: string): name is ConfiguredProvider => Object.hasOwn(fromConfig, name)

/** The provider `name` configured from `env` (not process.env, so tests can pass their own). */
export const providerFromEnv = (name: ConfiguredProvider, env: NodeJS.ProcessEnv): OAuthProvider => {
  const entries = Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)
  const configProvider = Layer.setConfigProvider(ConfigProvider.fromMap(new Map(entries)))
  return { name, layer: fromConfig[name]().pipe(Layer.provide(configProvider)) }
}
