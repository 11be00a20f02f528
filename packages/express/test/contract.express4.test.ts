import { vi } from "vitest"
import { runAdapterContract } from "@mcp-oauth/testing/contract"
import { expressMajor, startExpress } from "./support/server.js"

// the adapter and the app both import "express": here that is Express 4, as in an Express 4 application
vi.mock("express", async () => await import("express4"))

runAdapterContract({
  name: "express 4",
  sdks: ["v1", "v2"],
  start: async (options) => {
    if (expressMajor() !== 4) throw new Error("expected Express 4")
    return startExpress(options)
  }
})
