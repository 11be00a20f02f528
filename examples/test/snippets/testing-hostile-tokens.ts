/** Checked by `tsc -b`: docs/testing.md, the hostile-token corpus against your own server, verbatim (docsSnippets.test.ts). */

import { Custom, McpAuth } from "@mcp-oauth/auth-core"
import { listen } from "@mcp-oauth/node"
import { statelessHandlerV1 } from "@mcp-oauth/node/sdk-v1"
import { isExpectedOutcome, startTokenForge } from "@mcp-oauth/testing"
import { freePort } from "@mcp-oauth/testing/contract"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { expect, it } from "vitest"

it("answers every hostile token with the exact status and challenge", async () => {
  const port = await freePort()
  const resource = `http://127.0.0.1:${port}/mcp`
  // an issuer serving its metadata and keys on loopback, holding the attacker's unpublished keys too
  const forge = await startTokenForge({ audience: resource })
  const auth = await McpAuth.make(McpAuth.layer({ resource }, Custom.layer({ issuer: forge.issuer })))
  const server = await listen(auth, statelessHandlerV1(() => new McpServer({ name: "my-server", version: "1.0.0" })), { port })
  try {
    const wrong: Array<string> = []
    // cases wrong only by `typ` apply to servers that require it (Custom.layer({ issuer, typ: "at+jwt" }))
    const corpus = (await forge.hostileCorpus()).filter((hostile) => hostile.requiresTyp !== true)
    for (const hostile of corpus) {
      const response = await fetch(resource, {
        method: "POST",
        headers: { authorization: hostile.authorization, "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" })
      })
      await response.body?.cancel()
      if (!isExpectedOutcome(hostile, response)) wrong.push(`${hostile.name}: ${response.status}`)
    }
    expect(corpus.length).toBeGreaterThan(50)
    expect(wrong).toEqual([])
  } finally {
    await server.close()
    await forge.close()
  }
})
