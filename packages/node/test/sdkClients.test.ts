import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connectSdkV1, connectSdkV2 } from "@mcp-oauth/testing"
import { startStack } from "./support/harness.js"

type Stack = Awaited<ReturnType<typeof startStack>>

const whoami = async (session: { callTool: (name: string) => Promise<{ content: ReadonlyArray<{ text?: string }> }> }) =>
  JSON.parse((await session.callTool("whoami")).content[0]?.text ?? "null")

const clients = [
  ["SDK v1 (@modelcontextprotocol/sdk)", connectSdkV1],
  ["SDK v2 (@modelcontextprotocol/client)", connectSdkV2]
] as const

describe.each(clients)("%s against the node adapter", (_name, connect) => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ accessTokenTtlSeconds: 2 }, { clockTolerance: 0 })
  })
  afterAll(() => stack.close())

  it("discovers, registers, authorizes with PKCE and resource, and calls a tool as the IdP's user", async () => {
    stack.idp.resetRequests()
    const session = await connect({ url: stack.server.resource, loginHint: "alice" })
    try {
      const result = await whoami(session)
      expect(result.user.userId).toBe("alice")
      const authorization = new URL(session.provider.authorizationUrls[0]!)
      expect(authorization.searchParams.get("code_challenge_method")).toBe("S256")
      expect(authorization.searchParams.get("resource")).toBe(stack.server.resource)
      expect(stack.idp.requests("/reg")).toBe(1)
    } finally {
      await session.close()
    }
  })

  it("refreshes when the server refuses the access token, without a new authorization", async () => {
    const session = await connect({ url: stack.server.resource, loginHint: "bob" })
    try {
      expect((await whoami(session)).user.userId).toBe("bob")
      session.provider.expireAccessToken()
      expect((await whoami(session)).user.userId).toBe("bob")
      expect(session.provider.refreshCount).toBe(1)
      expect(session.provider.authorizationUrls).toHaveLength(1)
    } finally {
      await session.close()
    }
  })

  it("refreshes after the access token really expires", async () => {
    const session = await connect({ url: stack.server.resource, loginHint: "carol" })
    try {
      expect((await whoami(session)).user.userId).toBe("carol")
      const first = session.provider.tokens()?.access_token
      await new Promise((resolve) => setTimeout(resolve, 2_500))
      expect((await whoami(session)).user.userId).toBe("carol")
      expect(session.provider.refreshCount).toBe(1)
      expect(session.provider.tokens()?.access_token).not.toBe(first)
    } finally {
      await session.close()
    }
  })
})
