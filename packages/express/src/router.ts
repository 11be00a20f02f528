/** The Express middleware serving the metadata documents and CORS preflights of the MCP endpoint. */
import type { RequestHandler } from "express"
import type { McpAuth } from "@mcp-oauth/auth-core"
import { pathnameOf, readRawBody, writeAnswer } from "./internal/http.js"

/**
 * A middleware to mount at the application root, before the MCP routes: it answers the protected resource metadata
 * (RFC 9728) at its well-known paths, CORS preflights on the MCP endpoint and below (Express would otherwise
 * answer them itself with a bare `Allow`), and the provider's own routes (the OAuth proxy's endpoints; mount it
 * before body parsers so it reads their bodies itself). Everything else goes on to the next handler in the same tick.
 */
export const mcpAuthRouter = (auth: McpAuth.McpAuth): RequestHandler =>
  // a plain middleware, not an Express Router: a nested router hands every request it does not answer back to the
  // application through setImmediate, an event-loop turn per request (bench/README.md)
  (req, res, next) => {
    const pathname = pathnameOf(req.originalUrl)
    const origin = req.headers.origin
    // every request of the application passes here: the ones no route answers go on at once, without a promise
    if (!auth.isRoute(pathname)) {
      if (req.method === "OPTIONS" && auth.isProtected(pathname)) return writeAnswer(res, auth.preflight(origin))
      return next()
    }
    const query = req.originalUrl.indexOf("?")
    auth
      .route({
        method: req.method,
        pathname,
        origin,
        // the provider's own routes (OAuth proxy) read the query, headers and, for their POSTs only, a capped body
        search: query < 0 ? "" : req.originalUrl.slice(query),
        headers: req.headers,
        remoteAddress: req.socket.remoteAddress,
        readBody: (maxBytes) => readRawBody(req, maxBytes)
      })
      .then((answer) => {
        if (answer !== undefined) return writeAnswer(res, answer)
        if (req.method === "OPTIONS" && auth.isProtected(pathname)) return writeAnswer(res, auth.preflight(origin))
        next()
      }, next)
  }
