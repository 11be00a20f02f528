import { vi } from "vitest"
import { adapterSuite } from "./support/suite.js"

// the adapter and the test app both import "express": here that is Express 4, as in an Express 4 application
vi.mock("express", async () => await import("express4"))

adapterSuite(4)
