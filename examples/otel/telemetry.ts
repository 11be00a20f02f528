/**
 * The OpenTelemetry side of the example: spans and metrics go to the console, or over OTLP/HTTP when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set (the exporters read that variable and its OTEL_EXPORTER_OTLP_* relatives).
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { ConsoleMetricExporter, PeriodicExportingMetricReader, type PushMetricExporter } from "@opentelemetry/sdk-metrics"
import { BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect } from "effect"

/** Where the example's telemetry goes, for the start-up message. */
export const destination = (env: NodeJS.ProcessEnv): string =>
  env["OTEL_EXPORTER_OTLP_ENDPOINT"] ? `OTLP/HTTP at ${env["OTEL_EXPORTER_OTLP_ENDPOINT"]}` : "the console"

// the OTLP exporters are loaded only when used: they are the heaviest modules here
const exporters = async (env: NodeJS.ProcessEnv): Promise<{ spans: SpanProcessor; metrics: PushMetricExporter }> => {
  if (!env["OTEL_EXPORTER_OTLP_ENDPOINT"]) {
    // the console gets each span as it ends, so the output can be read along with the requests
    return { spans: new SimpleSpanProcessor(new ConsoleSpanExporter()), metrics: new ConsoleMetricExporter() }
  }
  const [{ OTLPTraceExporter }, { OTLPMetricExporter }] = await Promise.all([
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/exporter-metrics-otlp-http")
  ])
  return { spans: new BatchSpanProcessor(new OTLPTraceExporter()), metrics: new OTLPMetricExporter() }
}

/** A layer installing an OpenTelemetry tracer and a metric reader over Effect's metric registry. */
export const telemetryLayer = (env: NodeJS.ProcessEnv) =>
  NodeSdk.layer(
    Effect.promise(async (): Promise<NodeSdk.Configuration> => {
      const { spans, metrics } = await exporters(env)
      const interval = Number(env["OTEL_METRIC_EXPORT_INTERVAL"] ?? "10000")
      return {
        resource: { serviceName: env["OTEL_SERVICE_NAME"] ?? "mcp-oauth-otel-example", serviceVersion: "0.1.0" },
        spanProcessor: spans,
        metricReader: new PeriodicExportingMetricReader({
          exporter: metrics,
          exportIntervalMillis: Number.isFinite(interval) && interval > 0 ? interval : 10_000
        })
      }
    })
  )
