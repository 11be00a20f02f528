import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Option } from "effect"
import { InvalidToken, UpstreamUnavailable } from "../src/Errors.js"
import * as Telemetry from "../src/Telemetry.js"

/** Runs `self` in a span named `name`, handing back the span it saw (if any) and its exit. */
const observe = (self: Effect.Effect<unknown, unknown>) =>
  Effect.gen(function* () {
    let seen: Option.Option<{ readonly name: string; readonly attributes: ReadonlyMap<string, unknown> }> = Option.none()
    const probe = Effect.tap(Effect.option(Effect.currentSpan), (span) => Effect.sync(() => (seen = span)))
    const exit = yield* Effect.exit(Telemetry.spanned("mcp_oauth.test", { [Telemetry.Attribute.target]: "jwks" })(Effect.zipRight(probe, self)))
    return { span: seen, exit }
  })

describe("spanned", () => {
  it.effect("opens the span with its attributes and the outcome when the tracer is on", () =>
    Effect.gen(function* () {
      const { span, exit } = yield* observe(Effect.succeed(1))
      expect(Exit.isSuccess(exit)).toBe(true)
      const opened = Option.getOrThrow(span)
      expect(opened.name).toBe("mcp_oauth.test")
      expect(opened.attributes.get(Telemetry.Attribute.target)).toBe("jwks")
      expect(opened.attributes.get(Telemetry.Attribute.outcome)).toBe("ok")
    })
  )

  it.effect("records a refusal's reason, and an unreachable upstream as an error", () =>
    Effect.gen(function* () {
      const refused = Option.getOrThrow((yield* observe(new InvalidToken({ reason: "expired" }))).span)
      expect(refused.attributes.get(Telemetry.Attribute.outcome)).toBe("refused")
      expect(refused.attributes.get(Telemetry.Attribute.failureReason)).toBe("expired")
      const down = new UpstreamUnavailable({ reason: "unreachable", target: "jwks", retryAfterSeconds: 5 })
      const failed = Option.getOrThrow((yield* observe(down)).span)
      expect(failed.attributes.get(Telemetry.Attribute.outcome)).toBe("error")
      expect(failed.attributes.get(Telemetry.Attribute.failureReason)).toBe("UpstreamUnavailable")
    })
  )

  it.effect("opens no span at all when the tracer is off, and leaves the result alone", () =>
    Effect.gen(function* () {
      const ok = yield* Effect.withTracerEnabled(observe(Effect.succeed(1)), false)
      expect(Option.isNone(ok.span)).toBe(true)
      expect(ok.exit).toStrictEqual(Exit.succeed(1))
      const refused = yield* Effect.withTracerEnabled(observe(new InvalidToken({ reason: "expired" })), false)
      expect(Option.isNone(refused.span)).toBe(true)
      expect(Exit.isFailure(refused.exit)).toBe(true)
    })
  )
})
