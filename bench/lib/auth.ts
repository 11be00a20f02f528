/** The protected resource as the benchmarks build it: McpAuth over the custom provider and a local key set. */
import { Custom, McpAuth } from "@mcp-oauth/auth-core"
import type * as Duration from "effect/Duration"
import type { JwksServer } from "./idp.js"

/** Options of {@link makeAuth}. */
export interface AuthSetup {
  readonly idp: Pick<JwksServer, "issuer" | "jwksUri">
  /** The MCP endpoint URL (the tokens' audience). */
  readonly resource: string
  /** The verified-token cache: the provider's default (on) unless false. */
  readonly cache?: boolean | undefined
  /** Effect's tracer on (`telemetry: true`, spans made but exported nowhere); off by default, as in McpAuth. */
  readonly tracing?: boolean | undefined
  /** Key set cooldown, for the stampede runs. */
  readonly cooldown?: Duration.DurationInput | undefined
}

/** Builds the auth runtime exactly as an application would (one runtime at start). */
export const makeAuth = (setup: AuthSetup): Promise<McpAuth.McpAuth> =>
  McpAuth.make(
    McpAuth.layer(
      { resource: setup.resource, scopesSupported: ["mcp"], resourceName: "bench" },
      Custom.layer({
        issuer: setup.idp.issuer,
        jwksUri: setup.idp.jwksUri,
        mirrorMetadata: false,
        ...(setup.cache === false ? { verifiedTokenCache: false } : {}),
        ...(setup.cooldown === undefined ? {} : { jwks: { cooldown: setup.cooldown } })
      }),
      setup.tracing === true ? { telemetry: true } : {}
    )
  )

/** `Authorization` header values for a token. */
export const bearer = (token: string): Array<string> => [`Bearer ${token}`]
