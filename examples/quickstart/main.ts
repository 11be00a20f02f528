/** `npm start`: runs the quickstart server; configuration problems end the process with one line. */
import { ConfigProblem } from "@mcp-oauth/auth-core/ConfigProblem"
import { startQuickstart } from "./server.js"

try {
  const running = await startQuickstart(process.env)
  if (running.devIssuer !== undefined) {
    console.log(`Development identity provider (for development only, never production): ${running.devIssuer}`)
  }
  for (const warning of running.warnings) console.warn(`warning: ${warning}`)
  console.log(`MCP server listening at ${running.mcpUrl}`)
  console.log(`Connect an MCP client to ${running.mcpUrl}; it will discover the identity provider from the 401 challenge.`)
  const stop = () => void running.close().then(() => process.exit(0))
  process.once("SIGINT", stop)
  process.once("SIGTERM", stop)
} catch (error) {
  if (error instanceof ConfigProblem) console.error(`Configuration error: ${error.message}`)
  else console.error(`Could not start: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}
