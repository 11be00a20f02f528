/**
 * CORS for the metadata documents and the MCP endpoint, so browser-based MCP clients can read challenges.
 *
 * @since 0.1.0
 */

/** Request headers MCP clients send (MCP spec, transports and authorization). */
export const allowedRequestHeaders = [
  "Authorization",
  "Content-Type",
  "Accept",
  "MCP-Protocol-Version",
  "Mcp-Session-Id",
  "Last-Event-ID",
  "Mcp-Method",
  "Mcp-Name"
]

/** Response headers clients must be able to read. */
export const exposedHeaders = ["WWW-Authenticate", "Mcp-Session-Id", "MCP-Protocol-Version"]

/** Which browser origins may call the MCP endpoint. */
export interface CorsOptions {
  /** Allowed origins, or `*` for any (default `*`: bearer tokens, not cookies, authenticate requests). */
  readonly allowedOrigins?: "*" | ReadonlyArray<string> | undefined
}

/** Whether a request's `Origin` may call the MCP endpoint (an absent Origin is a non-browser client). */
export const originAllowed = (options: CorsOptions, origin: string | undefined): boolean => {
  const allowed = options.allowedOrigins ?? "*"
  return origin === undefined || allowed === "*" || allowed.includes(origin)
}

const allowOrigin = (options: CorsOptions, origin: string | undefined): Record<string, string> => {
  const allowed = options.allowedOrigins ?? "*"
  if (allowed === "*") return { "access-control-allow-origin": "*" }
  return origin !== undefined && allowed.includes(origin)
    ? { "access-control-allow-origin": origin, vary: "Origin" }
    : { vary: "Origin" }
}

/** Headers for every response of the MCP endpoint, including errors. */
export const responseHeaders = (options: CorsOptions, origin: string | undefined): Record<string, string> => ({
  ...allowOrigin(options, origin),
  "access-control-expose-headers": exposedHeaders.join(", ")
})

/** Headers answering a preflight on the MCP endpoint. */
export const preflightHeaders = (options: CorsOptions, origin: string | undefined): Record<string, string> => ({
  ...responseHeaders(options, origin),
  "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
  "access-control-allow-headers": allowedRequestHeaders.join(", "),
  "access-control-max-age": "86400"
})

/** Headers for the public metadata documents: readable from any origin. */
export const metadataHeaders: Record<string, string> = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, OPTIONS",
  "access-control-allow-headers": "MCP-Protocol-Version, Content-Type, Authorization",
  "access-control-expose-headers": exposedHeaders.join(", "),
  "access-control-max-age": "86400"
}
