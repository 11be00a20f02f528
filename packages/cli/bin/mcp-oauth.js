#!/usr/bin/env node
// Installed from npm (inside node_modules) this runs the compiled dist/. In a checkout of the repository it runs
// the TypeScript sources through tsx with the @mcp-oauth/source condition, so no build is needed there.
import { spawnSync } from "node:child_process"
import { existsSync, realpathSync } from "node:fs"
import { dirname, join, sep } from "node:path"
import { fileURLToPath } from "node:url"

const packageDir = dirname(dirname(realpathSync(fileURLToPath(import.meta.url))))
const source = join(packageDir, "src", "bin.ts")
const installed = packageDir.split(sep).includes("node_modules")

if (installed || !existsSync(source)) {
  await import("../dist/bin.js")
} else {
  let tsx
  try {
    tsx = import.meta.resolve("tsx")
  } catch {
    process.stderr.write("mcp-oauth: running from a checkout needs tsx (npm install at the repository root)\n")
    process.exit(2)
  }
  const child = spawnSync(
    process.execPath,
    ["--conditions=@mcp-oauth/source", "--import", tsx, source, ...process.argv.slice(2)],
    { stdio: "inherit" }
  )
  process.exitCode = child.status ?? 2
}
