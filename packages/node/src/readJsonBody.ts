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

const isJson = (req: IncomingMessage): boolean => /^application\/(?:[\w.+-]+\+)?json\b/i.test(req.headers["content-type"] ?? "")

/** Reads and parses a POSTed JSON body; other requests and content types are left unread. */
export const readJsonBody = async (req: IncomingMessage, limit = maxBodyBytes): Promise<BodyRead> => {
  if (req.method !== "POST" || !isJson(req)) return { kind: "none" }
  if (Number(req.headers["content-length"] ?? 0) > limit) return { kind: "too_large" }
  const chunks: Array<Buffer> = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > limit) return { kind: "too_large" }
    chunks.push(chunk as Buffer)
  }
  try {
    return { kind: "json", value: JSON.parse(Buffer.concat(chunks).toString("utf8")) }
  } catch {
    return { kind: "invalid" }
  }
}

/**
 * Reads a raw body, resolving to `too_large` as soon as more than `limit` bytes are declared or arrive (the OAuth
 * proxy's POST routes read theirs through this, with their own small caps).
 */
export const readRawBody = async (req: IncomingMessage, limit: number): Promise<Uint8Array | "too_large" | "unreadable"> => {
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
