/**
 * @mcp-oauth/testing/store: the behaviour suite every Store implementation passes; run it against your own store.
 *
 * @since 0.1.0
 */

export { runStoreContract } from "./StoreContract.js"
export type { MakeStore, StoreContractOptions } from "./StoreContract.js"
