/**
 * @mcp-oauth/node: the node:http adapter of @mcp-oauth/auth-core for the official MCP SDK transports.
 *
 * @since 0.1.0
 */

export { type AuthenticatedRequest, type NodeHandler, authorizationValues, protect } from "./protect.js"
export { statelessHandlerV1 } from "./streamableHttpV1.js"
export { writeAnswer } from "./writeAnswer.js"
export { listen, type Listening } from "./listen.js"
