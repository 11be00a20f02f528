/** Runs the Hono example: `MCP_OAUTH_ISSUER=https://issuer.example npx tsx --conditions=@mcp-oauth/source examples/hono/main.ts` */
import { ConfigProblem } from "@mcp-oauth/auth-core/ConfigProblem"
import { startHonoExample } from "./server.js"

try {
  const running = await startHonoExample(process.env)
  for (const warning of running.warnings) console.warn(`warning: ${warning}`)
  console.log(`MCP server listening at ${running.mcpUrl}`)
  const stop = () => void running.close().then(() => process.exit(0))
  process.once("SIGINT", stop)
  process.once("SIGTERM", stop)
} catch (error) {
  if (error instanceof ConfigProblem) console.error(`Configuration error: ${error.message}`)
  else console.error(`Could not start: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}
