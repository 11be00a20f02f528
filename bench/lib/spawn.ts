/** How bench scripts start other bench scripts: this Node, with tsx and the workspace source condition. */

/** Node flags for a child running a bench TypeScript file from the repository root. */
export const nodeArgs = (...extra: ReadonlyArray<string>): Array<string> => [
  ...extra,
  "--import",
  "tsx",
  "--conditions=@mcp-oauth/source"
]
