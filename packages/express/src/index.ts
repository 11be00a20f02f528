/**
 * @mcp-oauth/express: the Express adapter of @mcp-oauth/auth-core (Express 4 and 5) for the official MCP SDKs.
 *
 * @since 0.1.0
 */

/** The router serving the protected resource metadata and the MCP endpoint's CORS preflights. */
export { mcpAuthRouter } from "./router.js"
/** The guard middleware of the MCP endpoint, setting `req.auth`. */
export { type AuthenticatedRequest, requireMcpAuth, type RequireMcpAuthOptions } from "./requireMcpAuth.js"
/** Stateless serving of an SDK v1 or v2 `McpServer`, one fresh server per request. */
export { statelessMcpHandlerV1, statelessMcpHandlerV2 } from "./stateless.js"
