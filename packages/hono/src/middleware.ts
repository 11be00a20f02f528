/** Hono routes and middleware over the framework-neutral surface of @mcp-oauth/auth-core: they translate, nothing more. */
import { type AuthInfo, HttpAnswer, type McpAuth } from "@mcp-oauth/auth-core"
import { type Context, Hono, type MiddlewareHandler } from "hono"
import { readJsonBody } from "./internal/readJsonBody.js"

/** The variables `mcpAuthMiddleware` sets: `c.var.auth` (the principal) and `c.var.sdkAuthInfo` (for the MCP SDK). */
export type McpAuthEnv = { Variables: { auth: AuthInfo.AuthInfo; sdkAuthInfo: AuthInfo.SdkAuthInfo } }

const answer = HttpAnswer.toResponse

/**
 * The protected resource metadata documents (both well-known URLs) and CORS preflights on the MCP endpoint.
 * Mount it before everything else: `app.route("/", mcpAuthRoutes(auth))`.
 */
export const mcpAuthRoutes = (auth: McpAuth.McpAuth): Hono => {
  const routes = new Hono()
  routes.use(async (c, next) => {
    const origin = c.req.header("origin")
    const routed = await auth.route({ method: c.req.method, pathname: c.req.path, origin })
    if (routed !== undefined) return answer(routed)
    if (c.req.method === "OPTIONS" && auth.isProtected(c.req.path)) return answer(auth.preflight(origin))
    await next()
  })
  return routes
}

/** A JSON-RPC error answer with the guard's CORS headers. */
const refusal = (status: number, message: string, headers: Readonly<Record<string, string>>): HttpAnswer.HttpAnswer => ({
  status,
  // after a 413 the rest of the body is unread, so the connection cannot carry another request
  headers: { ...headers, "content-type": "application/json", ...(status === 413 ? { connection: "close" } : {}) },
  body: JSON.stringify({ jsonrpc: "2.0", error: { code: -32600, message }, id: null })
})

/**
 * The bearer guard for every request it is mounted on (mount it on the MCP endpoint): answers preflights, lets a
 * request through only with a valid token holding the scopes its JSON-RPC operations need, and sets `c.var.auth`,
 * `c.var.sdkAuthInfo` and the CORS headers; otherwise answers with the exact challenge.
 */
export const mcpAuthMiddleware =
  (auth: McpAuth.McpAuth): MiddlewareHandler<McpAuthEnv> =>
  async (c, next) => {
    const origin = c.req.header("origin")
    if (c.req.method === "OPTIONS") return answer(auth.preflight(origin))
    // web Headers join repeated Authorization headers with ", ", which the guard refuses as invalid_request
    const authorization = c.req.header("authorization")
    const outcome = await auth.guard({
      authorization: authorization === undefined ? [] : [authorization],
      origin,
      sessionId: c.req.header("mcp-session-id")
    })
    if (!outcome.ok) return answer(outcome.answer)
    // the body is read only once the token is valid, so anonymous clients cannot make the server buffer it
    const body = await readJsonBody(c.req.raw)
    if (body.kind === "too_large") return answer(refusal(413, "Request body too large", outcome.headers))
    if (body.kind === "unreadable") return answer(refusal(400, "Request body could not be read", outcome.headers))
    if (body.kind === "json") {
      const denied = auth.authorizeBody(outcome.authInfo, body.value, origin)
      if (denied !== undefined) return answer(denied)
    }
    c.set("auth", outcome.authInfo)
    c.set("sdkAuthInfo", outcome.sdkAuthInfo)
    // set on the pending response: Hono merges these into whatever the handler (or the error handler) returns
    for (const [name, value] of Object.entries(outcome.headers)) c.res.headers.set(name, value)
    await next()
  }

/** The guard's SDK AuthInfo for the SDK handlers; throws (a 500) when `mcpAuthMiddleware` did not run before them. */
export const sdkAuthInfoOf = (c: Context<McpAuthEnv>): AuthInfo.SdkAuthInfo => {
  const info: AuthInfo.SdkAuthInfo | undefined = c.get("sdkAuthInfo")
  if (info === undefined) throw new Error("@mcp-oauth/hono: mcpAuthMiddleware must run before the MCP handler")
  return info
}
