/** Reading node requests and writing framework-neutral answers, the same on Express 4 and 5. */
import type { IncomingMessage, ServerResponse } from "node:http"
import type { HttpAnswer } from "@mcp-oauth/auth-core"

/** Sends an answer and ends the response, bypassing Express's header rewriting (e.g. charset on content-type). */
export const writeAnswer = (res: ServerResponse, answer: HttpAnswer.HttpAnswer): void => {
  res.writeHead(answer.status, answer.headers as Record<string, string>)
  res.end(answer.body)
}

/** Every `Authorization` value as sent: node keeps only the first in `req.headers`, so read `rawHeaders`. */
export const authorizationValues = (req: IncomingMessage): Array<string> => {
  const values: Array<string> = []
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() === "authorization") values.push(req.rawHeaders[i + 1]!)
  }
  return values
}

/** The absolute path of a request, whatever the router is mounted under. */
export const pathnameOf = (url: string | undefined): string => {
  try {
    return new URL(url ?? "/", "http://localhost").pathname
  } catch {
    return "/"
  }
}

/** A single header value (node joins most duplicates, but `string[]` is possible in the types). */
export const headerValue = (value: string | ReadonlyArray<string> | undefined): string | undefined =>
  typeof value === "string" ? value : value?.[0]
