/** `npm run example:otel`: the OpenTelemetry example; spans print as requests arrive, metrics every 10 seconds. */
import { ConfigProblem } from "@mcp-oauth/auth-core/ConfigProblem"
import { startOtelExample } from "./server.js"
import { destination } from "./telemetry.js"

try {
  const running = await startOtelExample(process.env)
  console.log(`Development identity provider (for development only, never production): ${running.devIssuer}`)
  console.log(`MCP server listening at ${running.mcpUrl}; spans and metrics go to ${destination(process.env)}`)
  const stop = () => void running.close().then(() => process.exit(0))
  process.once("SIGINT", stop)
  process.once("SIGTERM", stop)
} catch (error) {
  if (error instanceof ConfigProblem) console.error(`Configuration error: ${error.message}`)
  else console.error(`Could not start: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}
