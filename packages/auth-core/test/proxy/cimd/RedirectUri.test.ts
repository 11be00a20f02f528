import { assert, describe, it } from "@effect/vitest"
import * as RedirectUri from "../../../src/proxy/cimd/RedirectUri.js"

describe("RedirectUri.check", () => {
  it("accepts https and loopback http", () => {
    for (const uri of [
      "https://client.example/callback",
      "https://client.example:8443/cb?x=1",
      "http://127.0.0.1/callback",
      "http://127.0.0.1:3334/callback",
      "http://[::1]:8080/cb",
      "http://localhost:5173/oauth/callback",
      "https://xn--bcher-kva.example/cb"
    ]) {
      assert.isUndefined(RedirectUri.check(uri), uri)
    }
  })

  it("refuses script, data and file schemes, credentials, fragments, wildcards and parser tricks", () => {
    const cases: ReadonlyArray<readonly [string, RedirectUri.RedirectUriProblem]> = [
      ["javascript:alert(1)", "scheme"],
      ["JavaScript://%0aalert(1)", "scheme"],
      ["data:text/html,hi", "scheme"],
      ["file:///etc/passwd", "scheme"],
      ["vbscript:msgbox", "scheme"],
      ["com.example.app:/callback", "scheme"],
      ["http://client.example/callback", "insecure"],
      ["http://127.0.0.1.nip.io/callback", "insecure"],
      ["http://localhost.evil.example/cb", "insecure"],
      ["https://good.example@evil.example/cb", "userinfo"],
      ["http://localhost:1@evil.example/cb", "userinfo"],
      ["https://a:b@client.example/cb", "userinfo"],
      ["https://client.example/cb#frag", "fragment"],
      ["https://client.example/cb#", "fragment"],
      ["https://*.client.example/cb", "wildcard"],
      ["https://client.example/*", "wildcard"],
      ["https://client.example\\@evil.example/cb", "characters"],
      ["https://client.example/c b", "characters"],
      ["https://client.example/c\tb", "characters"],
      ["https://client.example/<script>", "characters"],
      ["https:client.example/cb", "not_a_url"],
      ["https:/client.example/cb", "not_a_url"],
      ["/relative/callback", "not_a_url"],
      ["", "characters"],
      [`https://client.example/${"a".repeat(2000)}`, "too_long"]
    ]
    for (const [uri, problem] of cases) assert.strictEqual(RedirectUri.check(uri), problem, uri)
    for (const problem of Object.keys(RedirectUri.descriptions)) assert.isString(RedirectUri.descriptions[problem as RedirectUri.RedirectUriProblem])
  })

  it("tells loopback redirect URIs apart", () => {
    assert.isTrue(RedirectUri.isLoopbackRedirect("http://127.0.0.1:1234/cb"))
    assert.isTrue(RedirectUri.isLoopbackRedirect("http://[::1]/cb"))
    assert.isTrue(RedirectUri.isLoopbackRedirect("http://localhost/cb"))
    assert.isFalse(RedirectUri.isLoopbackRedirect("https://127.0.0.1/cb"))
    assert.isFalse(RedirectUri.isLoopbackRedirect("http://client.example/cb"))
    assert.isFalse(RedirectUri.isLoopbackRedirect("not a url"))
  })
})
