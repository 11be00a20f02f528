/**
 * Reading a POSTed JSON body, bounded, for the scope check. The bytes read are handed back so the middleware can give
 * what runs next a request carrying them (internal/restoredBody.ts): teeing the stream (`request.clone()`) cost more
 * than the guard itself.
 */

/** Largest body read (the MCP SDK's own default is 4 MiB). */
export const maxBodyBytes = 4 * 1024 * 1024

/** The outcome of reading a body: `none` also covers JSON that does not parse (the transport answers it). */
export type BodyRead =
  | { readonly kind: "none" | "too_large" | "unreadable" }
  | { readonly kind: "read"; readonly bytes: Uint8Array<ArrayBuffer>; readonly value: unknown }

// deliberately loose, a superset of what the SDK transports accept, so no Content-Type gets a body past the step-up check
const looksJson = /json/i

const parse = (bytes: Uint8Array): unknown => {
  try {
    return JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    return undefined
  }
}

/**
 * Reads and parses a POSTed JSON body, consuming the request's stream; other requests and content types are left
 * unread. `value` is undefined when the bytes are not JSON (the transport answers that).
 */
export const readJsonBody = async (request: Request, limit = maxBodyBytes): Promise<BodyRead> => {
  if (request.method !== "POST" || request.body === null || !looksJson.test(request.headers.get("content-type") ?? "")) {
    return { kind: "none" }
  }
  const bytes = await readCapped(request, limit)
  if (bytes === "too_large" || bytes === "unreadable") return { kind: bytes }
  return { kind: "read", bytes, value: parse(bytes) }
}

/**
 * Reads a web request's body, at most `limit` bytes: `too_large` as soon as more arrived (the rest is left unread),
 * `unreadable` when the stream fails or was already consumed.
 */
export const readCapped = async (request: Request, limit: number): Promise<Uint8Array<ArrayBuffer> | "too_large" | "unreadable"> => {
  if (Number(request.headers.get("content-length") ?? 0) > limit) return "too_large"
  if (request.body === null) return new Uint8Array()
  const chunks: Array<Uint8Array> = []
  let size = 0
  try {
    const reader = request.body.getReader()
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      size += next.value.byteLength
      if (size > limit) {
        reader.cancel().catch(() => undefined)
        return "too_large"
      }
      chunks.push(next.value)
    }
  } catch {
    return "unreadable"
  }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return bytes
}
