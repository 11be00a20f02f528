/** How the proxy's endpoint errors become answers: JSON for API endpoints, redirects once the redirect URI is trusted. */
import type { OAuthEndpointError } from "../../Errors.js"
import type { HttpAnswer } from "../../HttpAnswer.js"

/** CORS of the JSON endpoints (token, registration, revocation): any origin, never cookies. */
export const apiCors: Readonly<Record<string, string>> = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers": "WWW-Authenticate, Retry-After"
}

/** The answer to a preflight on a JSON endpoint. */
export const preflight: HttpAnswer = {
  status: 204,
  headers: {
    ...apiCors,
    "access-control-allow-methods": "POST, OPTIONS",
    "access-control-allow-headers": "Authorization, Content-Type, MCP-Protocol-Version",
    "access-control-max-age": "86400"
  }
}

/** The OAuth error code and status of an endpoint error. */
export const codeOf = (error: OAuthEndpointError): { readonly error: string; readonly status: number } => {
  switch (error._tag) {
    case "InvalidRequest":
      return { error: "invalid_request", status: 400 }
    case "AccessDenied":
      return { error: "access_denied", status: 400 }
    case "UpstreamUnavailable":
      return { error: "temporarily_unavailable", status: 503 }
    case "InvalidClient":
      return { error: "invalid_client", status: 401 }
    case "InvalidClientMetadata":
      return { error: "invalid_client_metadata", status: 400 }
    case "InvalidRedirectUri":
      return { error: "invalid_redirect_uri", status: 400 }
    case "InvalidGrant":
      return { error: "invalid_grant", status: 400 }
    case "InvalidTarget":
      return { error: "invalid_target", status: 400 }
    case "InvalidScope":
      return { error: "invalid_scope", status: 400 }
    case "UnsupportedGrant":
      return { error: error.error, status: 400 }
    case "RateLimited":
      return { error: "temporarily_unavailable", status: 429 }
  }
}

const descriptionOf = (error: OAuthEndpointError): string =>
  error._tag === "UpstreamUnavailable" ? "The identity provider is unavailable; try again later" : error.message

/** A JSON error answer (RFC 6749 §5.2, RFC 7591 §3.2.2), never cached. */
export const jsonError = (error: OAuthEndpointError): HttpAnswer => {
  const { error: code, status } = codeOf(error)
  const headers: Record<string, string> = {
    ...apiCors,
    "content-type": "application/json",
    "cache-control": "no-store",
    pragma: "no-cache"
  }
  if (error._tag === "InvalidClient" && error.basic) headers["www-authenticate"] = `Basic realm="mcp-oauth", charset="UTF-8"`
  if (error._tag === "RateLimited" || error._tag === "UpstreamUnavailable") {
    headers["retry-after"] = String(Math.max(1, Math.ceil(error.retryAfterSeconds)))
  }
  return { status, headers, body: JSON.stringify({ error: code, error_description: descriptionOf(error) }) }
}

/** A JSON success answer, never cached. */
export const json = (status: number, body: object): HttpAnswer => ({
  status,
  headers: { ...apiCors, "content-type": "application/json", "cache-control": "no-store", pragma: "no-cache" },
  body: JSON.stringify(body)
})

/** A 302 to `location`, optionally setting a cookie. */
export const redirect = (location: string, setCookie?: string): HttpAnswer => ({
  status: 302,
  headers: {
    location,
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    ...(setCookie === undefined ? {} : { "set-cookie": setCookie })
  }
})

/**
 * The authorization response for a trusted redirect URI (RFC 6749 §4.1.2, RFC 9207 §2): the parameters appended to
 * the URI's query, keeping any query it has.
 */
export const toClient = (redirectUri: string, params: Readonly<Record<string, string | undefined>>): HttpAnswer => {
  const url = new URL(redirectUri)
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.append(name, value)
  return redirect(url.href)
}
