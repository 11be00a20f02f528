/** Checked by `tsc -b`: docs/providers/custom.md, code block 1, verbatim (docsSnippets.test.ts keeps them equal). */

import { Custom, McpAuth } from "@mcp-oauth/auth-core"

const auth = await McpAuth.make(
  McpAuth.layer(
    { resource: "https://mcp.example.com/mcp", scopesSupported: ["mcp:tools"] },
    Custom.layer({
      issuer: "https://idp.example.com", // compared exactly with `iss`; its metadata gives the key set
      typ: "at+jwt", // RFC 9068 access tokens only, when the issuer marks them
      algorithms: ["ES256"],
      claims: { roles: ["groups", "realm.roles"], permissions: ["scp"] }
    })
  )
)
for (const warning of auth.warnings) console.warn(warning)
