/**
 * @mcp-oauth/auth-core: OAuth 2.1 protected-resource core for MCP servers, as Effect services.
 *
 * @since 0.1.0
 */

/** RFC 8707 resource URLs and well-known URL construction. */
export * as ResourceUrl from "./ResourceUrl.js"
/** Typed errors named after the OAuth answer each becomes. */
export * as Errors from "./Errors.js"
/** `WWW-Authenticate` challenges. */
export * as Challenge from "./Challenge.js"
/** Mapping errors to HTTP answers. */
export * as HttpAnswer from "./HttpAnswer.js"
/** Schemas of OAuth documents. */
export * as Metadata from "./Metadata.js"
/** The authenticated principal. */
export * as AuthInfo from "./AuthInfo.js"
/** Claim locations for user fields. */
export * as ClaimMapping from "./ClaimMapping.js"
/** Configuration problems found at start. */
export * as ConfigProblem from "./ConfigProblem.js"
/** The protected resource's configuration. */
export * as ResourceServer from "./ResourceServer.js"
/** The protected resource metadata document. */
export * as ProtectedResource from "./ProtectedResource.js"
/** Remote key sets. */
export * as Jwks from "./Jwks.js"
/** Authorization server metadata discovery. */
export * as Discovery from "./Discovery.js"
/** The token verifier service. */
export * as TokenVerifier from "./TokenVerifier.js"
/** JWT access-token verification. */
export * as JwtVerifier from "./JwtVerifier.js"
/** The bearer guard. */
export * as BearerAuth from "./BearerAuth.js"
/** What a provider contributes. */
export * as Provider from "./Provider.js"
/** Scope implications. */
export * as ScopeHierarchy from "./ScopeHierarchy.js"
/** Per-tool, per-resource and per-prompt requirements. */
export * as Authorization from "./Authorization.js"
/** The typed auth context tools read. */
export * as AuthContext from "./AuthContext.js"
/** Sessions bound to the subject that opened them. */
export * as SessionBindings from "./SessionBindings.js"
/** The key-value store of the OAuth proxy. */
export * as Store from "./Store.js"
/** CORS for MCP endpoints and metadata. */
export * as Cors from "./Cors.js"
/** The framework-neutral HTTP surface adapters wrap. */
export * as McpAuth from "./McpAuth.js"
/** A provider for the `MCPServer` facade. */
export type { OAuthProvider } from "./OAuthProvider.js"
/** A custom authorization server. */
export * as Custom from "./providers/Custom.js"
/** RFC 7662 token introspection for opaque access tokens. */
export * as IntrospectionVerifier from "./IntrospectionVerifier.js"
/** Several authorization servers at once. */
export * as MultiIssuer from "./MultiIssuer.js"
/** An authorization server whose opaque tokens are introspected. */
export * as Introspection from "./providers/Introspection.js"
/** Auth0 (remote mode). */
export * as Auth0 from "./providers/Auth0.js"
/** WorkOS AuthKit (remote mode). */
export * as WorkOS from "./providers/WorkOS.js"
/** Clerk (remote mode). */
export * as Clerk from "./providers/Clerk.js"
/** Supabase Auth (remote mode). */
export * as Supabase from "./providers/Supabase.js"
/** Keycloak (remote mode). */
export * as Keycloak from "./providers/Keycloak.js"
/** Better Auth (remote mode). */
export * as BetterAuth from "./providers/BetterAuth.js"
/** Provider factories with the names the seed framework uses. */
export { oauthCustomProvider } from "./providers/Custom.js"
/** Introspection for the `MCPServer` facade. */
export { oauthIntrospectionProvider } from "./providers/Introspection.js"
/** Several issuers for the `MCPServer` facade. */
export { oauthMultiIssuerProvider } from "./MultiIssuer.js"
/** Auth0 for the `MCPServer` facade. */
export { oauthAuth0Provider } from "./providers/Auth0.js"
/** WorkOS AuthKit for the `MCPServer` facade. */
export { oauthWorkOSProvider } from "./providers/WorkOS.js"
/** Clerk for the `MCPServer` facade. */
export { oauthClerkProvider } from "./providers/Clerk.js"
/** Supabase for the `MCPServer` facade. */
export { oauthSupabaseProvider } from "./providers/Supabase.js"
/** Keycloak for the `MCPServer` facade. */
export { oauthKeycloakProvider } from "./providers/Keycloak.js"
/** Better Auth for the `MCPServer` facade. */
export { oauthBetterAuthProvider } from "./providers/BetterAuth.js"
/** The OAuth proxy for identity providers without dynamic client registration. */
export * as OAuthProxy from "./proxy/OAuthProxy.js"
/** The OAuth proxy for the `MCPServer` facade. */
export { oauthProxy } from "./proxy/OAuthProxy.js"
/** Remembering the verdicts of verified tokens (on by default for JWTs), keyed by their digest. */
export * as VerifiedTokenCache from "./VerifiedTokenCache.js"
/** Span, attribute and metric names of the instrumentation (docs/observability.md). */
export * as Telemetry from "./Telemetry.js"
