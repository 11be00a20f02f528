/**
 * Client ID Metadata Documents through the proxy (the fetching, its SSRF guards and their tests belong to `cimd/`):
 * an https `client_id` naming a document is a public client whose redirect URIs come from that document, and whose
 * host the consent page shows. Serving the document from 127.0.0.1 needs the test-only `allowPrivateNetworks`; a
 * proxy without it never fetches such a URL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BrowserDriver, createPkce } from "@mcp-oauth/testing"
import {
  authorizeUrl,
  CLIENT_REDIRECT,
  type FakeServer,
  type ProxyStack,
  startFakeServer,
  startProxyStack,
  tokenRequest,
  whoami
} from "./support/proxyStack.js"

describe("OAuth proxy with Client ID Metadata Documents", () => {
  let documents: FakeServer
  let open: ProxyStack
  let guarded: ProxyStack
  let clientId: string
  beforeAll(async () => {
    documents = await startFakeServer((req, res) => {
      res.writeHead(200, { "content-type": "application/json", "cache-control": "max-age=60" })
      res.end(
        JSON.stringify({
          client_id: `${documents.url}${req.url}`,
          client_name: "Metadata document client",
          redirect_uris: [CLIENT_REDIRECT],
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"],
          token_endpoint_auth_method: "none"
        })
      )
    })
    clientId = `${documents.url}/client.json`
    open = await startProxyStack({ proxy: { clientIdMetadataDocuments: { allowPrivateNetworks: true } } })
    guarded = await startProxyStack()
  })
  afterAll(async () => {
    await open?.close()
    await guarded?.close()
    await documents?.close()
  })

  it("advertises client_id_metadata_document_supported", async () => {
    const metadata = (await (await fetch(`${guarded.origin}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>
    expect(metadata["client_id_metadata_document_supported"]).toBe(true)
  })

  it("runs the flow for a client described by its document, showing the document's host on the consent page", async () => {
    const pkce = createPkce()
    const url = authorizeUrl(open, { client_id: clientId }, pkce, { login_hint: "erin" })
    const page = await (await new BrowserDriver().request(url)).text()
    expect(page).toContain("Metadata document client")
    expect(page).toContain(new URL(documents.url).host)
    const callback = await new BrowserDriver({ approveConsent: true }).navigate(url, CLIENT_REDIRECT)
    const tokens = await tokenRequest(open.origin, {
      grant_type: "authorization_code",
      code: callback.searchParams.get("code")!,
      redirect_uri: CLIENT_REDIRECT,
      code_verifier: pkce.verifier,
      client_id: clientId
    })
    expect(tokens.status).toBe(200)
    const result = await whoami(open.resource, tokens.body["access_token"] as string)
    expect(result.result?.["clientId"]).toBe(clientId)
    // a redirect URI the document does not list is refused before any redirect
    const other = await fetch(authorizeUrl(open, { client_id: clientId }, pkce, { redirect_uri: "https://evil.example/cb" }), { redirect: "manual" })
    expect(other.status).toBe(400)
  })

  it("does not fetch a loopback document URL without the test-only opt-in", async () => {
    const before = documents.requests.length
    const response = await fetch(authorizeUrl(guarded, { client_id: clientId }, createPkce()), { redirect: "manual" })
    expect(response.status).toBe(400)
    expect(response.headers.get("location")).toBeNull()
    expect(documents.requests.length).toBe(before)
  })
})
