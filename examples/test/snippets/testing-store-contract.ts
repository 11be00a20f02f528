/** Checked by `tsc -b`: docs/testing.md, the Store contract for your own store, verbatim (docsSnippets.test.ts). */
import type { Store } from "@mcp-oauth/auth-core"
import type { Effect, Scope } from "effect"
declare const makeMyStore: (options: { readonly prefix: string }) => Effect.Effect<Store.Service, never, Scope.Scope>

import { runStoreContract } from "@mcp-oauth/testing/store"

// TTLs, atomic take, compare-and-set and counters, each raced by concurrent callers;
// "live": the store keeps real time, so expiry tests sleep instead of moving Effect's TestClock
runStoreContract("my store", (namespace) => makeMyStore({ prefix: `${namespace}:` }), { clock: "live", ttl: "300 millis" })
