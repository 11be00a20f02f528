/**
 * The `mcp-oauth` executable's entry point.
 *
 * @since 0.1.0
 */
import { main } from "./Cli.js"

const code = await main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  isTTY: process.stdout.isTTY,
  env: process.env
})
// exitCode rather than exit(): pending writes to a pipe are flushed first
process.exitCode = code
