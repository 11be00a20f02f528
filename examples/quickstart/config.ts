/** The quickstart's environment contract, validated into settings or one clear problem naming the variable. */
import { ConfigProblem } from "@mcp-oauth/auth-core/ConfigProblem"
import { ResourceUrl } from "@mcp-oauth/auth-core"
import { type ConfiguredProvider, isConfiguredProvider, providerNames } from "./providers.js"

/** Which identity provider protects the server. */
export type ProviderChoice = "dev" | ConfiguredProvider

/** Resolved settings of the quickstart server. */
export interface QuickstartSettings {
  readonly host: string
  readonly port: number
  /** Public origin; the MCP endpoint is `${baseUrl}/mcp`. */
  readonly baseUrl: string
  readonly scopes: ReadonlyArray<string>
  readonly provider: ProviderChoice
}

const problem = (setting: string, text: string) => new ConfigProblem({ setting, problem: text })

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value.trim() === "" ? undefined : value.trim())

/** Reads the settings from an environment; throws a {@link ConfigProblem} naming the first bad variable. */
export const readSettings = (env: NodeJS.ProcessEnv): QuickstartSettings => {
  const host = nonEmpty(env["HOST"]) ?? "127.0.0.1"
  const portText = nonEmpty(env["PORT"]) ?? "3000"
  const port = Number(portText)
  if (!/^\d+$/.test(portText) || port > 65535) throw problem("PORT", `${JSON.stringify(portText)} is not a port number`)
  const baseUrl = (nonEmpty(env["MCP_OAUTH_BASE_URL"]) ?? `http://${host.includes(":") ? `[${host}]` : host}:${port}`).replace(/\/+$/, "")
  const resource = ResourceUrl.canonicalize(`${baseUrl}/mcp`)
  if ("problem" in resource) {
    const why = resource.problem === "insecure" ? "must use https unless the host is loopback" : "is not a usable http(s) origin"
    throw problem("MCP_OAUTH_BASE_URL", `${JSON.stringify(baseUrl)} ${why}`)
  }
  const scopes = (nonEmpty(env["MCP_OAUTH_SCOPES"]) ?? "mcp").split(/\s+/)
  const provider = nonEmpty(env["MCP_OAUTH_PROVIDER"]) ?? "dev"
  if (provider !== "dev" && !isConfiguredProvider(provider)) {
    throw problem("MCP_OAUTH_PROVIDER", `${JSON.stringify(provider)} is not one of: ${providerNames.join(", ")}`)
  }
  return { host, port, baseUrl, scopes, provider }
}
