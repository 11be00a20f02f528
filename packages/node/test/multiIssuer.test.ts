/**
 * Several authorization servers behind one MCP server: routing by the token's `iss` before any key fetch, the
 * merged protected resource metadata, and an opaque-token fallback by introspection, all at the HTTP level.
 */
import { Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Custom, McpAuth } from "@mcp-oauth/auth-core"
import * as MultiIssuer from "@mcp-oauth/auth-core/MultiIssuer"
import * as Introspection from "@mcp-oauth/auth-core/providers/Introspection"
import { getTokens, startTestIdp, startTokenForge, type TestIdp, type TokenForge } from "@mcp-oauth/testing"
import { listen } from "../src/index.js"
import { statelessHandlerV1 } from "../src/sdkV1.js"
import { callTool, createWhoamiServer, freePort } from "./support/harness.js"

const toolResult = async (response: Response) => {
  const text = await response.text()
  const body = text.startsWith("{") ? text : (text.split("\n").find((l) => l.startsWith("data:")) ?? "").slice(5)
  return JSON.parse(JSON.parse(body).result.content[0].text)
}

const start = async (port: number, layer: Parameters<typeof McpAuth.layer>[1]) => {
  const resource = `http://127.0.0.1:${port}/mcp`
  const auth = await McpAuth.make(McpAuth.layer({ resource, scopesSupported: ["mcp"], resourceName: "multi" }, layer))
  const running = await listen(auth, statelessHandlerV1(createWhoamiServer), { port })
  return { running, origin: `http://127.0.0.1:${port}`, metadataUrl: auth.metadataUrl }
}

const invalidToken = (metadataUrl: string, description: string, scope = "mcp") =>
  `Bearer resource_metadata="${metadataUrl}", scope="${scope}", error="invalid_token", error_description="${description}"`

describe("two JWT issuers behind one server", () => {
  let forgeA: TokenForge
  let forgeB: TokenForge
  let forgeC: TokenForge
  let server: Awaited<ReturnType<typeof start>>
  const requestsToForges = () => forgeA.requests() + forgeB.requests() + forgeC.requests()

  beforeAll(async () => {
    const port = await freePort()
    const audience = `http://127.0.0.1:${port}/mcp`
    ;[forgeA, forgeB, forgeC] = await Promise.all([
      startTokenForge({ audience }),
      startTokenForge({ audience, scope: "mcp extra" }),
      startTokenForge({ audience })
    ])
    // A's key set is configured, B's is discovered through its metadata
    server = await start(
      port,
      MultiIssuer.layer([
        Custom.layer({ issuer: forgeA.issuer, jwksUri: forgeA.jwksUri, scopes: ["mcp"] }),
        Custom.layer({ issuer: forgeB.issuer, scopes: ["mcp", "extra"] })
      ])
    )
  })
  afterAll(async () => {
    await server.running.close()
    await Promise.all([forgeA.close(), forgeB.close(), forgeC.close()])
  })

  it("lists both issuers and the merged scopes in its protected resource metadata", async () => {
    const response = await fetch(`${server.origin}/.well-known/oauth-protected-resource/mcp`)
    expect(response.status).toBe(200)
    const document = await response.json()
    expect(document.authorization_servers).toEqual([forgeA.issuer, forgeB.issuer])
    expect(document.scopes_supported).toEqual(expect.arrayContaining(["mcp", "extra"]))
  })

  it("mirrors the first issuer's authorization server metadata", async () => {
    const document = await (await fetch(`${server.origin}/.well-known/oauth-authorization-server`)).json()
    expect(document.issuer).toBe(forgeA.issuer)
  })

  it("accepts tokens from each issuer, verified with that issuer's keys", async () => {
    const fromA = await callTool(server.origin, `Bearer ${await forgeA.token({ sub: "alice" })}`)
    expect(fromA.status).toBe(200)
    expect((await toolResult(fromA)).user.userId).toBe("alice")
    const fromB = await callTool(server.origin, `Bearer ${await forgeB.token({ sub: "bob" })}`)
    expect(fromB.status).toBe(200)
    const b = await toolResult(fromB)
    expect(b.user.userId).toBe("bob")
    expect(b.scopes).toEqual(["mcp", "extra"])
    expect(forgeA.requests("/jwks")).toBeGreaterThan(0)
    expect(forgeB.requests("/jwks")).toBeGreaterThan(0)
    expect(forgeC.requests()).toBe(0)
  })

  it("refuses a third issuer's token, tokens without iss and non-JWTs without a single request to anyone", async () => {
    forgeA.resetRequests()
    forgeB.resetRequests()
    forgeC.resetRequests()
    const refused: ReadonlyArray<[string, string]> = [
      [await forgeC.token(), "The access token was issued by an untrusted issuer"],
      // a kid no one published, so any key-set lookup would show up as a request
      [await forgeC.token({}, { kid: "never-published" }), "The access token was issued by an untrusted issuer"],
      [await forgeA.token({ iss: undefined }), "The access token was issued by an untrusted issuer"],
      [await forgeA.token({ iss: `${forgeA.issuer}/` }), "The access token was issued by an untrusted issuer"],
      ["opaque-token-nobody-can-verify", "The access token is malformed"]
    ]
    for (const [token, description] of refused) {
      const response = await callTool(server.origin, `Bearer ${token}`)
      expect(response.status).toBe(401)
      // the challenge advertises the scopes of both issuers
      expect(response.headers.get("www-authenticate")).toBe(invalidToken(server.metadataUrl, description, "mcp extra"))
    }
    expect(requestsToForges()).toBe(0)
  })
})

describe("a JWT issuer and an introspecting issuer behind one server", () => {
  let forge: TokenForge
  let stranger: TokenForge
  let idp: TestIdp
  let server: Awaited<ReturnType<typeof start>>
  let resource: string
  const rs = { client_id: "mcp-resource-server", client_secret: "resource-server-secret-0123456789" }

  beforeAll(async () => {
    const port = await freePort()
    resource = `http://127.0.0.1:${port}/mcp`
    ;[forge, stranger, idp] = await Promise.all([
      startTokenForge({ audience: resource }),
      startTokenForge({ audience: resource }),
      startTestIdp({
        resource: `http://127.0.0.1:${port}/jwt`,
        opaqueResources: [resource],
        staticClients: [{ ...rs, token_endpoint_auth_method: "client_secret_basic", redirect_uris: [], response_types: [], grant_types: [] }]
      })
    ])
    server = await start(
      port,
      MultiIssuer.layer(
        [
          Custom.layer({ issuer: forge.issuer }),
          Introspection.layer({ issuer: idp.issuer, clientId: rs.client_id, clientSecret: Redacted.make(rs.client_secret) })
        ],
        { opaque: idp.issuer }
      )
    )
  })
  afterAll(async () => {
    await server.running.close()
    await Promise.all([forge.close(), stranger.close(), idp.close()])
  })

  it("lists both issuers", async () => {
    const document = await (await fetch(`${server.origin}/.well-known/oauth-protected-resource`)).json()
    expect(document.authorization_servers).toEqual([forge.issuer, idp.issuer])
  })

  it("accepts the JWT issuer's tokens and the introspecting issuer's opaque tokens", async () => {
    const jwt = await callTool(server.origin, `Bearer ${await forge.token({ sub: "jwt-user" })}`)
    expect(jwt.status).toBe(200)
    expect((await toolResult(jwt)).user.userId).toBe("jwt-user")

    const opaque = await getTokens({ idp, resource, scope: "mcp" })
    idp.resetRequests()
    const response = await callTool(server.origin, `Bearer ${opaque.access_token}`)
    expect(response.status).toBe(200)
    expect((await toolResult(response)).user.userId).toBe("test-user")
    expect(idp.requests("/token/introspection")).toBe(1)
  })

  it("routes the introspecting issuer's JWTs to introspection, which refuses them", async () => {
    const jwt = await getTokens({ idp, resource: idp.resources[0]!, scope: "mcp" })
    const response = await callTool(server.origin, `Bearer ${jwt.access_token}`)
    expect(response.status).toBe(401)
  })

  it("sends a stranger's token nowhere", async () => {
    idp.resetRequests()
    forge.resetRequests()
    const response = await callTool(server.origin, `Bearer ${await stranger.token()}`)
    expect(response.status).toBe(401)
    expect(response.headers.get("www-authenticate")).toBe(
      invalidToken(server.metadataUrl, "The access token was issued by an untrusted issuer")
    )
    expect(idp.requests() + forge.requests() + stranger.requests()).toBe(0)
  })
})
