/** Checked by `tsc -b`: docs/providers/custom.md, code block 2, verbatim (docsSnippets.test.ts keeps them equal). */

import { Auth0, Custom, McpAuth, MultiIssuer } from "@mcp-oauth/auth-core"

// tokens are routed by their (unverified) `iss` to that issuer's verifier before any key is fetched;
// a token from an issuer not listed is refused without contacting anyone
const auth = await McpAuth.make(
  McpAuth.layer(
    { resource: "https://mcp.example.com/mcp" },
    MultiIssuer.layer([Auth0.layer({ domain: "your-tenant.us.auth0.com" }), Custom.layer({ issuer: "https://sso.internal.example.com" })])
  )
)
