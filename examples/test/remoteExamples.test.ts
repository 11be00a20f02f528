/**
 * The remote-mode examples (node-keycloak, express-auth0, hono-workos) against oidc-provider laid out as each
 * provider lays out its endpoints: the real MCP SDK client discovers the IdP from the example's 401, registers,
 * signs in headlessly and calls `get-user-profile`, which must answer with the user the IdP signed in.
 */
import { createServer } from "node:net"
import { afterAll, describe, expect, it } from "vitest"
import { connectSdkV1, connectSdkV2, startTestIdp, type TestIdp, type TestIdpOptions } from "@mcp-oauth/testing"
import { start as startExpressAuth0 } from "../express-auth0/server.js"
import { start as startHonoWorkOS } from "../hono-workos/server.js"
import { start as startNodeKeycloak } from "../node-keycloak/server.js"

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

interface Running {
  readonly mcpUrl: string
  readonly warnings: ReadonlyArray<string>
  readonly close: () => Promise<void>
}

const cleanups: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
})

/** Starts an IdP for a fresh port, then the example on that port with the variables pointing at the IdP. */
const startPair = async (
  idpOptions: Omit<TestIdpOptions, "resource">,
  start: (env: NodeJS.ProcessEnv) => Promise<Running>,
  variables: (idp: TestIdp) => NodeJS.ProcessEnv
) => {
  const port = await freePort()
  const idp = await startTestIdp({ ...idpOptions, resource: `http://127.0.0.1:${port}/mcp` })
  cleanups.push(() => idp.close())
  const example = await start({ PORT: String(port), ...variables(idp) })
  cleanups.push(() => example.close())
  return { idp, example }
}

const profileOf = async (session: { callTool: (name: string) => Promise<{ content: ReadonlyArray<{ text?: string }> }> }) =>
  JSON.parse((await session.callTool("get-user-profile")).content[0]?.text ?? "null")

describe("examples/node-keycloak (node:http, SDK v2 server)", () => {
  it("signs a realm user in through the SDK v2 client and answers with the realm's roles", async () => {
    const { idp, example } = await startPair(
      {
        issuerPath: "/realms/acme",
        routes: { jwks: "/protocol/openid-connect/certs", token: "/protocol/openid-connect/token", authorization: "/protocol/openid-connect/auth" },
        users: { alice: { email: "alice@example.com", name: "Alice" } },
        customizeAccessToken: ({ payload }) => {
          payload["typ"] = "Bearer"
          payload["realm_access"] = { roles: ["analyst"] }
        }
      },
      startNodeKeycloak,
      (idp) => ({ MCP_OAUTH_KEYCLOAK_URL: new URL(idp.issuer).origin, MCP_OAUTH_KEYCLOAK_REALM: "acme", MCP_OAUTH_KEYCLOAK_SCOPES: "mcp" })
    )
    expect(example.warnings).toEqual([])
    const session = await connectSdkV2({ url: example.mcpUrl, loginHint: "alice" })
    try {
      expect(await profileOf(session)).toEqual({ userId: "alice", name: "Alice", email: "alice@example.com", roles: ["analyst"] })
      expect(idp.requests("/realms/acme/protocol/openid-connect/certs")).toBeGreaterThan(0)
    } finally {
      await session.close()
    }
  })
})

describe("examples/express-auth0 (Express, SDK v1 server)", () => {
  it("signs an Auth0 user in through the SDK v1 client and answers with the roles claim and RBAC permissions", async () => {
    const rolesClaim = "https://mcp-oauth.example/roles"
    const { example } = await startPair(
      {
        issuerPath: "/",
        routes: { authorization: "/authorize", token: "/oauth/token", jwks: "/.well-known/jwks.json", registration: "/oidc/register" },
        users: { bob: { email: "bob@example.com", roles: ["editor"], permissions: ["read:reports"] } },
        // as an Auth0 post-login Action would: roles under a namespaced claim
        customizeAccessToken: ({ payload }) => {
          payload[rolesClaim] = payload["roles"]
          delete payload["roles"]
        }
      },
      startExpressAuth0,
      (idp) => ({ MCP_OAUTH_AUTH0_DOMAIN: new URL(idp.issuer).origin, MCP_OAUTH_AUTH0_ROLES_CLAIM: rolesClaim, MCP_OAUTH_AUTH0_SCOPES: "mcp" })
    )
    expect(example.warnings).toEqual([])
    const session = await connectSdkV1({ url: example.mcpUrl, loginHint: "bob" })
    try {
      expect(await profileOf(session)).toMatchObject({ userId: "bob", roles: ["editor"], permissions: ["read:reports"] })
    } finally {
      await session.close()
    }
  })
})

describe("examples/hono-workos (Hono, SDK v2 server)", () => {
  it("signs an AuthKit user in through the SDK v2 client and answers with the organization", async () => {
    const { example } = await startPair(
      {
        routes: { authorization: "/oauth2/authorize", token: "/oauth2/token", jwks: "/oauth2/jwks", registration: "/oauth2/register" },
        customizeAccessToken: ({ payload }) => {
          payload["org_id"] = "org_01EXAMPLE"
        }
      },
      startHonoWorkOS,
      (idp) => ({ MCP_OAUTH_WORKOS_DOMAIN: idp.issuer, MCP_OAUTH_WORKOS_SCOPES: "mcp" })
    )
    expect(example.warnings).toEqual([])
    const session = await connectSdkV2({ url: example.mcpUrl, loginHint: "user_01EXAMPLE" })
    try {
      const profile = await profileOf(session)
      expect(profile).toMatchObject({ userId: "user_01EXAMPLE", organization: "org_01EXAMPLE" })
      expect(typeof profile.clientId).toBe("string")
    } finally {
      await session.close()
    }
  })
})
