import { runProxyContract } from "@mcp-oauth/testing/contract"
import type { McpServer as McpServerV1 } from "@modelcontextprotocol/sdk/server/mcp.js"
import { listen } from "../src/index.js"
import { statelessHandlerV1 } from "../src/sdkV1.js"

runProxyContract({
  name: "node:http",
  sdks: ["v1"],
  start: async ({ port, auth, createMcpServer }) => listen(auth, statelessHandlerV1(createMcpServer as () => McpServerV1), { port })
})
