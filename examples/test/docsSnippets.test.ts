/**
 * Keeps the documentation's TypeScript true: every ```ts block of the README and of the docs pages listed here must
 * appear verbatim in a file under examples/test/snippets/, which `tsc -b` typechecks (and vitest runs, for the
 * `.test.ts` ones). Edit a snippet in both places, or this fails.
 */
import { readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("../..", import.meta.url))
const snippetsDir = fileURLToPath(new URL("./snippets/", import.meta.url))

const pages = [
  "README.md",
  "docs/concepts.md",
  "docs/adapters.md",
  "docs/authorization.md",
  "docs/testing.md",
  "docs/deployment.md",
  "docs/security.md",
  ...readdirSync(`${root}/docs/providers`).map((file) => `docs/providers/${file}`)
]

const snippets = readdirSync(snippetsDir).map((file) => readFileSync(`${snippetsDir}${file}`, "utf8"))

const codeBlocks = (markdown: string): Array<string> =>
  [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1]!.trimEnd())

describe("documentation code blocks", () => {
  it("finds TypeScript blocks to check in the README and the provider pages", () => {
    expect(codeBlocks(readFileSync(`${root}/README.md`, "utf8")).length).toBeGreaterThan(0)
    expect(codeBlocks(readFileSync(`${root}/docs/providers/auth0.md`, "utf8")).length).toBeGreaterThan(0)
  })

  it.each(pages)("%s: every ts block is a typechecked snippet", (page) => {
    const unchecked = codeBlocks(readFileSync(`${root}/${page}`, "utf8")).filter(
      (block) => !snippets.some((snippet) => snippet.includes(block))
    )
    expect(unchecked).toEqual([])
  })
})
