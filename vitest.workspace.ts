import { defaultServerConditions } from "vite"
import type { TestProjectConfiguration } from "vitest/config"

/** Resolve workspace packages to their TypeScript sources, so tests need no build. */
const sourceConditions = ["@mcp-oauth/source", ...defaultServerConditions]

const project = (name: string, root: string, testTimeout = 20_000): TestProjectConfiguration => ({
  ssr: { resolve: { conditions: sourceConditions } },
  resolve: { conditions: sourceConditions },
  test: { name, root, include: ["test/**/*.test.ts"], testTimeout, hookTimeout: 30_000 }
})

/** Every test project of the repository. */
export const projects: Array<TestProjectConfiguration> = [
  project("auth-core", "packages/auth-core"),
  project("testing", "packages/testing", 30_000),
  project("node", "packages/node", 60_000),
  project("express", "packages/express", 60_000),
  project("hono", "packages/hono", 60_000),
  project("redis", "packages/redis", 60_000),
  project("cli", "packages/cli", 30_000),
  project("examples", "examples", 60_000),
  project("reliability", "reliability", 120_000)
]
