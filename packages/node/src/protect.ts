/** The node:http guard: metadata routes, CORS and bearer verification in front of an MCP request handler. */
import type { IncomingMessage, ServerResponse } from "node:http"
import { type AuthInfo, HttpAnswer, type McpAuth } from "@mcp-oauth/auth-core"
import { readJsonBody, readRawBody } from "./readJsonBody.js"
import { requestTarget } from "./requestTarget.js"
import { writeAnswer } from "./writeAnswer.js"

/** A node:http request as the MCP SDK reads it: `auth` is the SDK's AuthInfo. */
export type AuthenticatedRequest = IncomingMessage & { auth?: AuthInfo.SdkAuthInfo }

/** A node:http handler; `parsedBody` is the JSON body the guard already read (pass it on to the MCP transport). */
export type NodeHandler = (req: AuthenticatedRequest, res: ServerResponse, parsedBody?: unknown) => void | Promise<void>

/**
 * Every `Authorization` header value as sent: node keeps only the first in `req.headers`,
 * so duplicates are read from `rawHeaders` to refuse them.
 */
export const authorizationValues = (req: IncomingMessage): Array<string> => {
  const values: Array<string> = []
  const raw = req.rawHeaders
  for (let i = 0; i < raw.length; i += 2) {
    // the length first: most header names are not lower-cased at all
    if (raw[i]!.length === 13 && raw[i]!.toLowerCase() === "authorization") values.push(raw[i + 1]!)
  }
  return values
}

/**
 * Wraps `next` (typically the MCP SDK transport): serves the metadata documents, answers preflights, and lets
 * requests to the MCP endpoint through only with a valid token, setting `req.auth`. Other paths go to `next` untouched.
 */
export const protect = (auth: McpAuth.McpAuth, next: NodeHandler): NodeHandler => async (req, res) => {
  const { pathname, search } = requestTarget(req.url)
  const origin = req.headers.origin
  const method = req.method ?? "GET"
  // only the paths `route` answers wait on it; the MCP endpoint and other paths go on at once
  if (auth.isRoute(pathname)) {
    // the provider's own routes (OAuth proxy) read the query, headers and, for their POSTs only, a capped body
    const routed = await auth.route({
      method,
      pathname,
      origin,
      search,
      headers: req.headers,
      remoteAddress: req.socket.remoteAddress,
      readBody: (maxBytes) => readRawBody(req, maxBytes)
    })
    if (routed !== undefined) return writeAnswer(res, routed)
  }
  if (!auth.isProtected(pathname)) return next(req, res)
  if (method === "OPTIONS") return writeAnswer(res, auth.preflight(origin))
  const sessionId = req.headers["mcp-session-id"]
  const checked = auth.check({
    authorization: authorizationValues(req),
    origin,
    sessionId: typeof sessionId === "string" ? sessionId : undefined
  })
  // a verdict known at once (cached key or token) is used as it is, without a promise hop
  const outcome = checked instanceof Promise ? await checked : checked
  if (!outcome.ok) return writeAnswer(res, outcome.answer)
  for (const name in outcome.headers) res.setHeader(name, outcome.headers[name]!)
  // the body is read only after the token is verified, so anonymous clients cannot make us buffer it
  const body = await readJsonBody(req)
  if (body.kind === "too_large") return writeAnswer(res, HttpAnswer.jsonRpcError(413, -32600, "Request body too large"))
  if (body.kind === "invalid") return writeAnswer(res, HttpAnswer.jsonRpcError(400, -32700, "Parse error"))
  if (body.kind === "unreadable") return writeAnswer(res, HttpAnswer.jsonRpcError(400, -32600, "Request body could not be read"))
  if (body.kind === "json") {
    const denied = auth.authorizeBody(outcome.authInfo, body.value, origin)
    if (denied !== undefined) return writeAnswer(res, denied)
  }
  req.auth = outcome.sdkAuthInfo
  return body.kind === "json" ? next(req, res, body.value) : next(req, res)
}
