/** Hono routes and middleware over the framework-neutral surface of @mcp-oauth/auth-core: they translate, nothing more. */
import { type AuthInfo, HttpAnswer, type McpAuth } from "@mcp-oauth/auth-core"
import { type Context, Hono, type MiddlewareHandler } from "hono"
import { readCapped, readJsonBody } from "./internal/readJsonBody.js"
import { restoreBody } from "./internal/restoredBody.js"

/**
 * The variables `mcpAuthMiddleware` sets: `c.var.auth` (the principal), `c.var.sdkAuthInfo` (for the MCP SDK) and
 * `c.var.mcpBody` (the JSON body it parsed for the scope check, undefined when there was none; the SDK handlers
 * hand it to the transport so the body is not parsed twice).
 */
export type McpAuthEnv = { Variables: { auth: AuthInfo.AuthInfo; sdkAuthInfo: AuthInfo.SdkAuthInfo; mcpBody: unknown } }

const answer = HttpAnswer.toResponse

/** Options of {@link mcpAuthRoutes}. */
export interface McpAuthRoutesOptions {
  /**
   * The network peer's address, for the OAuth proxy's per-source rate limits (default: the socket address under
   * `@hono/node-server`, else unknown). Hono has no runtime-neutral way to read it.
   */
  readonly remoteAddress?: ((c: Context) => string | undefined) | undefined
}

const nodeRemoteAddress = (c: Context): string | undefined => {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: unknown } } } | undefined
  const address = env?.incoming?.socket?.remoteAddress
  return typeof address === "string" ? address : undefined
}

/**
 * The protected resource metadata documents (both well-known URLs), CORS preflights on the MCP endpoint, and the
 * provider's own routes (the OAuth proxy's endpoints). Mount it before everything else: `app.route("/", mcpAuthRoutes(auth))`.
 */
export const mcpAuthRoutes = (auth: McpAuth.McpAuth, options: McpAuthRoutesOptions = {}): Hono => {
  const routes = new Hono()
  const serve = async (c: Context, next: () => Promise<void>) => {
    const origin = c.req.header("origin")
    const raw = c.req.raw
    const routed = await auth.route(
      auth.isProviderRoute(c.req.path)
        ? {
            method: c.req.method,
            pathname: c.req.path,
            origin,
            // the provider's own routes read the query, headers and, for their POSTs only, a capped body
            search: new URL(raw.url).search,
            headers: Object.fromEntries(raw.headers),
            remoteAddress: (options.remoteAddress ?? nodeRemoteAddress)(c),
            readBody: (maxBytes) => readCapped(raw, maxBytes)
          }
        : { method: c.req.method, pathname: c.req.path, origin }
    )
    if (routed !== undefined) return answer(routed)
    if (c.req.method === "OPTIONS" && auth.isProtected(c.req.path)) return answer(auth.preflight(origin))
    await next()
  }
  routes.use((c, next) => {
    // every request of the application passes here: the ones no route answers go on at once (not an async function,
    // so no promise of its own around the rest of the application)
    if (!auth.isRoute(c.req.path)) {
      if (c.req.method === "OPTIONS" && auth.isProtected(c.req.path)) return Promise.resolve(answer(auth.preflight(c.req.header("origin"))))
      return next()
    }
    return serve(c, next)
  })
  return routes
}

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
    const checked = auth.check({
      authorization: authorization === undefined ? [] : [authorization],
      origin,
      sessionId: c.req.header("mcp-session-id")
    })
    // a verdict known at once (cached key or token) is used as it is, without a promise hop
    const outcome = checked instanceof Promise ? await checked : checked
    if (!outcome.ok) return answer(outcome.answer)
    // the body is read only once the token is valid, so anonymous clients cannot make the server buffer it
    const body = await readJsonBody(c.req.raw)
    if (body.kind === "too_large") return answer(HttpAnswer.jsonRpcError(413, -32600, "Request body too large", outcome.headers))
    if (body.kind === "unreadable") return answer(HttpAnswer.jsonRpcError(400, -32600, "Request body could not be read", outcome.headers))
    if (body.kind === "read") {
      if (body.value !== undefined) {
        const denied = auth.authorizeBody(outcome.authInfo, body.value, origin)
        if (denied !== undefined) return answer(denied)
        c.set("mcpBody", body.value)
      }
      // the stream is spent: what runs next reads these bytes (the SDK handlers take the parsed body instead)
      restoreBody(c.req, body.bytes)
    }
    c.set("auth", outcome.authInfo)
    c.set("sdkAuthInfo", outcome.sdkAuthInfo)
    await next()
    // on the response the handler (or the error handler) made: setting them before `next` would make Hono build a
    // pending response and copy the handler's into a new one on every request
    setHeaders(c, outcome.headers)
  }

const setHeaders = (c: Context, headers: Readonly<Record<string, string>>): void => {
  try {
    for (const name in headers) c.res.headers.set(name, headers[name]!)
  } catch {
    // a response whose headers are immutable (one that came from fetch) is answered as a copy with its own headers
    const { body, status, statusText } = c.res
    const copied = new Headers(c.res.headers)
    for (const name in headers) copied.set(name, headers[name]!)
    c.res = new Response(body, { status, statusText, headers: copied })
  }
}

/** The guard's SDK AuthInfo for the SDK handlers; throws (a 500) when `mcpAuthMiddleware` did not run before them. */
export const sdkAuthInfoOf = (c: Context<McpAuthEnv>): AuthInfo.SdkAuthInfo => {
  const info: AuthInfo.SdkAuthInfo | undefined = c.get("sdkAuthInfo")
  if (info === undefined) throw new Error("@mcp-oauth/hono: mcpAuthMiddleware must run before the MCP handler")
  return info
}
