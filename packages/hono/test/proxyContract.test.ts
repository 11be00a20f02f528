import { runProxyContract } from "@mcp-oauth/testing/contract"
import type { McpServer as McpServerV2 } from "@modelcontextprotocol/server"
import { statelessMcpHandlerV2 } from "../src/sdkV2.js"
import { protectedApp, serveApp } from "./support/harness.js"

runProxyContract({
  name: "hono",
  sdks: ["v2"],
  start: async ({ port, auth, createMcpServer }) => {
    const v2 = statelessMcpHandlerV2(createMcpServer as () => McpServerV2)
    const server = await serveApp(protectedApp(auth, v2), port)
    return {
      close: async () => {
        await server.close()
        await v2.close()
        await auth.dispose()
      }
    }
  }
})
