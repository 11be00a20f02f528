/**
 * The proxy in front of an upstream described by a preset (`proxy/presets`): here the generic OIDC preset built from
 * the test IdP's discovery document, so the preset's endpoints, client authentication and ID-token verification
 * (`PresetVerifier`) run the whole flow; and the proxy's configuration from the environment.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ConfigProblem, McpAuth, OAuthProxy } from "@mcp-oauth/auth-core"
import * as Generic from "@mcp-oauth/auth-core/proxy/presets/Generic"
import { connectSdkV1 } from "@mcp-oauth/testing"
import { FetchHttpClient } from "@effect/platform"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import { type ProxyStack, startProxyStack, UPSTREAM_CLIENT_ID, UPSTREAM_SECRET } from "./support/proxyStack.js"

describe("OAuth proxy with the generic preset", () => {
  let stack: ProxyStack
  beforeAll(async () => {
    stack = await startProxyStack({
      makeUpstream: (idp) =>
        Effect.runPromise(
          Generic.make({ issuer: idp.issuer, clientId: UPSTREAM_CLIENT_ID, clientSecret: Redacted.make(UPSTREAM_SECRET) }).pipe(
            Effect.provide(FetchHttpClient.layer)
          )
        )
    })
  })
  afterAll(() => stack?.close())

  it("completes the flow with the preset's endpoints and ID-token verification", async () => {
    const session = await connectSdkV1({ url: stack.resource, loginHint: "dora", approveConsent: true })
    try {
      const result = JSON.parse((await session.callTool("whoami")).content[0]?.text ?? "null")
      expect(result.user.userId).toBe("dora")
      expect(result.issuer).toBe(stack.origin)
    } finally {
      await session.close()
    }
  })
})

describe("OAuth proxy configuration from the environment", () => {
  const start = (env: Record<string, string>) =>
    McpAuth.make(
      McpAuth.layer(
        { resource: "http://127.0.0.1:1/mcp" },
        OAuthProxy.layerConfig().pipe(Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))))
      )
    )
  const base = {
    MCP_OAUTH_UPSTREAM_ISSUER: "https://idp.example.com",
    MCP_OAUTH_UPSTREAM_CLIENT_ID: "client",
    MCP_OAUTH_UPSTREAM_CLIENT_SECRET: "secret-value-never-printed"
  }

  it.each([
    [{ ...base, MCP_OAUTH_UPSTREAM_CLIENT_ID: undefined }, "MCP_OAUTH_UPSTREAM_CLIENT_ID"],
    [{ ...base, MCP_OAUTH_UPSTREAM_CLIENT_SECRET: undefined }, "MCP_OAUTH_UPSTREAM_CLIENT_SECRET"],
    [{ ...base, MCP_OAUTH_UPSTREAM_ISSUER: undefined }, "MCP_OAUTH_UPSTREAM_ISSUER"],
    [{ ...base, MCP_OAUTH_UPSTREAM_ISSUER: "http://idp.example.com" }, "MCP_OAUTH_UPSTREAM_ISSUER"],
    [{ ...base, MCP_OAUTH_UPSTREAM_TOKEN_ENDPOINT_AUTH_METHOD: "private_key_jwt" }, "MCP_OAUTH_UPSTREAM_TOKEN_ENDPOINT_AUTH_METHOD"],
    [{ ...base, MCP_OAUTH_PROXY_SIGNING_KEY: "{}" }, "MCP_OAUTH_PROXY_SIGNING_KEY"],
    [{ ...base, MCP_OAUTH_PROXY_SIGNING_KEY: "not json" }, "MCP_OAUTH_PROXY_SIGNING_KEY"],
    [{ ...base, MCP_OAUTH_PROXY_ENCRYPTION_KEY: "short" }, "MCP_OAUTH_PROXY_ENCRYPTION_KEY"],
    [{ ...base, MCP_OAUTH_PROXY_COOKIE_SECRET: "too short" }, "MCP_OAUTH_PROXY_COOKIE_SECRET"],
    [{ ...base, MCP_OAUTH_PROXY_TRUSTED_PROXIES: "many" }, "MCP_OAUTH_PROXY_TRUSTED_PROXIES"],
    [{ ...base, MCP_OAUTH_PROXY_REMEMBER_APPROVALS: "a month" }, "MCP_OAUTH_PROXY_REMEMBER_APPROVALS"],
    [{ ...base, MCP_OAUTH_PROXY_RECHECK_UPSTREAM_EVERY: "often" }, "MCP_OAUTH_PROXY_RECHECK_UPSTREAM_EVERY"],
    [{ ...base, MCP_OAUTH_PROXY_RECHECK_UPSTREAM_EVERY: "1 minute", MCP_OAUTH_PROXY_RECHECK_UPSTREAM_MAX_STALE: "for a while" }, "MCP_OAUTH_PROXY_RECHECK_UPSTREAM_MAX_STALE"],
    [{ ...base, MCP_OAUTH_UPSTREAM_REVOCATION_ENDPOINT: "not a url" }, "MCP_OAUTH_UPSTREAM_REVOCATION_ENDPOINT"]
  ])("names the variable at fault: %j → %s", async (env, variable) => {
    const defined = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined))
    const error = await start(defined).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(error).toBeInstanceOf(ConfigProblem.ConfigProblem)
    expect((error as Error).message.startsWith(variable)).toBe(true)
    expect((error as Error).message).not.toContain("secret-value-never-printed")
  })

  it("starts with generated keys and says so loudly", async () => {
    const auth = await start(base)
    try {
      const warnings = auth.warnings.join("\n")
      expect(warnings).toContain("MCP_OAUTH_PROXY_SIGNING_KEY is not set")
      expect(warnings).toContain("MCP_OAUTH_PROXY_ENCRYPTION_KEY is not set")
      expect(warnings).toContain("MCP_OAUTH_PROXY_COOKIE_SECRET is not set")
    } finally {
      await auth.dispose()
    }
  })
})
