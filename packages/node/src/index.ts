/**
 * @mcp-oauth/node: the node:http adapter of @mcp-oauth/auth-core for the official MCP SDK transports.
 * The SDK glue lives in `@mcp-oauth/node/sdk-v1` and `@mcp-oauth/node/sdk-v2`, so only the SDK you use is loaded.
 *
 * @since 0.1.0
 */

export { type AuthenticatedRequest, type NodeHandler, authorizationValues, protect } from "./protect.js"
export { maxBodyBytes, readJsonBody, readRawBody } from "./readJsonBody.js"
export { type RequestTarget, requestTarget } from "./requestTarget.js"
export { writeAnswer } from "./writeAnswer.js"
export { listen, type Listening } from "./listen.js"
