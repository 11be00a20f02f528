/** Checked by `tsc -b`: docs/deployment.md, several instances of the OAuth proxy on Redis, verbatim (docsSnippets.test.ts). */

import { McpAuth, OAuthProxy } from "@mcp-oauth/auth-core"
import { RedisStore } from "@mcp-oauth/redis"

const auth = await McpAuth.make(
  McpAuth.layer(
    // the public URL, from configuration: never derived from Host or X-Forwarded-* headers
    { resource: "https://mcp.example.com/mcp", resourceSetting: "MCP_OAUTH_BASE_URL", scopesSupported: ["mcp"] },
    // MCP_OAUTH_GOOGLE_* plus MCP_OAUTH_PROXY_SIGNING_KEY, _ENCRYPTION_KEY, _COOKIE_SECRET: identical on every instance
    OAuthProxy.layerPreset("google", { trustedProxies: 1 }),
    // MCP_OAUTH_REDIS_URL (a secret: never echoed), MCP_OAUTH_REDIS_KEY_PREFIX
    { store: RedisStore.layerConfig() }
  )
)
