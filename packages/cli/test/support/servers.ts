/**
 * Servers for the doctor's tests: a correct MCP server on the real node adapter, and small hand-written servers
 * that get exactly one thing wrong (an identity provider's metadata or keys, or an MCP server's challenge,
 * metadata or CORS), each correct by default so a failing check can only come from the knob turned.
 */
import * as crypto from "node:crypto"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { Challenge, Cors, Custom, McpAuth, ResourceUrl } from "@mcp-oauth/auth-core"
import { mcpAuthRouter, requireMcpAuth, statelessMcpHandlerV1 } from "@mcp-oauth/express"
import { listen } from "@mcp-oauth/node"
import { statelessHandlerV1 } from "@mcp-oauth/node/sdk-v1"
import { startTestIdp, type TestIdp } from "@mcp-oauth/testing"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import express from "express"

/** A running test server. */
export interface Running {
  readonly origin: string
  readonly close: () => Promise<void>
}

const serve = async (handler: http.RequestListener): Promise<Running> => {
  const server = http.createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

const sendJson = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body))

/** A free loopback port, so the resource URL is known before the IdP that issues tokens for it starts. */
export const freePort = async (): Promise<number> => {
  const probe = await serve(() => undefined)
  const port = Number(new URL(probe.origin).port)
  await probe.close()
  return port
}

/** An MCP server protected by the real node adapter for `issuer`, at `/mcp` on `port` (default any). */
export const startNodeServer = async (options: {
  readonly issuer: string
  readonly port?: number
  readonly allowedOrigins?: ReadonlyArray<string>
}): Promise<{ resource: string; close: () => Promise<void> }> => {
  const port = options.port ?? (await freePort())
  const resource = `http://127.0.0.1:${port}/mcp`
  const auth = await McpAuth.make(
    McpAuth.layer({ resource, scopesSupported: ["mcp"] }, Custom.layer({ issuer: options.issuer })),
    options.allowedOrigins === undefined ? {} : { allowedOrigins: options.allowedOrigins }
  )
  const running = await listen(auth, statelessHandlerV1(() => new McpServer({ name: "doctor-test", version: "0.0.0" })), {
    port
  })
  return { resource, close: running.close }
}

/** An MCP server protected by the real Express adapter for `issuer`, at `/mcp`, wired as the adapter's docs show. */
export const startExpressServer = async (options: { readonly issuer: string }): Promise<{ resource: string; close: () => Promise<void> }> => {
  const port = await freePort()
  const resource = `http://127.0.0.1:${port}/mcp`
  const auth = await McpAuth.make(McpAuth.layer({ resource, scopesSupported: ["mcp"] }, Custom.layer({ issuer: options.issuer })))
  const app = express()
  app.use(mcpAuthRouter(auth))
  app.all(
    "/mcp",
    express.json(),
    requireMcpAuth(auth),
    statelessMcpHandlerV1(() => new McpServer({ name: "doctor-test", version: "0.0.0" }))
  )
  const server = await new Promise<http.Server>((resolve) => {
    const listening = app.listen(port, "127.0.0.1", () => resolve(listening))
  })
  return {
    resource,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await auth.dispose()
    }
  }
}

/** The test IdP and an MCP server protected by the real node adapter for it: everything configured right. */
export const startGoodStack = async (): Promise<{ idp: TestIdp; resource: string; close: () => Promise<void> }> => {
  const port = await freePort()
  const idp = await startTestIdp({ resource: `http://127.0.0.1:${port}/mcp` })
  const server = await startNodeServer({ issuer: idp.issuer, port })
  return {
    idp,
    resource: server.resource,
    close: async () => {
      await server.close()
      await idp.close()
    }
  }
}

/** What a misconfigured identity provider gets wrong. */
export interface IdpMisconfiguration {
  /** Edits the metadata document (the test IdP's, with this server as issuer and its own jwks_uri). */
  readonly edit?: (document: Record<string, unknown>, origin: string) => Record<string, unknown>
  /** The keys served at `/jwks` instead of the test IdP's. */
  readonly keys?: ReadonlyArray<unknown>
  /** Edits the document served at the RFC 8414 URL only, after `edit` (the OpenID Connect URL keeps the other). */
  readonly editRfc8414?: (document: Record<string, unknown>, origin: string) => Record<string, unknown>
}

/**
 * An identity provider that serves the test IdP's metadata, as its own issuer, with one thing wrong; its other
 * endpoints remain the test IdP's.
 */
export const startMisconfiguredIdp = async (upstream: TestIdp, misconfiguration: IdpMisconfiguration): Promise<Running> => {
  const original = (await (await fetch(upstream.url("/.well-known/openid-configuration"))).json()) as Record<string, unknown>
  const upstreamKeys = ((await (await fetch(upstream.jwksUri)).json()) as { keys: Array<unknown> }).keys
  let document: Record<string, unknown> = {}
  let rfc8414Document: Record<string, unknown> = {}
  const running = await serve((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname
    if (path === "/.well-known/oauth-authorization-server") return sendJson(res, 200, rfc8414Document)
    if (path === "/.well-known/openid-configuration") return sendJson(res, 200, document)
    if (path === "/jwks") return sendJson(res, 200, { keys: misconfiguration.keys ?? upstreamKeys })
    return sendJson(res, 404, { error: "not_found" })
  })
  const base = { ...original, issuer: running.origin, jwks_uri: `${running.origin}/jwks` }
  document = misconfiguration.edit?.(base, running.origin) ?? base
  rfc8414Document = misconfiguration.editRfc8414?.(document, running.origin) ?? document
  return running
}

// one key pair per size: generating RSA keys is slow, and the tests only need their shape
const rsaPairs = new Map<number, crypto.KeyPairKeyObjectResult>()

/** Public (or, with `private: true`, private) JWK of an RSA key of `bits`. */
export const rsaJwk = (bits: number, options: { readonly private?: boolean; readonly kid?: string } = {}) => {
  let pair = rsaPairs.get(bits)
  if (pair === undefined) {
    pair = crypto.generateKeyPairSync("rsa", { modulusLength: bits })
    rsaPairs.set(bits, pair)
  }
  const jwk = (options.private === true ? pair.privateKey : pair.publicKey).export({ format: "jwk" })
  return { ...jwk, kid: options.kid ?? `rsa-${bits}`, use: "sig", alg: "RS256" }
}

/** What a misconfigured MCP server gets wrong; every field defaults to the right behaviour. */
export interface ServerMisconfiguration {
  /** The issuers listed in the metadata. */
  readonly authorizationServers: ReadonlyArray<string>
  /** Answer requests without a token with 401 and a challenge (false: let them through with 200). */
  readonly challenge?: boolean
  /** Send `WWW-Authenticate` with the 401 (false: a bare 401). */
  readonly wwwAuthenticate?: boolean
  /** The `resource` the metadata names, given the right one. */
  readonly resource?: (canonical: string) => string
  /** Serve the metadata at the path-inserted URL. */
  readonly metadataAtPath?: boolean
  /** Serve the metadata at the root well-known URL. */
  readonly metadataAtRoot?: boolean
  /** The `Access-Control-Expose-Headers` value (default the library's). */
  readonly exposeHeaders?: string
  /** The status for a bad token (default 401 with error="invalid_token"). */
  readonly badTokenStatus?: number
}

/** An MCP endpoint at `/mcp`, hand-written from the library's Challenge and Cors helpers, wrong only as told. */
export const startMisconfiguredServer = async (misconfiguration: ServerMisconfiguration): Promise<Running & { resource: string }> => {
  let resource = ""
  const cors = (origin: string | undefined): Record<string, string> => ({
    ...Cors.responseHeaders({}, origin),
    "access-control-expose-headers": misconfiguration.exposeHeaders ?? Cors.exposedHeaders.join(", ")
  })
  const running = await serve((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname
    const origin = req.headers.origin
    const metadataUrl = ResourceUrl.protectedResourceMetadataUrl(resource)
    const metadata = {
      resource: misconfiguration.resource?.(resource) ?? resource,
      authorization_servers: misconfiguration.authorizationServers,
      bearer_methods_supported: ["header"]
    }
    if (
      (path === "/.well-known/oauth-protected-resource/mcp" && misconfiguration.metadataAtPath !== false) ||
      (path === "/.well-known/oauth-protected-resource" && misconfiguration.metadataAtRoot !== false)
    ) {
      return sendJson(res, 200, metadata, Cors.metadataHeaders)
    }
    if (path !== "/mcp") return sendJson(res, 404, { error: "not_found" })
    if (req.method === "OPTIONS") return res.writeHead(204, { ...Cors.preflightHeaders({}, origin), ...cors(origin) }).end()
    const authorization = req.headers.authorization
    if (authorization === undefined) {
      if (misconfiguration.challenge === false) {
        return sendJson(res, 200, { jsonrpc: "2.0", id: 1, result: {} }, cors(origin))
      }
      const challenge: Record<string, string> =
        misconfiguration.wwwAuthenticate === false ? {} : { "www-authenticate": Challenge.render({ resourceMetadata: metadataUrl }) }
      return sendJson(res, 401, { error: "invalid_request" }, { ...cors(origin), ...challenge })
    }
    const status = misconfiguration.badTokenStatus ?? 401
    const challenge: Record<string, string> =
      status === 401
        ? { "www-authenticate": Challenge.render({ resourceMetadata: metadataUrl, error: "invalid_token" }) }
        : {}
    return sendJson(res, status, { error: status === 401 ? "invalid_token" : "server_error" }, { ...cors(origin), ...challenge })
  })
  resource = `${running.origin}/mcp`
  return { ...running, resource }
}
