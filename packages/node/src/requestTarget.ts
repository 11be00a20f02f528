/** The path and query of an HTTP request target, read as the WHATWG URL parser reads them. */

/** A request target's path and query string (`?` included, or empty). */
export interface RequestTarget {
  readonly pathname: string
  readonly search: string
}

// a path of non-empty segments of unreserved characters, no `.` or `..` segment: the URL parser would return it as it
// is, so the common request (`/mcp`, `/.well-known/...`) is not parsed on every call
const plainPath = /^(?:\/(?:[A-Za-z0-9\-_~]+(?:\.[A-Za-z0-9\-_~]+)*|(?:\.[A-Za-z0-9\-_~]+)+))*\/?$/

/** The path and query of `target` (a request's `url`), `/` when it cannot be parsed. */
export const requestTarget = (target: string | undefined): RequestTarget => {
  if (target !== undefined && plainPath.test(target)) return { pathname: target, search: "" }
  try {
    const url = new URL(target ?? "/", "http://localhost")
    return { pathname: url.pathname, search: url.search }
  } catch {
    return { pathname: "/", search: "" }
  }
}
