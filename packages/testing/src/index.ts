/**
 * @mcp-oauth/testing: a real identity provider, headless OAuth and MCP client drivers, and hostile-token minting
 * for testing MCP servers protected with OAuth 2.1.
 *
 * @since 0.1.0
 */
export * from "./AuthorizationCodeFlow.js"
export * from "./BrowserDriver.js"
export * from "./HostileCorpus.js"
export * from "./McpClientDriver.js"
export * from "./TestIdp.js"
export * from "./TokenForge.js"
