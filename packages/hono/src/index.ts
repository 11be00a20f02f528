/**
 * @mcp-oauth/hono: Hono routes and middleware for @mcp-oauth/auth-core. The MCP SDK glue lives in
 * `@mcp-oauth/hono/sdk-v1` and `@mcp-oauth/hono/sdk-v2`, so only the SDK you use is loaded.
 *
 * @since 0.1.0
 */

/** The typed variables the guard sets (`c.var.auth`, `c.var.sdkAuthInfo`). */
export type { McpAuthEnv } from "./middleware.js"
/** The metadata documents and MCP endpoint preflights, as a Hono sub-app. */
export { mcpAuthRoutes } from "./middleware.js"
/** The bearer guard for the MCP endpoint. */
export { mcpAuthMiddleware } from "./middleware.js"
