import { runAdapterContract } from "@mcp-oauth/testing/contract"
import { startExpress } from "./support/server.js"

runAdapterContract({ name: "express 5", sdks: ["v1", "v2"], start: startExpress })
