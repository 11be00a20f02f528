/** The guard middleware of the MCP endpoint. */
import type { Request, RequestHandler } from "express"
import type { AuthInfo, HttpAnswer, McpAuth } from "@mcp-oauth/auth-core"
import { authorizationValues, headerValue, writeAnswer } from "./internal/http.js"

/**
 * An Express request after {@link requireMcpAuth}: `auth` is the MCP SDK's AuthInfo, which the SDK transports hand
 * to tools (v1 `extra.authInfo`, v2 `ctx.http.authInfo`). A local type, not an augmentation: the SDKs augment
 * Express's `Request` themselves, and a second declaration would conflict with theirs.
 */
export type AuthenticatedRequest = Request & { auth?: AuthInfo.SdkAuthInfo }

const unavailable: HttpAnswer.HttpAnswer = {
  status: 503,
  headers: { "content-type": "application/json", "cache-control": "no-store", "retry-after": "5" },
  body: JSON.stringify({ error: "temporarily_unavailable", error_description: "Authentication is unavailable; try again later" })
}

/**
 * Lets a request through only with a valid bearer token for this resource, setting `req.auth`; otherwise answers
 * with the exact challenge (400, 401, 403, 503, never 500). Mount `express.json()` before it so the JSON-RPC body
 * is read and per-tool scopes are required here (403 `insufficient_scope`, which clients answer with step-up).
 */
export const requireMcpAuth = (auth: McpAuth.McpAuth): RequestHandler => (req, res, next) => {
  const origin = req.headers.origin
  if (req.method === "OPTIONS") return writeAnswer(res, auth.preflight(origin))
  const body: unknown = req.body
  let checked: McpAuth.GuardOutcome | Promise<McpAuth.GuardOutcome>
  try {
    checked = auth.check({ authorization: authorizationValues(req), origin, sessionId: headerValue(req.headers["mcp-session-id"]), body })
  } catch {
    return writeAnswer(res, unavailable)
  }
  const settle = (outcome: McpAuth.GuardOutcome): void => {
    if (!outcome.ok) return writeAnswer(res, outcome.answer)
    ;(req as AuthenticatedRequest).auth = outcome.sdkAuthInfo
    for (const name in outcome.headers) res.setHeader(name, outcome.headers[name]!)
    next()
  }
  // a verdict known at once (cached key or token) goes on in the same tick; one that waits on the network is awaited
  if (!(checked instanceof Promise)) return settle(checked)
  checked.catch((): McpAuth.GuardOutcome => ({ ok: false, answer: unavailable })).then(settle).catch(next)
}
