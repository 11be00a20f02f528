/**
 * Spans on the request path that cost nothing when tracing is off. With the tracer disabled (McpAuth's default
 * without telemetry) `Effect.withSpan` still builds a no-op span and copies the fiber's whole context to hold it,
 * about 20 µs per span here (bench/README.md), more than a verified-token cache hit costs in all. So the tracer
 * switch is read first, and a disabled tracer means the effect runs as it is.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import * as Telemetry from "../Telemetry.js"

/** The failure reason recorded for an error: an `InvalidToken`'s reason, else the error's tag (both fixed vocabulary). */
export const reasonOf = (error: unknown): string => {
  if (typeof error !== "object" || error === null) return "unknown"
  const { _tag, reason } = error as { readonly _tag?: unknown; readonly reason?: unknown }
  if (_tag === "InvalidToken" && typeof reason === "string") return reason
  return typeof _tag === "string" ? _tag : "unknown"
}

const annotate = (exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> => {
  if (Exit.isSuccess(exit)) return Effect.annotateCurrentSpan(Telemetry.Attribute.outcome, "ok")
  const failure = Cause.failureOption(exit.cause)
  const reason = Option.isSome(failure) ? reasonOf(failure.value) : Cause.isInterruptedOnly(exit.cause) ? "interrupted" : "defect"
  // a refusal is a verdict; an unreachable upstream or a defect means nothing could be decided
  const outcome = Option.isSome(failure) && reason !== "UpstreamUnavailable" ? "refused" : "error"
  return Effect.annotateCurrentSpan({ [Telemetry.Attribute.outcome]: outcome, [Telemetry.Attribute.failureReason]: reason })
}

/**
 * Runs `self` in the span `name` (a {@link Telemetry.Span}) with its outcome and failure reason as attributes, when
 * the tracer is enabled; otherwise runs it as it is. Attributes must be fixed vocabulary, never a token or secret.
 */
export const spanned =
  (name: string, attributes?: Readonly<Record<string, string>>) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
    const options = attributes === undefined ? { captureStackTrace: false } : { captureStackTrace: false, attributes }
    return Effect.withFiberRuntime<A, E, R>((fiber) =>
      fiber.getFiberRef(FiberRef.currentTracerEnabled) ? Effect.withSpan(Effect.onExit(self, annotate), name, options) : self
    )
  }
