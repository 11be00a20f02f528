/** Reading a POSTed JSON body from a clone of the request, bounded, so the MCP transport can still read the original. */

/** Largest body read (the MCP SDK's own default is 4 MiB). */
export const maxBodyBytes = 4 * 1024 * 1024

/** The outcome of reading a body: `none` also covers JSON that does not parse (the transport answers it). */
export type BodyRead = { readonly kind: "none" | "too_large" | "unreadable" } | { readonly kind: "json"; readonly value: unknown }

// deliberately loose, a superset of what the SDK transports accept, so no Content-Type gets a body past the step-up check
const looksJson = /json/i

/** Reads and parses a POSTed JSON body; other requests and content types are left unread. */
export const readJsonBody = async (request: Request, limit = maxBodyBytes): Promise<BodyRead> => {
  if (request.method !== "POST" || request.body === null || !looksJson.test(request.headers.get("content-type") ?? "")) {
    return { kind: "none" }
  }
  if (Number(request.headers.get("content-length") ?? 0) > limit) return { kind: "too_large" }
  const decoder = new TextDecoder()
  let text = ""
  try {
    const reader = request.clone().body!.getReader()
    let size = 0
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      size += next.value.byteLength
      if (size > limit) {
        // not awaited: cancelling one branch of a tee settles only once the other branch (the transport's) is cancelled too
        reader.cancel().catch(() => undefined)
        return { kind: "too_large" }
      }
      text += decoder.decode(next.value, { stream: true })
    }
    text += decoder.decode()
  } catch {
    // an already consumed body cannot be cloned; the step-up check cannot run, so the request is refused
    return { kind: "unreadable" }
  }
  try {
    return { kind: "json", value: JSON.parse(text) }
  } catch {
    return { kind: "none" }
  }
}
