/** Checked by `tsc -b`: docs/providers/workos.md, code block 1, verbatim (docsSnippets.test.ts keeps them equal). */

import { McpAuth } from "@mcp-oauth/auth-core"
import * as WorkOS from "@mcp-oauth/auth-core/providers/WorkOS"

const auth = await McpAuth.make(
  McpAuth.layer(
    { resource: "https://mcp.example.com/mcp", scopesSupported: ["openid", "profile", "email", "offline_access"] },
    WorkOS.layer({ subdomain: "your-company" }) // or { subdomain: "your-company.authkit.app" } or { domain: "auth.example.com" }
  )
)
