/** The proxy's HTML pages (consent, errors): escaped text only, a strict Content-Security-Policy, no framing. */
import { createHash } from "node:crypto"
import type { HttpAnswer } from "../../HttpAnswer.js"

/** Escapes text for HTML element content and double-quoted attribute values. */
export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"'`=/]/g, (c) => `&#${c.charCodeAt(0)};`)

const style =
  "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b;line-height:1.5}" +
  "h1{font-size:1.4rem}code{background:#f2f2f2;padding:0 .25rem;border-radius:3px;word-break:break-all}" +
  "ul{padding-left:1.25rem}.actions{display:flex;gap:.75rem;margin-top:1.5rem}" +
  "button{font-size:1rem;padding:.5rem 1.25rem;border-radius:6px;border:1px solid #888;background:#fff;cursor:pointer}" +
  "button.primary{background:#1b4ed8;border-color:#1b4ed8;color:#fff}.note{color:#555;font-size:.9rem}"

// the only style allowed to apply, by hash: no other inline style or script can run on these pages
const styleHash = createHash("sha256").update(style).digest("base64")

/**
 * The Content-Security-Policy of every page: nothing may load or run but the one stylesheet, no `<base>`, no
 * framing (clickjacking of the consent button). `form-action` is left open on purpose: browsers apply it to the
 * redirect after a form POST, and the consent POST redirects to the identity provider or the client's redirect URI.
 */
export const contentSecurityPolicy = `default-src 'none'; style-src 'sha256-${styleHash}'; base-uri 'none'; frame-ancestors 'none'`

/** Headers of every HTML page. */
export const pageHeaders: Readonly<Record<string, string>> = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": contentSecurityPolicy,
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
  pragma: "no-cache"
}

/** A whole page; `body` must already be escaped HTML. */
export const page = (
  status: number,
  title: string,
  body: string,
  headers: Readonly<Record<string, string>> = {}
): HttpAnswer => ({
  status,
  headers: { ...pageHeaders, ...headers },
  body:
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
    `<meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title><style>${style}</style></head>` +
    `<body>${body}</body></html>`
})

/**
 * An error page: a fixed title and a message written by this library (never request or upstream text). A 503 says
 * when to try again, as every other unavailable answer of this library does.
 */
export const errorPage = (status: number, message: string): HttpAnswer =>
  page(status, "Authorization error", `<h1>Authorization error</h1><p>${escapeHtml(message)}</p>`, status === 503 ? { "retry-after": "5" } : {})
