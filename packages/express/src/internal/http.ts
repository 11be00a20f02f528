/**
 * Reading node requests the Express way, the same on Express 4 and 5. Answers, `Authorization` values and raw bodies
 * are read and written as the node adapter does (re-exported from it), since Express runs on node:http.
 */
import type { IncomingMessage } from "node:http"
import { readRawBody as readStream, requestTarget } from "@mcp-oauth/node"

export { authorizationValues, writeAnswer } from "@mcp-oauth/node"

/** The absolute path of a request (its `originalUrl`), whatever the router is mounted under. */
export const pathnameOf = (url: string | undefined): string => requestTarget(url).pathname

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
  return readStream(req, limit)
}
