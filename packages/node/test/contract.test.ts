import { runAdapterContract } from "@mcp-oauth/testing/contract"
import type { McpServer as McpServerV1 } from "@modelcontextprotocol/sdk/server/mcp.js"
import type { McpServer as McpServerV2 } from "@modelcontextprotocol/server"
import { listen } from "../src/index.js"
import { statelessHandlerV1 } from "../src/sdkV1.js"
import { statelessHandlerV2 } from "../src/sdkV2.js"

runAdapterContract({
  name: "node:http",
  sdks: ["v1", "v2"],
  start: async ({ port, auth, sdk, createMcpServer }) => {
    const handler =
      sdk === "v1"
        ? statelessHandlerV1(createMcpServer as () => McpServerV1)
        : statelessHandlerV2(createMcpServer as () => McpServerV2)
    return listen(auth, handler, { port })
  }
})
