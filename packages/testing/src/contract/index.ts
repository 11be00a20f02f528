/**
 * @mcp-oauth/testing/contract: the behaviour suite every adapter passes; run it against your own adapter.
 *
 * @since 0.1.0
 */

export { runAdapterContract } from "./AdapterContract.js"
export { contractTools, createContractServer } from "./contractServers.js"
export { freePort } from "./freePort.js"
export type { AdapterUnderTest, ContractServer, ContractServerOptions, ServerSdk } from "./types.js"
export { runProxyContract } from "./ProxyContract.js"
