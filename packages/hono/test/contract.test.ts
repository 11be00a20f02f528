import { runAdapterContract } from "@mcp-oauth/testing/contract"
import type { McpServer as McpServerV1 } from "@modelcontextprotocol/sdk/server/mcp.js"
import type { McpServer as McpServerV2 } from "@modelcontextprotocol/server"
import { statelessMcpHandlerV1 } from "../src/sdkV1.js"
import { statelessMcpHandlerV2 } from "../src/sdkV2.js"
import { protectedApp, serveApp } from "./support/harness.js"

runAdapterContract({
  name: "hono",
  sdks: ["v1", "v2"],
  start: async ({ port, auth, sdk, createMcpServer }) => {
    const v2 = sdk === "v2" ? statelessMcpHandlerV2(createMcpServer as () => McpServerV2) : undefined
    const server = await serveApp(protectedApp(auth, v2 ?? statelessMcpHandlerV1(createMcpServer as () => McpServerV1)), port)
    return {
      close: async () => {
        await server.close()
        await v2?.close()
        await auth.dispose()
      }
    }
  }
})
