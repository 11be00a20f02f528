/** `npm run example:express-auth0`: starts the example; a configuration problem ends the process with one line. */
import { ConfigProblem } from "@mcp-oauth/auth-core/ConfigProblem"
import { start } from "./server.js"

try {
  const running = await start(process.env)
  for (const warning of running.warnings) console.warn(`warning: ${warning}`)
  console.log(`MCP server listening at ${running.mcpUrl}`)
  const stop = () => void running.close().then(() => process.exit(0))
  process.once("SIGINT", stop)
  process.once("SIGTERM", stop)
} catch (error) {
  console.error(error instanceof ConfigProblem ? `Configuration error: ${error.message}` : `Could not start: ${String(error)}`)
  process.exit(1)
}
