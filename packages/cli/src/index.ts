/**
 * mcp-oauth: the command line of @mcp-oauth, and its checks as Effect code for programmatic use.
 *
 * @since 0.1.0
 */

/** Check results and reports. */
export * as Check from "./Check.js"
/** The command line: parsing, output, exit codes. */
export * as Cli from "./Cli.js"
/** CORS checks of an MCP server. */
export * as CorsChecks from "./CorsChecks.js"
/** Telling an MCP server from an issuer. */
export * as Detect from "./Detect.js"
/** Running the doctor on a URL. */
export * as Doctor from "./Doctor.js"
/** The checks of an authorization server. */
export * as IssuerChecks from "./IssuerChecks.js"
/** The checks of an issuer's key set. */
export * as KeySetChecks from "./KeySetChecks.js"
/** The library's verdict on each key of a key set. */
export * as KeyVerdict from "./KeyVerdict.js"
/** Outbound HTTP of the checks. */
export * as Probe from "./Probe.js"
/** Table and JSON output. */
export * as Render from "./Render.js"
/** The checks of an MCP server. */
export * as ServerChecks from "./ServerChecks.js"
