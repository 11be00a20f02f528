/** The guard middleware of the MCP endpoint. */
import type { NextFunction, Request, RequestHandler, Response } from "express"
import { type AuthInfo, HttpAnswer, type McpAuth } from "@mcp-oauth/auth-core"
import { maxBodyBytes, readJsonBody } from "@mcp-oauth/node"
import { authorizationValues, headerValue, writeAnswer } from "./internal/http.js"

/**
 * An Express request after {@link requireMcpAuth}: `auth` is the MCP SDK's AuthInfo, which the SDK transports hand
 * to tools (v1 `extra.authInfo`, v2 `ctx.http.authInfo`). A local type, not an augmentation: the SDKs augment
 * Express's `Request` themselves, and a second declaration would conflict with theirs.
 */
export type AuthenticatedRequest = Request & { auth?: AuthInfo.SdkAuthInfo }

const unavailable = HttpAnswer.authUnavailable

/** Options of {@link requireMcpAuth}. */
export interface RequireMcpAuthOptions {
  /** The largest JSON body the guard reads itself when no body parser ran before it (default 4 MiB, the SDK's own). */
  readonly maxBodyBytes?: number | undefined
}

type ParsedRequest = AuthenticatedRequest & { _body?: boolean }

// no body parser ran before the guard: the body is the guard's to read (the node adapter's reader, which reads only
// POSTed JSON), once the token is known to be valid
const unparsed = (req: ParsedRequest): boolean => req.body === undefined && req._body !== true && !req.readableEnded

/**
 * Lets a request through only with a valid bearer token for this resource, setting `req.auth`; otherwise answers
 * with the exact challenge (400, 401, 403, 503, never 500). Mounted without a body parser before it, it reads the
 * JSON-RPC body itself only after the token verified (so anonymous clients cannot make the server buffer a body),
 * requires the per-tool scopes (403 `insufficient_scope` for step-up) and leaves the parsed body in `req.body`. With
 * `express.json()` mounted before it, it uses the parsed body.
 */
export const requireMcpAuth = (auth: McpAuth.McpAuth, options: RequireMcpAuthOptions = {}): RequestHandler => {
  const limit = options.maxBodyBytes ?? maxBodyBytes
  // the steps after the verdict are made once, not per request: they take the request as arguments
  const settle = (req: Request, res: Response, next: NextFunction, outcome: McpAuth.GuardOutcome): void => {
    if (!outcome.ok) return writeAnswer(res, outcome.answer)
    if (unparsed(req as ParsedRequest)) {
      readThenPass(req, res, next, outcome).catch(next)
      return
    }
    pass(req, res, next, outcome)
  }
  const readThenPass = async (req: Request, res: Response, next: NextFunction, outcome: Accepted): Promise<void> => {
    const body = await readJsonBody(req, limit)
    if (body.kind === "none") return pass(req, res, next, outcome)
    if (body.kind === "too_large") return writeAnswer(res, HttpAnswer.jsonRpcError(413, -32600, "Request body too large", outcome.headers))
    if (body.kind === "unreadable") return writeAnswer(res, HttpAnswer.jsonRpcError(400, -32600, "Request body could not be read", outcome.headers))
    if (body.kind === "invalid") return writeAnswer(res, HttpAnswer.jsonRpcError(400, -32700, "Parse error", outcome.headers))
    const parsed = body.value
    const denied = auth.authorizeBody(outcome.authInfo, parsed, req.headers.origin)
    if (denied !== undefined) return writeAnswer(res, denied)
    // marked as parsed, so an express.json() mounted after the guard leaves it alone
    ;(req as ParsedRequest).body = parsed
    ;(req as ParsedRequest)._body = true
    pass(req, res, next, outcome)
  }

  return (req, res, next) => {
    const origin = req.headers.origin
    if (req.method === "OPTIONS") return writeAnswer(res, auth.preflight(origin))
    const body: unknown = req.body
    let checked: McpAuth.GuardOutcome | Promise<McpAuth.GuardOutcome>
    try {
      checked = auth.check({ authorization: authorizationValues(req), origin, sessionId: headerValue(req.headers["mcp-session-id"]), body })
    } catch {
      return writeAnswer(res, unavailable)
    }
    // a verdict known at once (cached key or token) goes on in the same tick; one that waits on the network is awaited
    if (!(checked instanceof Promise)) return settle(req, res, next, checked)
    checked
      .catch((): McpAuth.GuardOutcome => ({ ok: false, answer: unavailable }))
      .then((outcome) => settle(req, res, next, outcome))
      .catch(next)
  }
}

type Accepted = McpAuth.GuardOutcome & { ok: true }

const pass = (req: Request, res: Response, next: NextFunction, outcome: Accepted): void => {
  ;(req as AuthenticatedRequest).auth = outcome.sdkAuthInfo
  for (const name in outcome.headers) res.setHeader(name, outcome.headers[name]!)
  next()
}
