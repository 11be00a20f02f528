/**
 * Headless drivers for the official MCP SDK clients (v1 `@modelcontextprotocol/sdk`, v2 `@modelcontextprotocol/client`):
 * each runs the SDK's own OAuth machinery (discovery → registration → authorize with S256 + resource → token)
 * against a real server, with a {@link BrowserDriver} playing the user.
 *
 * The SDKs are optional peer dependencies, loaded only when a driver is used.
 *
 * @since 0.1.0
 */
import * as crypto from "node:crypto"
import type * as SdkV2 from "@modelcontextprotocol/client"
import type { OAuthDiscoveryState as DiscoveryStateV1 } from "@modelcontextprotocol/sdk/client/auth.js"
import type { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js"
import { DEFAULT_REDIRECT_URI } from "./AuthorizationCodeFlow.js"
import { BrowserDriver } from "./BrowserDriver.js"

/** Options of {@link connectSdkV1} and {@link connectSdkV2}. */
export interface ConnectOptions {
  /** The MCP endpoint, e.g. `http://127.0.0.1:3000/mcp`. */
  readonly url: string | URL
  /** The account to log in as (sent as `login_hint`; the test IdP's default is `test-user`). */
  readonly loginHint?: string
  /** Scope put into the client metadata, used by the SDK when neither the challenge nor the PRM names one. */
  readonly scope?: string
  /** Client metadata fields overriding the driver's defaults (public client, code + refresh_token). */
  readonly clientMetadata?: Readonly<Record<string, unknown>>
  /** The redirect URI (default {@link DEFAULT_REDIRECT_URI}); never served, the browser stops before it. */
  readonly redirectUrl?: string
  /** The browser profile (default a fresh one). */
  readonly browser?: BrowserDriver
  /**
   * Let the default browser approve consent pages it meets (an OAuth proxy's own consent); ignored when `browser`
   * is given (configure that one instead). Default false.
   */
  readonly approveConsent?: boolean
}

/** The tokens as the SDK stored them. */
export interface DriverTokens {
  readonly access_token: string
  readonly token_type: string
  readonly refresh_token?: string | undefined
  readonly expires_in?: number | undefined
  readonly scope?: string | undefined
  readonly id_token?: string | undefined
  readonly [field: string]: unknown
}

/** The client metadata the driver registers with. */
export interface DriverClientMetadata {
  readonly redirect_uris: Array<string>
  readonly [field: string]: unknown
}

/** The registered client as the SDK stored it. */
export interface DriverClientInformation {
  readonly client_id: string
  readonly client_secret?: string | undefined
  readonly [field: string]: unknown
}

/** The result of a tool call, reduced to the fields tests read. */
export interface ToolResult {
  readonly content: ReadonlyArray<{ readonly type: string; readonly text?: string; readonly [field: string]: unknown }>
  readonly structuredContent?: unknown
  readonly isError?: boolean
  readonly [field: string]: unknown
}

/** What the SDK keeps after RFC 9728 / RFC 8414 discovery; the driver reads only the issuer. */
export interface DriverDiscoveryState {
  readonly authorizationServerMetadata?: { readonly issuer?: string } | undefined
}

/**
 * An in-memory OAuthClientProvider for both SDK versions. `redirectToAuthorization` drives the authorization
 * URL through the browser to the redirect URI, checks `state` and `iss`, and keeps the callback for `finishAuth`.
 */
export class HeadlessOAuthClientProvider<D extends DriverDiscoveryState = DriverDiscoveryState> {
  /** Every authorization URL the SDK asked the user to visit. */
  readonly authorizationUrls: Array<URL> = []
  /** Every token set the SDK saved, in order (the first from the code exchange, the rest from refreshes). */
  readonly tokenHistory: Array<DriverTokens> = []
  /** The browser playing the user. */
  readonly browser: BrowserDriver
  readonly #redirectUrl: string
  readonly #metadata: DriverClientMetadata
  readonly #loginHint: string | undefined
  #clientInformation: DriverClientInformation | undefined
  #tokens: DriverTokens | undefined
  #codeVerifier: string | undefined
  #state: string | undefined
  #discovery: D | undefined
  #callback: URL | undefined

  constructor(options: Omit<ConnectOptions, "url"> & { readonly clientName: string }) {
    this.browser = options.browser ?? new BrowserDriver(options.approveConsent === true ? { approveConsent: true } : {})
    this.#redirectUrl = options.redirectUrl ?? DEFAULT_REDIRECT_URI
    this.#loginHint = options.loginHint
    this.#metadata = {
      client_name: options.clientName,
      redirect_uris: [this.#redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
      ...(options.scope === undefined ? {} : { scope: options.scope }),
      ...options.clientMetadata
    }
  }

  /** The redirect URI. */
  get redirectUrl(): string {
    return this.#redirectUrl
  }

  /** The metadata sent at dynamic client registration. */
  get clientMetadata(): DriverClientMetadata {
    return this.#metadata
  }

  /** A fresh random `state` per authorization request (checked on the callback). */
  state(): string {
    this.#state = crypto.randomBytes(16).toString("base64url")
    return this.#state
  }

  /** The registered client, if any. */
  clientInformation(): DriverClientInformation | undefined {
    return this.#clientInformation
  }

  /** Stores the registered client. */
  saveClientInformation(information: DriverClientInformation): void {
    this.#clientInformation = information
  }

  /** The current tokens, if any. */
  tokens(): DriverTokens | undefined {
    return this.#tokens
  }

  /** Stores tokens and records them in {@link tokenHistory}. */
  saveTokens(tokens: DriverTokens): void {
    this.#tokens = tokens
    this.tokenHistory.push(tokens)
  }

  /** Keeps the discovery result (v2 needs it on the callback leg; it also names the issuer for the `iss` check). */
  saveDiscoveryState(state: D): void {
    this.#discovery = state
  }

  /** The saved discovery result. */
  discoveryState(): D | undefined {
    return this.#discovery
  }

  /** Plays the user: follows the authorization URL to the redirect URI and keeps the callback. */
  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    const url = new URL(authorizationUrl)
    this.authorizationUrls.push(new URL(url))
    if (this.#loginHint !== undefined && !url.searchParams.has("login_hint")) {
      url.searchParams.set("login_hint", this.#loginHint)
    }
    const callback = await this.browser.navigate(url, this.#redirectUrl)
    const query = callback.searchParams
    const sent = url.searchParams.get("state")
    if (sent === null || sent !== this.#state || query.get("state") !== sent) {
      throw new Error(`authorization callback state mismatch: sent ${sent}, received ${query.get("state")}`)
    }
    const iss = query.get("iss")
    const issuer = this.#discovery?.authorizationServerMetadata?.issuer
    if (iss !== null && issuer !== undefined && iss !== issuer) {
      throw new Error(`authorization callback iss ${iss} is not the discovered issuer ${issuer}`)
    }
    const error = query.get("error")
    if (error !== null) throw new Error(`authorization failed: ${error} ${query.get("error_description") ?? ""}`)
    this.#callback = callback
  }

  /** Stores the PKCE verifier. */
  saveCodeVerifier(codeVerifier: string): void {
    this.#codeVerifier = codeVerifier
  }

  /** The PKCE verifier of the pending authorization. */
  codeVerifier(): string {
    if (this.#codeVerifier === undefined) throw new Error("no PKCE code verifier saved")
    return this.#codeVerifier
  }

  /** Drops what the SDK says is no longer valid. */
  invalidateCredentials(scope: "all" | "client" | "tokens" | "verifier" | "discovery"): void {
    if (scope === "all" || scope === "client") this.#clientInformation = undefined
    if (scope === "all" || scope === "tokens") this.#tokens = undefined
    if (scope === "all" || scope === "verifier") this.#codeVerifier = undefined
    if (scope === "all" || scope === "discovery") this.#discovery = undefined
  }

  /** Takes the pending authorization callback URL (code, state, iss), if the browser reached one. */
  takeCallback(): URL | undefined {
    const callback = this.#callback
    this.#callback = undefined
    return callback
  }

  /**
   * Makes the stored access token unusable (its signature is corrupted) while keeping the refresh token,
   * so the next request gets a 401 and the SDK refreshes; no waiting for real expiry.
   */
  expireAccessToken(): void {
    if (this.#tokens === undefined) throw new Error("no tokens to expire")
    const [header = "", payload = ""] = this.#tokens.access_token.split(".")
    this.#tokens = { ...this.#tokens, access_token: `${header}.${payload}.${"A".repeat(43)}` }
  }

  /** How many times the SDK refreshed tokens (saved tokens beyond the first). */
  get refreshCount(): number {
    return Math.max(0, this.tokenHistory.length - 1)
  }
}

/** A connected, authorized MCP client. */
export interface McpClientSession<C, D extends DriverDiscoveryState = DriverDiscoveryState> {
  /** The SDK client. */
  readonly client: C
  /** The OAuth provider, to inspect tokens, authorization URLs and refreshes. */
  readonly provider: HeadlessOAuthClientProvider<D>
  /** Calls a tool and returns its result. */
  readonly callTool: (name: string, args?: Record<string, unknown>) => Promise<ToolResult>
  /** Closes the client. */
  readonly close: () => Promise<void>
}

interface SdkBindings<C, T, D extends DriverDiscoveryState> {
  readonly clientName: string
  readonly makeTransport: (url: URL, provider: HeadlessOAuthClientProvider<D>) => T
  readonly makeClient: () => C
  readonly connect: (client: C, transport: T) => Promise<void>
  readonly isUnauthorized: (error: unknown) => boolean
  readonly finishAuth: (transport: T, callback: URL) => Promise<void>
  readonly callTool: (client: C, name: string, args: Record<string, unknown>) => Promise<ToolResult>
  readonly close: (client: C) => Promise<void>
}

/** connect → UnauthorizedError → browser flow → finishAuth → reconnect with a fresh transport and client. */
const connectWith = async <C, T, D extends DriverDiscoveryState>(
  bindings: SdkBindings<C, T, D>,
  options: ConnectOptions
): Promise<McpClientSession<C, D>> => {
  const url = new URL(options.url)
  const provider = new HeadlessOAuthClientProvider<D>({ ...options, clientName: bindings.clientName })
  let client = bindings.makeClient()
  let transport = bindings.makeTransport(url, provider)
  try {
    await bindings.connect(client, transport)
  } catch (error) {
    const callback = provider.takeCallback()
    if (!bindings.isUnauthorized(error) || callback === undefined) throw error
    await bindings.finishAuth(transport, callback)
    await bindings.close(client).catch(() => undefined)
    client = bindings.makeClient()
    transport = bindings.makeTransport(url, provider)
    await bindings.connect(client, transport)
  }
  const connected = client
  const connectedTransport = transport
  // A 403 insufficient_scope makes the SDK re-authorize with the challenge's scopes (step-up): it sends the
  // browser to the IdP and throws UnauthorizedError; finishing that authorization and retrying completes it.
  const callTool = async (name: string, args: Record<string, unknown> = {}): Promise<ToolResult> => {
    try {
      return await bindings.callTool(connected, name, args)
    } catch (error) {
      const callback = provider.takeCallback()
      if (!bindings.isUnauthorized(error) || callback === undefined) throw error
      await bindings.finishAuth(connectedTransport, callback)
      return bindings.callTool(connected, name, args)
    }
  }
  return {
    client: connected,
    provider,
    callTool,
    close: () => bindings.close(connected)
  }
}

/** Connects the v1 SDK client (`@modelcontextprotocol/sdk`) over Streamable HTTP, authorizing headlessly. */
export const connectSdkV1 = async (options: ConnectOptions): Promise<McpClientSession<ClientV1, DiscoveryStateV1>> => {
  const [{ Client }, { StreamableHTTPClientTransport }, { UnauthorizedError }] = await Promise.all([
    import("@modelcontextprotocol/sdk/client/index.js"),
    import("@modelcontextprotocol/sdk/client/streamableHttp.js"),
    import("@modelcontextprotocol/sdk/client/auth.js")
  ])
  type Transport = InstanceType<typeof StreamableHTTPClientTransport>
  return connectWith<ClientV1, Transport, DiscoveryStateV1>(
    {
      clientName: "@mcp-oauth/testing (sdk v1)",
      makeTransport: (url, provider) => new StreamableHTTPClientTransport(url, { authProvider: provider }),
      makeClient: () => new Client({ name: "mcp-oauth-testing-v1", version: "0.1.0" }),
      connect: (client, transport) => client.connect(transport),
      isUnauthorized: (error) => error instanceof UnauthorizedError,
      finishAuth: (transport, callback) => transport.finishAuth(callback.searchParams.get("code") ?? ""),
      callTool: async (client, name, args) => (await client.callTool({ name, arguments: args })) as ToolResult,
      close: (client) => client.close()
    },
    options
  )
}

/** Connects the v2 SDK client (`@modelcontextprotocol/client`) over Streamable HTTP, authorizing headlessly. */
export const connectSdkV2 = async (
  options: ConnectOptions
): Promise<McpClientSession<SdkV2.Client, SdkV2.OAuthDiscoveryState>> => {
  const { Client, StreamableHTTPClientTransport, UnauthorizedError } = await import("@modelcontextprotocol/client")
  return connectWith<SdkV2.Client, SdkV2.StreamableHTTPClientTransport, SdkV2.OAuthDiscoveryState>(
    {
      clientName: "@mcp-oauth/testing (sdk v2)",
      makeTransport: (url, provider) => new StreamableHTTPClientTransport(url, { authProvider: provider }),
      makeClient: () => new Client({ name: "mcp-oauth-testing-v2", version: "0.1.0" }),
      connect: (client, transport) => client.connect(transport),
      isUnauthorized: (error) => error instanceof UnauthorizedError,
      // v2 validates `iss` against the discovered issuer (RFC 9207) when given the callback's parameters.
      finishAuth: (transport, callback) => transport.finishAuth(callback.searchParams),
      callTool: async (client, name, args) => (await client.callTool({ name, arguments: args })) as ToolResult,
      close: (client) => client.close()
    },
    options
  )
}
