/** What an adapter's test gives the contract suite: how to start a protected MCP server for a given setup. */
import type { McpAuth } from "@mcp-oauth/auth-core"

/** Which generation of the official MCP server SDK serves the MCP endpoint. */
export type ServerSdk = "v1" | "v2"

/** What the contract asks an adapter to start. */
export interface ContractServerOptions {
  /** A free loopback port to listen on (the resource URL is `http://127.0.0.1:<port>/mcp`). */
  readonly port: number
  /** The auth surface to put in front of the MCP endpoint, already built for this port's resource. */
  readonly auth: McpAuth.McpAuth
  /** The server SDK generation to serve with. */
  readonly sdk: ServerSdk
  /**
   * Creates the MCP server to serve (a v1 `McpServer` from `@modelcontextprotocol/sdk/server/mcp.js` or a v2
   * `McpServer` from `@modelcontextprotocol/server`, per `sdk`), with the contract's tools registered.
   * Call it once per request for stateless serving.
   */
  readonly createMcpServer: () => unknown
}

/** A running server under contract. */
export interface ContractServer {
  /** Stops listening and disposes `auth`. */
  readonly close: () => Promise<void>
}

/** An adapter under test. */
export interface AdapterUnderTest {
  /** A name for test titles, e.g. `express 5`. */
  readonly name: string
  /** The server SDK generations this adapter serves (each is run through the whole contract). */
  readonly sdks: ReadonlyArray<ServerSdk>
  /** Starts `createMcpServer` behind `auth` on `port` with this adapter, stateless, at path `/mcp`. */
  readonly start: (options: ContractServerOptions) => Promise<ContractServer>
}
