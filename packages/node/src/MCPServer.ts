/**
 * A small facade in the shape of the seed framework's quick start: `new MCPServer({ name, version, oauth })`,
 * `server.tool({ name, description, requires, cb })`, `await server.listen(3000)`. It is built on the official
 * MCP SDK (v1) server, the node adapter and auth-core; the Layer-based API stays the primary one.
 *
 * @since 0.1.0
 */
import { Authorization, AuthContext, AuthInfo, McpAuth, type OAuthProvider, type ScopeHierarchy } from "@mcp-oauth/auth-core"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js"
import { Effect, Either } from "effect"
import { type Listening, listen } from "./listen.js"
import type { AuthenticatedRequest } from "./protect.js"
import { statelessHandlerV1 } from "./sdkV1.js"

/** What a tool callback receives besides its arguments. */
export interface ToolContext {
  /** The authenticated caller. */
  readonly auth: AuthContext.AuthContext
}

/** A tool as the facade declares it. */
export interface ToolDefinition<Params = Record<string, unknown>> {
  readonly name: string
  readonly description?: string | undefined
  /** A zod raw shape or zod object describing the arguments (as the SDK accepts). */
  readonly inputSchema?: unknown
  /** Who may call it: scopes (all), roles (any), permissions (all), or a rule. */
  readonly requires?: Authorization.Requirement | undefined
  /** The tool; a result that is not an MCP `CallToolResult` is sent as JSON text. */
  readonly cb: (params: Params, context: ToolContext) => unknown
}

/** Options of the facade. */
export interface MCPServerOptions {
  readonly name: string
  readonly version: string
  /** The identity provider, e.g. `oauthCustomProvider({ issuer })`. */
  readonly oauth: OAuthProvider
  /** Public origin (default `http://<host>:<port>`); the MCP endpoint is `<baseUrl>/mcp`. */
  readonly baseUrl?: string | undefined
  /** Interface to listen on (default 127.0.0.1). */
  readonly host?: string | undefined
  /** Scopes advertised and required for every call (default none required). */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** Scope implications, e.g. `{ admin: ["mcp"] }`. */
  readonly scopeImplications?: ScopeHierarchy.ScopeImplications | undefined
  /** Leave tools the caller may not call out of `tools/list` (default true). */
  readonly hideForbiddenTools?: boolean | undefined
  /** Where the OAuth proxy keeps its state (default in memory; `@mcp-oauth/redis` for several instances). */
  readonly store?: McpAuth.LayerOptions["store"]
  /** Where spans go: a tracer layer such as `@effect/opentelemetry`'s `NodeSdk.layer` (default off; metrics always on). */
  readonly telemetry?: McpAuth.LayerOptions["telemetry"]
}

const isCallToolResult = (value: unknown): value is CallToolResult =>
  typeof value === "object" && value !== null && Array.isArray((value as { content?: unknown }).content)

const asResult = (value: unknown): CallToolResult =>
  isCallToolResult(value)
    ? value
    : { content: [{ type: "text", text: typeof value === "string" ? value : JSON.stringify(value ?? null) }] }

/** An MCP server protected by OAuth, in the seed framework's shape. */
export class MCPServer {
  readonly #options: MCPServerOptions
  readonly #tools: Array<ToolDefinition<never>> = []
  #listening: Listening | undefined
  #auth: McpAuth.McpAuth | undefined

  constructor(options: MCPServerOptions) {
    this.#options = options
  }

  /** Registers a tool; `requires` is enforced before `cb` runs, and at the HTTP layer for scope step-up. */
  tool<Params = Record<string, unknown>>(definition: ToolDefinition<Params>): this {
    this.#tools.push(definition as ToolDefinition<never>)
    return this
  }

  /** The MCP endpoint URL, once listening. */
  get url(): string | undefined {
    return this.#auth?.resource
  }

  /** The provider's start-up warnings, once listening. */
  get warnings(): ReadonlyArray<string> {
    return this.#auth?.warnings ?? []
  }

  /** Starts serving on `port` (0 picks a free one; give `baseUrl` then). Rejects with a ConfigProblem on bad settings. */
  async listen(port: number): Promise<void> {
    const host = this.#options.host ?? "127.0.0.1"
    const baseUrl = (this.#options.baseUrl ?? `http://${host}:${port}`).replace(/\/+$/, "")
    const scopes = this.#options.scopes ?? []
    const implications = this.#options.scopeImplications ?? {}
    const auth = await McpAuth.make(
      McpAuth.layer(
        { resource: `${baseUrl}/mcp`, resourceSetting: "baseUrl", resourceName: this.#options.name, scopesSupported: scopes, requiredScopes: scopes, scopeImplications: implications },
        this.#options.oauth.layer,
        { store: this.#options.store, telemetry: this.#options.telemetry }
      )
    )
    for (const tool of this.#tools) if (tool.requires !== undefined) auth.policy.set("tool", tool.name, tool.requires)
    this.#auth = auth
    this.#listening = await listen(auth, statelessHandlerV1((req) => this.#serverFor(req, implications)), { port, host })
  }

  /** Stops the server and releases the auth runtime. */
  async close(): Promise<void> {
    await this.#listening?.close()
    this.#listening = undefined
  }

  async #serverFor(req: AuthenticatedRequest, implications: ScopeHierarchy.ScopeImplications): Promise<McpServer> {
    const server = new McpServer({ name: this.#options.name, version: this.#options.version })
    const caller = AuthInfo.fromSdkAuthInfo(req.auth)
    for (const tool of this.#tools) {
      if (this.#options.hideForbiddenTools !== false && !(await this.#allowed(tool, caller, implications))) continue
      const run = async (params: unknown, extra: unknown) => {
        const auth = AuthContext.of(extra, implications)
        if (auth === undefined) throw new AuthContext.CallRefused("Unauthenticated")
        return asResult(await tool.cb(params as never, { auth }))
      }
      const guarded = AuthContext.guarded(tool.requires ?? {}, run, implications)
      const config = { description: tool.description ?? tool.name, ...(tool.inputSchema === undefined ? {} : { inputSchema: tool.inputSchema }) }
      // without an input schema the SDK passes only `extra`
      server.registerTool(tool.name, config as never, (tool.inputSchema === undefined ? (extra: unknown) => guarded({}, extra) : guarded) as never)
    }
    return server
  }

  async #allowed(
    tool: ToolDefinition<never>,
    caller: AuthInfo.AuthInfo | undefined,
    implications: ScopeHierarchy.ScopeImplications
  ): Promise<boolean> {
    if (tool.requires === undefined) return true
    if (caller === undefined) return false
    return Either.isRight(await Effect.runPromise(Effect.either(Authorization.check(tool.requires, caller, implications))))
  }
}
