/** Reading answers the way the library's outbound fetches do: which answers are documents, which URLs endpoints. */
import * as ResourceUrl from "@mcp-oauth/auth-core/ResourceUrl"
import { type Exchange, isHtml, json } from "../Probe.js"

/** Why an answer is not a metadata document, in the terms the library's discovery uses; undefined when it is one. */
export const answerProblem = (exchange: Exchange): string | undefined => {
  if (exchange.status >= 300 && exchange.status < 400) {
    return `redirect ${exchange.status} to ${exchange.headers["location"] ?? "(no location)"} (redirects are not followed)`
  }
  if (exchange.status < 200 || exchange.status >= 300) return `HTTP ${exchange.status}`
  if (isHtml(exchange)) return "an HTML page, not JSON"
  if (json(exchange) === undefined) return "not JSON"
  return undefined
}

/** An endpoint URL as the library accepts one: absolute, https unless the host is loopback. */
export const endpointProblem = (value: string): string | undefined => {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return "is not an absolute URL"
  }
  if (url.protocol === "https:") return undefined
  if (url.protocol === "http:" && ResourceUrl.isLoopback(url)) return undefined
  return "must use https"
}
