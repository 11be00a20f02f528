import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BrowserDriver, findPostForm } from "../src/index.js"

describe("findPostForm", () => {
  it("reads the action, hidden fields and the chosen button, decoding entities", () => {
    const html =
      `<form method="get" action="/search"><input type="hidden" name="q" value="x"></form>` +
      `<form method="post" action="http:&#47;&#47;127.0.0.1:1&#47;consent"><input type="hidden" name="request_id" value="a&amp;b">` +
      `<input type="text" name="free" value="ignored"><button type="submit" name="decision" value="approve">Allow</button>` +
      `<button type="submit" name="decision" value="deny">Deny</button></form>`
    expect(findPostForm(html, "http://127.0.0.1:1/authorize", "deny")).toEqual({
      action: "http://127.0.0.1:1/consent",
      fields: [["request_id", "a&b"], ["decision", "deny"]]
    })
    expect(findPostForm(html, "http://127.0.0.1:1/authorize")?.fields.at(-1)).toEqual(["decision", "approve"])
    expect(findPostForm("<p>no form</p>", "http://127.0.0.1:1/")).toBeUndefined()
  })
})

describe("BrowserDriver consent and cookie prefixes", () => {
  let origin: string
  const posts: Array<string> = []
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost")
    if (url.pathname === "/page") {
      res.writeHead(200, {
        "content-type": "text/html",
        "set-cookie": [
          "__Host-ok=1; Path=/; Secure; HttpOnly",
          "__Host-nosecure=1; Path=/",
          "__Host-path=1; Path=/x; Secure",
          "__Secure-ok=1; Secure"
        ]
      })
      return res.end(`<form method="post" action="/submit"><input type="hidden" name="t" value="1"><button name="d" value="approve">ok</button></form>`)
    }
    if (url.pathname === "/submit") {
      let body = ""
      req.on("data", (c: Buffer) => (body += c))
      req.on("end", () => {
        posts.push(`${req.headers.cookie} | ${req.headers.origin} | ${body}`)
        res.writeHead(302, { location: "http://127.0.0.1:65535/done?code=1" })
        res.end()
      })
      return
    }
    res.writeHead(404)
    res.end()
  })
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()))
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it("keeps prefixed cookies only with the attributes browsers require; loopback http is a secure context", async () => {
    const browser = new BrowserDriver()
    await (await browser.request(`${origin}/page`)).text()
    expect(browser.cookieHeader(`${origin}/`)).toBe("__Host-ok=1; __Secure-ok=1")
  })

  it("stops at a page with a form by default, and submits it (with Origin) when told to approve consent", async () => {
    await expect(new BrowserDriver().navigate(`${origin}/page`, "http://127.0.0.1:65535/")).rejects.toThrow(/navigation stopped/)
    const approving = new BrowserDriver({ approveConsent: true })
    const reached = await approving.navigate(`${origin}/page`, "http://127.0.0.1:65535/")
    expect(reached.searchParams.get("code")).toBe("1")
    expect(posts.at(-1)).toBe(`__Host-ok=1; __Secure-ok=1 | ${origin} | t=1&d=approve`)
  })
})
