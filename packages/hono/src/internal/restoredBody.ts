/**
 * Handing a body the guard has read on to whatever runs next. Building a second `Request` around the bytes costs
 * about as much as the guard itself (undici copies the headers and wraps the bytes in a stream), and the SDK handlers
 * of this package never need it: they take the parsed body and the request as it arrived. So the rebuilt request is
 * made only when something reads `c.req.raw` (or `c.req.method`, `c.req.header()`, `c.req.json()`, which read it).
 */
import type { HonoRequest } from "hono"

// the request as it arrived (body spent), per Hono request the guard read
const arrived = new WeakMap<HonoRequest, Request>()

/** The same request with its (already read) body replaced by `bytes`. */
const withBody = (request: Request, bytes: Uint8Array<ArrayBuffer>): Request =>
  new Request(request.url, { method: request.method, headers: request.headers, body: bytes, signal: request.signal })

/** Makes `req.raw` a request carrying `bytes`, built on first use; an assignment to `req.raw` still replaces it. */
export const restoreBody = (req: HonoRequest, bytes: Uint8Array<ArrayBuffer>): void => {
  const spent = req.raw
  arrived.set(req, spent)
  let restored: Request | undefined
  Object.defineProperty(req, "raw", {
    configurable: true,
    enumerable: true,
    get: () => (restored ??= withBody(spent, bytes)),
    set: (request: Request) => {
      restored = request
      arrived.delete(req)
    }
  })
}

/**
 * The request for a handler that is handed the parsed body: as it arrived, when the guard read its body (method, URL,
 * headers and signal intact, body spent), else `req.raw`.
 */
export const requestAsArrived = (req: HonoRequest): Request => arrived.get(req) ?? req.raw
