/** Reading a JSON request body once, bounded, so the auth layer can see which operations it invokes. */
import type { IncomingMessage } from "node:http"

/** Largest body read (the MCP SDK's own default is 4 MiB). */
export const maxBodyBytes = 4 * 1024 * 1024

/** The outcome of reading a body. */
export type BodyRead =
  | { readonly kind: "none" }
  | { readonly kind: "json"; readonly value: unknown }
  | { readonly kind: "too_large" }
  | { readonly kind: "invalid" }
  | { readonly kind: "unreadable" }

const isJson = (req: IncomingMessage): boolean => /^application\/(?:[\w.+-]+\+)?json\b/i.test(req.headers["content-type"] ?? "")

/**
 * Collects a body of at most `limit` bytes: `too_large` as soon as more is declared or arrives (the request is then
 * destroyed, as nothing more of it will be read), `unreadable` when the stream fails or closes early. Listens to the
 * stream's events rather than iterating it: the async iterator costs a promise per chunk on every request.
 */
const collect = (req: IncomingMessage, limit: number): Promise<Buffer | "too_large" | "unreadable"> => {
  if (Number(req.headers["content-length"] ?? 0) > limit) return Promise.resolve("too_large")
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0))
  return new Promise((resolve) => {
    const chunks: Array<Buffer> = []
    let size = 0
    const finish = (outcome: Buffer | "too_large" | "unreadable"): void => {
      req.off("data", onData)
      req.off("end", onEnd)
      req.off("error", onError)
      req.off("close", onClose)
      resolve(outcome)
    }
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > limit) {
        finish("too_large")
        req.destroy()
        return
      }
      chunks.push(chunk)
    }
    const onEnd = (): void => finish(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))
    const onError = (): void => finish("unreadable")
    // closed before its end: the client went away mid-body
    const onClose = (): void => finish("unreadable")
    req.on("data", onData)
    req.on("end", onEnd)
    req.on("error", onError)
    req.on("close", onClose)
  })
}

/**
 * Reads and parses a POSTed JSON body; other requests and content types are left unread. `invalid`: not JSON;
 * `unreadable`: the stream failed or the client went away mid-body.
 */
export const readJsonBody = async (req: IncomingMessage, limit = maxBodyBytes): Promise<BodyRead> => {
  if (req.method !== "POST" || !isJson(req)) return { kind: "none" }
  const body = await collect(req, limit)
  if (body === "too_large" || body === "unreadable") return { kind: body }
  try {
    return { kind: "json", value: JSON.parse(body.toString("utf8")) }
  } catch {
    return { kind: "invalid" }
  }
}

/**
 * Reads a raw body, resolving to `too_large` as soon as more than `limit` bytes are declared or arrive (the OAuth
 * proxy's POST routes read theirs through this, with their own small caps).
 */
export const readRawBody = (req: IncomingMessage, limit: number): Promise<Uint8Array | "too_large" | "unreadable"> =>
  collect(req, limit)
