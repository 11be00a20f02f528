/**
 * @mcp-oauth/node/server: the `MCPServer` facade and the provider factories, for moving over from the seed framework
 * by changing imports.
 *
 * @since 0.1.0
 */

export { MCPServer, type MCPServerOptions, type ToolContext, type ToolDefinition } from "./MCPServer.js"
export {
  oauthAuth0Provider,
  oauthBetterAuthProvider,
  oauthClerkProvider,
  oauthCustomProvider,
  oauthKeycloakProvider,
  oauthProxy,
  oauthSupabaseProvider,
  oauthWorkOSProvider,
  type OAuthProvider
} from "@mcp-oauth/auth-core"
