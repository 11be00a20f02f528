import * as Keycloak from "@mcp-oauth/auth-core/providers/Keycloak"
import { connectSdkV1, connectSdkV2, getTokens, type TestIdpRoutes } from "@mcp-oauth/testing"
import * as jose from "jose"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { getJson, startProviderStack, whoami, type ProviderStack } from "./support/providerStack.js"

/** Keycloak's endpoint paths under a realm. */
const keycloakRoutes: TestIdpRoutes = {
  authorization: "/protocol/openid-connect/auth",
  token: "/protocol/openid-connect/token",
  jwks: "/protocol/openid-connect/certs",
  userinfo: "/protocol/openid-connect/userinfo",
  introspection: "/protocol/openid-connect/token/introspect",
  revocation: "/protocol/openid-connect/revoke",
  end_session: "/protocol/openid-connect/logout",
  registration: "/clients-registrations/openid-connect"
}

/** The client representing the MCP server in the realm, whose client roles the server reads. */
const serverClient = "mcp-server"

/** Realm and client role mappings of the realm's users. */
const roleMappings: Record<string, { realm: Array<string>; client: Array<string>; username: string }> = {
  alice: { realm: ["default-roles-test", "analyst"], client: ["tools:admin"], username: "alice.k" },
  bob: { realm: ["default-roles-test"], client: [], username: "bob" }
}

const clients = [
  ["SDK v1 (@modelcontextprotocol/sdk)", connectSdkV1],
  ["SDK v2 (@modelcontextprotocol/client)", connectSdkV2]
] as const

describe("Keycloak provider end to end (oidc-provider laid out as a Keycloak realm)", () => {
  let stack: ProviderStack
  beforeAll(async () => {
    stack = await startProviderStack(
      {
        issuerPath: "/realms/test",
        routes: keycloakRoutes,
        scopes: ["mcp:tools"],
        users: { alice: { email: "alice@example.com", name: "Alice Keycloak" }, bob: { email: "bob@example.com" } },
        // what Keycloak's default client scopes put into an access token (roles, profile), plus an Audience mapper's aud
        customizeAccessToken: ({ header, payload }) => {
          header["typ"] = "JWT"
          const sub = String(payload["sub"])
          const mapping = roleMappings[sub]
          payload["typ"] = "Bearer"
          payload["azp"] = payload["client_id"]
          payload["preferred_username"] = mapping?.username ?? sub
          payload["realm_access"] = { roles: mapping?.realm ?? ["default-roles-test"] }
          payload["resource_access"] = {
            ...(mapping === undefined || mapping.client.length === 0 ? {} : { [serverClient]: { roles: mapping.client } }),
            account: { roles: ["manage-account", "view-profile"] }
          }
        }
      },
      (idp) => Keycloak.layer({ url: new URL(idp.issuer).origin, realm: "test", clientId: serverClient }),
      ["mcp:tools"]
    )
  })
  afterAll(() => stack.close())

  it("plays Keycloak's realm layout: issuer with the realm path, keys at protocol/openid-connect/certs", async () => {
    const origin = new URL(stack.idp.issuer).origin
    expect(stack.idp.issuer).toBe(`${origin}/realms/test`)
    expect(stack.idp.jwksUri).toBe(`${origin}/realms/test/protocol/openid-connect/certs`)
    const tokens = await getTokens({ idp: stack.idp, loginHint: "alice", scope: "mcp:tools" })
    const claims = jose.decodeJwt(tokens.access_token)
    expect(claims).toMatchObject({
      iss: stack.idp.issuer,
      aud: stack.resource,
      typ: "Bearer",
      realm_access: { roles: ["default-roles-test", "analyst"] },
      resource_access: { [serverClient]: { roles: ["tools:admin"] } },
      preferred_username: "alice.k"
    })
  })

  it("starts without warnings: the audience is bound to this server", () => {
    expect(stack.warnings).toEqual([])
  })

  it("mirrors the realm's metadata at the server's well-known URLs, issuer intact", async () => {
    for (const path of ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]) {
      const { status, body } = await getJson(`${stack.origin}${path}`)
      expect(status).toBe(200)
      expect(body["issuer"]).toBe(stack.idp.issuer)
      expect(body["token_endpoint"]).toBe(`${stack.idp.issuer}/protocol/openid-connect/token`)
      expect(body["registration_endpoint"]).toBe(`${stack.idp.issuer}/clients-registrations/openid-connect`)
    }
    const prm = await getJson(`${stack.origin}/.well-known/oauth-protected-resource/mcp`)
    expect(prm.body["authorization_servers"]).toEqual([stack.idp.issuer])
  })

  describe.each(clients)("%s", (_name, connect) => {
    it("discovers the realm, registers, authorizes with PKCE and resource, and a tool reads realm and client roles", async () => {
      stack.idp.resetRequests()
      const session = await connect({ url: stack.resource, loginHint: "alice", scope: "mcp:tools" })
      try {
        const result = await whoami(session)
        expect(result.user).toEqual({
          userId: "alice",
          email: "alice@example.com",
          name: "Alice Keycloak",
          roles: ["default-roles-test", "analyst", "tools:admin"],
          permissions: []
        })
        expect(result.scopes).toContain("mcp:tools")
        const authorization = new URL(session.provider.authorizationUrls[0]!)
        expect(authorization.pathname).toBe("/realms/test/protocol/openid-connect/auth")
        expect(authorization.searchParams.get("code_challenge_method")).toBe("S256")
        expect(authorization.searchParams.get("resource")).toBe(stack.resource)
        expect(stack.idp.requests("/realms/test/clients-registrations/openid-connect")).toBe(1)
        expect(stack.idp.requests("/realms/test/protocol/openid-connect/token")).toBeGreaterThanOrEqual(1)
      } finally {
        await session.close()
      }
    })

    it("shows the preferred username when the token has no name, and no client roles for a user without them", async () => {
      const session = await connect({ url: stack.resource, loginHint: "bob", scope: "mcp:tools" })
      try {
        const result = await whoami(session)
        expect(result.user.name).toBe("bob")
        expect(result.user.roles).toEqual(["default-roles-test"])
      } finally {
        await session.close()
      }
    })
  })

  it("refuses a realm token issued for another audience (Keycloak's default `account`)", async () => {
    const origin = new URL(stack.idp.issuer).origin
    const other = await startProviderStack(
      {
        issuerPath: "/realms/test",
        routes: keycloakRoutes,
        scopes: ["mcp:tools"],
        customizeAccessToken: ({ payload }) => {
          payload["aud"] = "account"
          payload["typ"] = "Bearer"
        }
      },
      (idp) => Keycloak.layer({ url: `${new URL(idp.issuer).origin}/realms/test` }),
      ["mcp:tools"]
    )
    try {
      expect(origin).not.toBe(new URL(other.idp.issuer).origin)
      const tokens = await getTokens({ idp: other.idp, scope: "mcp:tools" })
      const response = await fetch(`${other.origin}/mcp`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${tokens.access_token}`,
          "content-type": "application/json",
          accept: "application/json, text/event-stream"
        },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "whoami", arguments: {} } })
      })
      expect(response.status).toBe(401)
      expect(response.headers.get("www-authenticate")).toContain('error="invalid_token"')
      await response.body?.cancel()
    } finally {
      await other.close()
    }
  })
})
