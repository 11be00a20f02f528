/** Checked by `tsc -b`: docs/providers/clerk.md, code block 1, verbatim (docsSnippets.test.ts keeps them equal). */

import { McpAuth } from "@mcp-oauth/auth-core"
import * as Clerk from "@mcp-oauth/auth-core/providers/Clerk"

const auth = await McpAuth.make(
  McpAuth.layer(
    { resource: "https://mcp.example.com/mcp", scopesSupported: ["profile", "email"] },
    Clerk.layer({ domain: "verb-noun-00.clerk.accounts.dev" }) // or "clerk.example.com" in production
  )
)
