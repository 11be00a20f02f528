/** An MCP server behind the OAuth proxy, in front of oidc-provider playing a non-DCR upstream (one static client). */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { AuthInfo, McpAuth, OAuthProxy, Store } from "@mcp-oauth/auth-core"
import { generateSigningKeyJson } from "@mcp-oauth/auth-core/proxy/AccessTokens"
import { BrowserDriver, createPkce, type Pkce, startTestIdp, type TestIdp, type TestIdpOptions } from "@mcp-oauth/testing"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { Cause, HashMap, Layer, List, Logger, LogLevel, Redacted } from "effect"
import { listen } from "../../../src/index.js"
import { statelessHandlerV1 } from "../../../src/sdkV1.js"
import { freePort } from "../../support/harness.js"

/** The upstream client the proxy is registered as at the IdP. */
export const UPSTREAM_CLIENT_ID = "mcp-proxy-upstream"
/** Its secret: never to be seen in any answer, redirect or log. */
export const UPSTREAM_SECRET = "upstream-secret-6c1f0e9a-DO-NOT-LEAK"

/** The redirect URI the test clients register. */
export const CLIENT_REDIRECT = "http://127.0.0.1:65535/callback"

/** Keys shared by instances that should accept each other's tokens, cookies and sealed values. */
export interface SharedKeys {
  readonly signingKey: Redacted.Redacted<string>
  readonly encryptionKey: Redacted.Redacted<string>
  readonly cookieSecret: Redacted.Redacted<string>
}

/** Fresh shared keys. */
export const makeKeys = async (): Promise<SharedKeys> => ({
  signingKey: Redacted.make(await generateSigningKeyJson()),
  encryptionKey: Redacted.make(Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url")),
  cookieSecret: Redacted.make(Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url"))
})

/** An MCP server whose `whoami` tool returns the caller. */
const whoamiServer = (): McpServer => {
  const server = new McpServer({ name: "proxy-test", version: "0.0.0" })
  server.registerTool("whoami", { description: "The authenticated user" }, async (extra) => {
    const auth = AuthInfo.fromSdkAuthInfo(extra.authInfo)
    return {
      content: [{ type: "text", text: JSON.stringify({ user: auth?.user, scopes: auth?.scopes, clientId: auth?.clientId, issuer: auth?.issuer }) }]
    }
  })
  return server
}

/** One proxy instance listening on a port. */
export interface ProxyInstance {
  readonly origin: string
  readonly resource: string
  readonly auth: McpAuth.McpAuth
  readonly close: () => Promise<void>
}

/** Options of {@link startProxyInstance}. */
export interface InstanceOptions {
  readonly port: number
  readonly upstream: OAuthProxy.OAuthProxyOptions["upstream"]
  readonly proxy?: Partial<OAuthProxy.OAuthProxyOptions> | undefined
  readonly keys?: SharedKeys | undefined
  /** A Store shared with other instances (default: this instance's own memory store). */
  readonly store?: Store.Service | undefined
  /** Where log lines go (everything, from Trace up, with annotations and causes). */
  readonly logs?: Array<string> | undefined
  /** The origin the proxy is reached at (default `http://127.0.0.1:<port>`). */
  readonly origin?: string | undefined
}

const captureLogger = (logs: Array<string>) =>
  Logger.make(({ logLevel, message, annotations, cause }) => {
    const annotated = Object.fromEntries(HashMap.toEntries(annotations))
    const messages = Array.isArray(message) ? message : List.isList(message) ? List.toArray(message) : [message]
    logs.push(
      `${logLevel.label} ${messages.map((m) => (typeof m === "string" ? m : JSON.stringify(m))).join(" ")} ${JSON.stringify(annotated)}` +
        (Cause.isEmpty(cause) ? "" : ` ${Cause.pretty(cause, { renderErrorCause: true })}`)
    )
  })

/** Starts one protected MCP server with the proxy in front of its upstream. */
export const startProxyInstance = async (options: InstanceOptions): Promise<ProxyInstance> => {
  const origin = options.origin ?? `http://127.0.0.1:${options.port}`
  const resource = `${origin}/mcp`
  const logs = options.logs
  const layer = McpAuth.layer(
    { resource, scopesSupported: ["mcp", "admin"], requiredScopes: ["mcp"], resourceName: "Proxy test server" },
    OAuthProxy.layer({
      upstream: options.upstream,
      ...options.keys,
      rateLimits: { registration: { limit: 1000, window: "1 minute" } },
      ...options.proxy
    }),
    options.store === undefined ? {} : { store: Layer.succeed(Store.Store, options.store) }
  )
  const withLogs =
    logs === undefined
      ? layer
      : Layer.mergeAll(layer, Logger.replace(Logger.defaultLogger, captureLogger(logs)), Logger.minimumLogLevel(LogLevel.All))
  const auth = await McpAuth.make(withLogs)
  const running = await listen(auth, statelessHandlerV1(whoamiServer), { port: options.port })
  return { origin, resource, auth, close: running.close }
}

/** The upstream IdP, the proxy in front of it, and everything tests reach for. */
export interface ProxyStack extends ProxyInstance {
  readonly idp: TestIdp
  readonly logs: Array<string>
  readonly keys: SharedKeys
  readonly port: number
}

/** Options of {@link startProxyStack}. */
export interface StackOptions {
  readonly idp?: Partial<TestIdpOptions> | undefined
  readonly proxy?: Partial<OAuthProxy.OAuthProxyOptions> | undefined
  /** Overrides of the upstream settings (e.g. a fake token endpoint). */
  readonly upstream?: Partial<OAuthProxy.OAuthProxyOptions["upstream"]> | undefined
  /** The Store (default a fresh memory store). */
  readonly store?: Store.Service | undefined
  /** Builds the whole upstream setting (e.g. a preset) once the IdP runs, instead of the default options. */
  readonly makeUpstream?: ((idp: TestIdp) => Promise<OAuthProxy.OAuthProxyOptions["upstream"]>) | undefined
}

/** Starts oidc-provider (registration off, one confidential static client) and the proxy-protected server. */
export const startProxyStack = async (options: StackOptions = {}): Promise<ProxyStack> => {
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const idp = await startTestIdp({
    resource: `${origin}/mcp`,
    scopes: ["mcp", "admin"],
    registration: false,
    staticClients: [
      {
        client_id: UPSTREAM_CLIENT_ID,
        client_secret: UPSTREAM_SECRET,
        redirect_uris: [`${origin}/oauth/callback`],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic"
      }
    ],
    ...options.idp
  })
  const keys = await makeKeys()
  const logs: Array<string> = []
  try {
    const instance = await startProxyInstance({
      port,
      upstream:
        options.makeUpstream !== undefined
          ? await options.makeUpstream(idp)
          : { issuer: idp.issuer, clientId: UPSTREAM_CLIENT_ID, clientSecret: Redacted.make(UPSTREAM_SECRET), ...options.upstream },
      proxy: options.proxy,
      keys,
      logs,
      store: options.store
    })
    return {
      ...instance,
      idp,
      logs,
      keys,
      port,
      close: async () => {
        await instance.close()
        await idp.close()
      }
    }
  } catch (error) {
    await idp.close()
    throw error
  }
}

/** A client registered at the proxy. */
export interface TestClient {
  readonly client_id: string
  readonly client_secret?: string
  readonly redirect_uris: Array<string>
}

/** Registers a client at the proxy (public by default). */
export const register = async (
  origin: string,
  metadata: Record<string, unknown> = {}
): Promise<TestClient> => {
  const response = await fetch(`${origin}/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      client_name: "Test client",
      redirect_uris: [CLIENT_REDIRECT],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
      ...metadata
    })
  })
  const body = (await response.json()) as Record<string, unknown>
  if (response.status !== 201) throw new Error(`registration failed: ${response.status} ${JSON.stringify(body)}`)
  return body as unknown as TestClient
}

/** An authorization request to the proxy. */
export const authorizeUrl = (
  stack: { readonly origin: string; readonly resource: string },
  client: { readonly client_id: string },
  pkce: Pkce,
  params: Record<string, string | undefined> = {}
): URL => {
  const url = new URL(`${stack.origin}/authorize`)
  const all: Record<string, string | undefined> = {
    response_type: "code",
    client_id: client.client_id,
    redirect_uri: CLIENT_REDIRECT,
    scope: "mcp",
    state: "client-state-123",
    code_challenge: pkce.challenge,
    code_challenge_method: "S256",
    resource: stack.resource,
    ...params
  }
  for (const [name, value] of Object.entries(all)) if (value !== undefined) url.searchParams.set(name, value)
  return url
}

/** The outcome of a whole authorization through a browser that approves consent. */
export interface Authorized {
  readonly code: string
  readonly callback: URL
  readonly pkce: Pkce
  readonly browser: BrowserDriver
}

/** Register-free flow for a given client: authorize → consent (approved) → upstream login → the client's callback. */
export const authorize = async (
  stack: { readonly origin: string; readonly resource: string },
  client: TestClient,
  options: { readonly browser?: BrowserDriver; readonly params?: Record<string, string | undefined>; readonly loginHint?: string } = {}
): Promise<Authorized> => {
  const pkce = createPkce()
  const browser = options.browser ?? new BrowserDriver({ approveConsent: true })
  const url = authorizeUrl(stack, client, pkce, { login_hint: options.loginHint, ...options.params })
  const callback = await browser.navigate(url, client.redirect_uris[0] ?? CLIENT_REDIRECT)
  const code = callback.searchParams.get("code")
  if (code === null) throw new Error(`no code in ${callback.href}`)
  return { code, callback, pkce, browser }
}

/** A token request to the proxy. */
export const tokenRequest = async (
  origin: string,
  params: Record<string, string | undefined>,
  headers: Record<string, string> = {}
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> => {
  const form = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) if (value !== undefined) form.set(name, value)
  const response = await fetch(`${origin}/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: form
  })
  const text = await response.text()
  let body: Record<string, unknown> = {}
  try {
    body = JSON.parse(text) as Record<string, unknown>
  } catch {
    body = { raw: text }
  }
  return { status: response.status, body, headers: response.headers }
}

/** Redeems a code as the given client. */
export const redeem = (stack: { readonly origin: string; readonly resource: string }, client: TestClient, authorized: Authorized, extra: Record<string, string | undefined> = {}) =>
  tokenRequest(stack.origin, {
    grant_type: "authorization_code",
    code: authorized.code,
    redirect_uri: CLIENT_REDIRECT,
    code_verifier: authorized.pkce.verifier,
    client_id: client.client_id,
    resource: stack.resource,
    ...extra
  })

/** Calls the whoami tool with a bearer token; returns the status and the tool's JSON (when 200). */
export const whoami = async (resource: string, token: string): Promise<{ status: number; result?: Record<string, unknown>; wwwAuthenticate: string | null }> => {
  const response = await fetch(resource, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      authorization: `Bearer ${token}`
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "whoami", arguments: {} } })
  })
  const text = await response.text()
  if (response.status !== 200) return { status: response.status, wwwAuthenticate: response.headers.get("www-authenticate") }
  const json = text.startsWith("{") ? text : (text.split("\n").find((l) => l.startsWith("data:")) ?? "").slice(5)
  const parsed = JSON.parse(json) as { result: { content: Array<{ text: string }> } }
  return { status: 200, result: JSON.parse(parsed.result.content[0]!.text) as Record<string, unknown>, wwwAuthenticate: null }
}

/** A small HTTP server standing in for an upstream endpoint (fake token endpoints, redirect targets). */
export interface FakeServer {
  readonly url: string
  readonly requests: Array<{ readonly method: string; readonly url: string; readonly headers: IncomingMessage["headers"]; readonly body: string }>
  readonly close: () => Promise<void>
}

/** Starts a fake endpoint answering every request with `handler`. */
export const startFakeServer = async (handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<FakeServer> => {
  const requests: FakeServer["requests"] = []
  const server: Server = createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8")
      requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body })
      handler(req, res, body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
