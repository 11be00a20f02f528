/** The node:http guard: metadata routes, CORS and bearer verification in front of an MCP request handler. */
import type { IncomingMessage, ServerResponse } from "node:http"
import type { AuthInfo, McpAuth } from "@mcp-oauth/auth-core"
import { writeAnswer } from "./writeAnswer.js"

/** A node:http request as the MCP SDK reads it: `auth` is the SDK's AuthInfo. */
export type AuthenticatedRequest = IncomingMessage & { auth?: AuthInfo.SdkAuthInfo }

/** A node:http handler. */
export type NodeHandler = (req: AuthenticatedRequest, res: ServerResponse) => void | Promise<void>

/**
 * Every `Authorization` header value as sent: node keeps only the first in `req.headers`,
 * so duplicates are read from `rawHeaders` to refuse them.
 */
export const authorizationValues = (req: IncomingMessage): Array<string> => {
  const values: Array<string> = []
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() === "authorization") values.push(req.rawHeaders[i + 1]!)
  }
  return values
}

const pathnameOf = (req: IncomingMessage): string => {
  try {
    return new URL(req.url ?? "/", "http://localhost").pathname
  } catch {
    return "/"
  }
}

/**
 * Wraps `next` (typically the MCP SDK transport): serves the metadata documents, answers preflights, and lets
 * requests to the MCP endpoint through only with a valid token, setting `req.auth`. Other paths go to `next` untouched.
 */
export const protect = (auth: McpAuth.McpAuth, next: NodeHandler): NodeHandler => async (req, res) => {
  const pathname = pathnameOf(req)
  const origin = req.headers.origin
  const method = req.method ?? "GET"
  const routed = await auth.route({ method, pathname, origin })
  if (routed !== undefined) return writeAnswer(res, routed)
  if (!auth.isProtected(pathname)) return next(req, res)
  if (method === "OPTIONS") return writeAnswer(res, auth.preflight(origin))
  const outcome = await auth.guard({ authorization: authorizationValues(req), origin })
  if (!outcome.ok) return writeAnswer(res, outcome.answer)
  req.auth = outcome.sdkAuthInfo
  for (const [name, value] of Object.entries(outcome.headers)) res.setHeader(name, value)
  return next(req, res)
}
