/**
 * A headless "browser" for authorization flows: a cookie jar and manual redirect following.
 *
 * @since 0.1.0
 */

interface Cookie {
  readonly name: string
  readonly value: string
  readonly host: string
  readonly hostOnly: boolean
  readonly path: string
  readonly secure: boolean
  readonly expiresAt: number
}

/** Options of a {@link BrowserDriver}. */
export interface BrowserDriverOptions {
  /** Most redirects followed by one navigation (default 20). */
  readonly maxRedirects?: number
  /** The fetch used for every request (default the global fetch). */
  readonly fetch?: typeof globalThis.fetch
  /**
   * Approve consent pages met during a navigation (default false): an HTML page with a POST form is submitted with
   * its hidden fields and its `approve` button (or its first submit button), as a user clicking "Allow" would.
   */
  readonly approveConsent?: boolean
}

/** A POST form found in an HTML page. */
export interface HtmlForm {
  /** The absolute URL the form posts to. */
  readonly action: string
  /** The fields a click on the chosen button submits. */
  readonly fields: ReadonlyArray<readonly [string, string]>
}

const decodeEntities = (text: string): string =>
  text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (whole, entity: string) => {
    const e = entity.toLowerCase()
    if (e.startsWith("#x")) return String.fromCodePoint(parseInt(e.slice(2), 16))
    if (e.startsWith("#")) return String.fromCodePoint(parseInt(e.slice(1), 10))
    return ({ amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" } as Record<string, string>)[e] ?? whole
  })

const attributesOf = (tag: string): Map<string, string> => {
  const attributes = new Map<string, string>()
  for (const m of tag.matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g)) {
    attributes.set(m[1]!.toLowerCase(), decodeEntities(m[2] ?? m[3] ?? m[4] ?? ""))
  }
  return attributes
}

/**
 * The first POST form of a page, with its hidden inputs and the button `submit` (by value, e.g. `approve`; default
 * the first submit button). Undefined when the page has no POST form.
 */
export const findPostForm = (html: string, pageUrl: string | URL, submit?: string): HtmlForm | undefined => {
  for (const form of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attributes = attributesOf(form[1]!)
    if ((attributes.get("method") ?? "get").toLowerCase() !== "post") continue
    const fields: Array<readonly [string, string]> = []
    for (const input of form[2]!.matchAll(/<input\b([^>]*)>/gi)) {
      const a = attributesOf(input[1]!)
      const name = a.get("name")
      if (name !== undefined && (a.get("type") ?? "text").toLowerCase() === "hidden") fields.push([name, a.get("value") ?? ""])
    }
    const buttons = [...form[2]!.matchAll(/<button\b([^>]*)>/gi)]
      .map((b) => attributesOf(b[1]!))
      .filter((a) => (a.get("type") ?? "submit").toLowerCase() === "submit")
    const button = (submit === undefined ? undefined : buttons.find((a) => a.get("value") === submit)) ?? buttons[0]
    const buttonName = button?.get("name")
    if (button !== undefined && buttonName !== undefined) fields.push([buttonName, button.get("value") ?? ""])
    return { action: new URL(attributes.get("action") ?? "", pageUrl).href, fields }
  }
  return undefined
}

const isLoopbackHost = (host: string): boolean => host === "localhost" || host === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(host)

/** Browsers treat https and loopback http as secure contexts, where `Secure` cookies are set and sent. */
const isSecureContext = (url: URL): boolean => url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(url.hostname))

/** One step of a navigation, for debugging failed flows. */
export interface NavigationStep {
  readonly url: string
  readonly status: number
}

/** Raised when a navigation stops before reaching its target. */
export class NavigationError extends Error {
  /** The steps taken. */
  readonly steps: ReadonlyArray<NavigationStep>
  /** The status of the last response. */
  readonly status: number
  /** The beginning of the last response body. */
  readonly body: string

  constructor(message: string, steps: ReadonlyArray<NavigationStep>, status: number, body: string) {
    super(`${message}\n${steps.map((s) => `  ${s.status} ${s.url}`).join("\n")}\n  body: ${body}`)
    this.name = "NavigationError"
    this.steps = steps
    this.status = status
    this.body = body
  }
}

const defaultPath = (url: URL): string => {
  const path = url.pathname
  if (!path.startsWith("/")) return "/"
  const last = path.lastIndexOf("/")
  return last <= 0 ? "/" : path.slice(0, last)
}

const pathMatches = (requestPath: string, cookiePath: string): boolean =>
  requestPath === cookiePath ||
  (requestPath.startsWith(cookiePath) && (cookiePath.endsWith("/") || requestPath.charAt(cookiePath.length) === "/"))

const parseSetCookie = (header: string, url: URL, now: number): Cookie | undefined => {
  const [pair = "", ...attributes] = header.split(";")
  const eq = pair.indexOf("=")
  if (eq <= 0) return undefined
  const host = url.hostname.toLowerCase()
  let domain: string | undefined
  let path: string | undefined
  let secure = false
  let expiresAt = Infinity
  let maxAgeSeen = false
  for (const attribute of attributes) {
    const i = attribute.indexOf("=")
    const key = (i < 0 ? attribute : attribute.slice(0, i)).trim().toLowerCase()
    const value = i < 0 ? "" : attribute.slice(i + 1).trim()
    if (key === "domain" && value !== "") domain = value.replace(/^\./, "").toLowerCase()
    else if (key === "path" && value.startsWith("/")) path = value
    else if (key === "secure") secure = true
    else if (key === "max-age" && /^-?\d+$/.test(value)) {
      maxAgeSeen = true
      const seconds = Number(value)
      expiresAt = seconds <= 0 ? 0 : now + seconds * 1000
    } else if (key === "expires" && !maxAgeSeen) {
      const date = Date.parse(value)
      if (!Number.isNaN(date)) expiresAt = date
    }
  }
  if (domain !== undefined && host !== domain && !host.endsWith(`.${domain}`)) return undefined
  const name = pair.slice(0, eq).trim()
  // cookie prefixes (RFC 6265bis §4.1.3), enforced as browsers do
  if ((name.startsWith("__Secure-") || name.startsWith("__Host-")) && (!secure || !isSecureContext(url))) return undefined
  if (name.startsWith("__Host-") && (domain !== undefined || path !== "/")) return undefined
  return {
    name: pair.slice(0, eq).trim(),
    value: pair.slice(eq + 1).trim(),
    host: domain ?? host,
    hostOnly: domain === undefined,
    path: path ?? defaultPath(url),
    secure,
    expiresAt
  }
}

/**
 * A cookie-keeping HTTP client that follows redirects by hand (`redirect: "manual"`), the way a browser
 * walks authorize → login → consent → authorize-resume → redirect_uri. Each instance is one browser profile.
 */
export class BrowserDriver {
  readonly #cookies = new Map<string, Cookie>()
  readonly #fetch: typeof globalThis.fetch
  readonly #maxRedirects: number
  readonly #approveConsent: boolean

  constructor(options: BrowserDriverOptions = {}) {
    this.#fetch = options.fetch ?? globalThis.fetch
    this.#maxRedirects = options.maxRedirects ?? 20
    this.#approveConsent = options.approveConsent ?? false
  }

  /** The `Cookie` header value this browser would send to `url`. */
  cookieHeader(url: string | URL): string {
    const target = new URL(url)
    const now = Date.now()
    const host = target.hostname.toLowerCase()
    const matching: Array<Cookie> = []
    for (const [key, cookie] of this.#cookies) {
      if (cookie.expiresAt <= now) {
        this.#cookies.delete(key)
        continue
      }
      const hostOk = cookie.hostOnly ? cookie.host === host : host === cookie.host || host.endsWith(`.${cookie.host}`)
      if (!hostOk || !pathMatches(target.pathname, cookie.path)) continue
      if (cookie.secure && !isSecureContext(target)) continue
      matching.push(cookie)
    }
    matching.sort((a, b) => b.path.length - a.path.length)
    return matching.map((c) => `${c.name}=${c.value}`).join("; ")
  }

  /** Forgets every cookie (a new private window). */
  clearCookies(): void {
    this.#cookies.clear()
  }

  /** One request with this browser's cookies; redirects are returned, not followed. */
  async request(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    const cookie = this.cookieHeader(url)
    if (cookie !== "" && !headers.has("cookie")) headers.set("cookie", cookie)
    const response = await this.#fetch(url, { ...init, headers, redirect: "manual" })
    this.#store(new URL(url), response.headers.getSetCookie())
    return response
  }

  /**
   * Navigates to `url` and follows redirects until one points at a URL starting with `target`
   * (e.g. a client's redirect_uri), which is returned without being requested.
   * Fails with a {@link NavigationError} when a non-redirect response comes first.
   */
  async navigate(url: string | URL, target: string): Promise<URL> {
    let current = new URL(url)
    const steps: Array<NavigationStep> = []
    let pending: RequestInit | undefined
    let consents = 0
    for (let hop = 0; hop <= this.#maxRedirects; hop++) {
      if (current.href.startsWith(target)) return current
      const response = await this.request(current, pending)
      pending = undefined
      steps.push({ url: current.href, status: response.status })
      const location = response.headers.get("location")
      if (response.status >= 300 && response.status < 400 && location !== null) {
        await response.body?.cancel()
        current = new URL(location, current)
        continue
      }
      const text = await response.text()
      const form =
        this.#approveConsent && response.status === 200 && /text\/html/i.test(response.headers.get("content-type") ?? "") && consents < 3
          ? findPostForm(text, current, "approve")
          : undefined
      if (form !== undefined) {
        // the user clicks the approve button: the browser POSTs the form with its Origin
        consents++
        pending = {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", origin: current.origin },
          body: new URLSearchParams(form.fields.map(([n, v]) => [n, v])).toString()
        }
        current = new URL(form.action)
        continue
      }
      throw new NavigationError(`navigation stopped before reaching ${target}`, steps, response.status, text.slice(0, 500))
    }
    throw new NavigationError(`more than ${this.#maxRedirects} redirects`, steps, 0, "")
  }

  #store(url: URL, setCookies: ReadonlyArray<string>): void {
    const now = Date.now()
    for (const header of setCookies) {
      const cookie = parseSetCookie(header, url, now)
      if (cookie === undefined) continue
      const key = `${cookie.host};${cookie.path};${cookie.name}`
      if (cookie.expiresAt <= now) this.#cookies.delete(key)
      else this.#cookies.set(key, cookie)
    }
  }
}
