import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connectSdkV1, connectSdkV2 } from "@mcp-oauth/testing"
import { startStack } from "./support/harness.js"

type Stack = Awaited<ReturnType<typeof startStack>>

const cases = [
  ["SDK v1 client against a v1 server", "v1", connectSdkV1],
  ["SDK v2 client against a v2 server", "v2", connectSdkV2]
] as const

describe.each(cases)("%s behind Hono", (_name, sdk, connect) => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack(sdk)
  })
  afterAll(() => stack.close())

  it("discovers the IdP from the 401, authorizes, and calls a tool that sees the user", async () => {
    const session = await connect({ url: stack.resource, loginHint: "carol" })
    try {
      const result = await session.callTool("whoami")
      const { sdk: served, authInfo } = JSON.parse(result.content[0]?.text ?? "null")
      expect(served).toBe(sdk)
      expect(authInfo.extra.user.userId).toBe("carol")
      expect(new URL(session.provider.authorizationUrls[0]!).searchParams.get("resource")).toBe(stack.resource)
    } finally {
      await session.close()
    }
  })

  // the v1 client answers a 403 by refreshing, which cannot widen the scope; only the v2 client re-authorizes
  it.runIf(sdk === "v2")("steps up to the scope a tool needs after a 403 insufficient_scope", async () => {
    const session = await connect({ url: stack.resource, loginHint: "dave", scope: "mcp" })
    try {
      const result = await session.callTool("admin-report")
      expect(JSON.parse(result.content[0]?.text ?? "null")).toEqual({ report: "ok" })
      expect(session.provider.authorizationUrls.length).toBe(2)
    } finally {
      await session.close()
    }
  })
})
