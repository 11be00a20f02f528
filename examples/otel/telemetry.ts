/**
 * The OpenTelemetry side of the example: spans and metrics go to the console, or over OTLP/HTTP when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set (the exporters read that variable and its OTEL_EXPORTER_OTLP_* relatives).
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { ConsoleMetricExporter, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics"
import { BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"

/** Where the example's telemetry goes, for the start-up message. */
export const destination = (env: NodeJS.ProcessEnv): string =>
  env["OTEL_EXPORTER_OTLP_ENDPOINT"] ? `OTLP/HTTP at ${env["OTEL_EXPORTER_OTLP_ENDPOINT"]}` : "the console"

/** A layer installing an OpenTelemetry tracer and a metric reader over Effect's metric registry. */
export const telemetryLayer = (env: NodeJS.ProcessEnv) => {
  const otlp = Boolean(env["OTEL_EXPORTER_OTLP_ENDPOINT"])
  const interval = Number(env["OTEL_METRIC_EXPORT_INTERVAL"] ?? "10000")
  return NodeSdk.layer(() => ({
    resource: { serviceName: env["OTEL_SERVICE_NAME"] ?? "mcp-oauth-otel-example", serviceVersion: "0.1.0" },
    // the console gets each span as it ends, so the output can be read along with the requests
    spanProcessor: otlp ? new BatchSpanProcessor(new OTLPTraceExporter()) : new SimpleSpanProcessor(new ConsoleSpanExporter()),
    metricReader: new PeriodicExportingMetricReader({
      exporter: otlp ? new OTLPMetricExporter() : new ConsoleMetricExporter(),
      exportIntervalMillis: Number.isFinite(interval) && interval > 0 ? interval : 10_000
    })
  }))
}
