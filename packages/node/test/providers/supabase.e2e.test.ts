import * as Supabase from "@mcp-oauth/auth-core/providers/Supabase"
import { connectSdkV1, connectSdkV2, getTokens } from "@mcp-oauth/testing"
import * as jose from "jose"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { getJson, startProviderStack, whoami, type ProviderStack } from "./support/providerStack.js"

const clients = [
  ["SDK v1 (@modelcontextprotocol/sdk)", connectSdkV1],
  ["SDK v2 (@modelcontextprotocol/client)", connectSdkV2]
] as const

/** app_metadata (server-controlled) and user_metadata (user-writable) of the project's users. */
const metadata: Record<string, { app: Record<string, unknown>; user: Record<string, unknown> }> = {
  ada: { app: { provider: "email", roles: ["editor"] }, user: { full_name: "Ada", roles: ["admin"] } },
  eve: { app: { provider: "email" }, user: { roles: ["admin", "owner"] } }
}

describe("Supabase provider end to end (oidc-provider laid out as a Supabase project)", () => {
  let stack: ProviderStack
  beforeAll(async () => {
    stack = await startProviderStack(
      {
        issuerPath: "/auth/v1",
        routes: { jwks: "/.well-known/jwks.json", authorization: "/oauth/authorize", token: "/oauth/token" },
        algorithm: "ES256",
        scopes: ["email"],
        users: { ada: { email: "ada@example.com" }, eve: { email: "eve@example.com" } },
        // Supabase's user token shape: aud "authenticated" whatever resource was asked for, a Postgres role, metadata
        customizeAccessToken: ({ header, payload }) => {
          header["typ"] = "JWT"
          const sub = String(payload["sub"])
          payload["aud"] = "authenticated"
          payload["role"] = "authenticated"
          payload["is_anonymous"] = false
          payload["app_metadata"] = metadata[sub]?.app ?? { provider: "email" }
          payload["user_metadata"] = metadata[sub]?.user ?? {}
          delete payload["name"]
        }
      },
      (idp) => Supabase.layer({ url: new URL(idp.issuer).origin }),
      []
    )
  })
  afterAll(() => stack.close())

  it("plays Supabase's layout: issuer {project}/auth/v1, ES256 keys at {issuer}/.well-known/jwks.json", async () => {
    const origin = new URL(stack.idp.issuer).origin
    expect(stack.idp.jwksUri).toBe(`${origin}/auth/v1/.well-known/jwks.json`)
    const tokens = await getTokens({ idp: stack.idp, loginHint: "ada", scope: "email" })
    expect(jose.decodeProtectedHeader(tokens.access_token).alg).toBe("ES256")
    expect(jose.decodeJwt(tokens.access_token)).toMatchObject({ iss: `${origin}/auth/v1`, aud: "authenticated", role: "authenticated" })
  })

  it("warns at start that Supabase tokens are not bound to this server", () => {
    expect(stack.warnings).toHaveLength(1)
    expect(stack.warnings[0]).toContain(`"authenticated"`)
    expect(stack.warnings[0]).toContain(stack.resource)
  })

  it("mirrors the project's metadata at the server's well-known URLs, issuer intact", async () => {
    const { status, body } = await getJson(`${stack.origin}/.well-known/oauth-authorization-server`)
    expect(status).toBe(200)
    expect(body["issuer"]).toBe(stack.idp.issuer)
    expect(body["authorization_endpoint"]).toBe(`${stack.idp.issuer}/oauth/authorize`)
  })

  describe.each(clients)("%s", (_name, connect) => {
    it("completes the flow; the tool sees roles from app_metadata and none a user wrote into user_metadata", async () => {
      const session = await connect({ url: stack.resource, loginHint: "ada", scope: "email" })
      try {
        const result = await whoami(session)
        expect(result.user).toEqual({ userId: "ada", email: "ada@example.com", roles: ["editor"], permissions: [] })
        expect(result.clientId).toBe(session.provider.clientInformation()?.client_id)
      } finally {
        await session.close()
      }
      const eve = await connect({ url: stack.resource, loginHint: "eve", scope: "email" })
      try {
        expect((await whoami(eve)).user.roles).toEqual([])
      } finally {
        await eve.close()
      }
    })
  })
})
