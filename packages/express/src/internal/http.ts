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

/**
 * Reads a raw body for the provider's routes, at most `limit` bytes. When a body parser already consumed the stream
 * (an `express.json()` or `express.urlencoded()` mounted before the router), the parsed body is serialized back.
 */
export const readRawBody = async (
  req: IncomingMessage & { body?: unknown; _body?: boolean },
  limit: number
): Promise<Uint8Array | "too_large" | "unreadable"> => {
  const capped = (bytes: Uint8Array) => (bytes.byteLength > limit ? "too_large" : bytes)
  if (req._body === true || req.readableEnded) {
    const body = req.body
    if (typeof body === "string") return capped(new TextEncoder().encode(body))
    if (body instanceof Uint8Array) return capped(body)
    if (typeof body !== "object" || body === null) return new Uint8Array()
    const type = String(req.headers["content-type"] ?? "").toLowerCase()
    if (type.startsWith("application/x-www-form-urlencoded")) {
      const entries = Object.entries(body as Record<string, unknown>)
      if (!entries.every(([, v]) => typeof v === "string")) return "unreadable"
      return capped(new TextEncoder().encode(new URLSearchParams(entries as Array<[string, string]>).toString()))
    }
    return capped(new TextEncoder().encode(JSON.stringify(body)))
  }
  if (Number(req.headers["content-length"] ?? 0) > limit) return "too_large"
  const chunks: Array<Buffer> = []
  let size = 0
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length
      if (size > limit) return "too_large"
      chunks.push(chunk as Buffer)
    }
  } catch {
    return "unreadable"
  }
  return new Uint8Array(Buffer.concat(chunks))
}
