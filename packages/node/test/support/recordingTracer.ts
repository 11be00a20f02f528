/**
 * An in-memory Effect tracer for telemetry tests: every span the runtime opens is kept with its attributes, events
 * and exit, so a test can read what an exporter would have been handed.
 */
import { Cause, Effect, Exit, Layer, Metric, Option, Tracer } from "effect"
import type { Context } from "effect"

/** One span as the tracer saw it. */
export interface RecordedSpan {
  readonly name: string
  readonly spanId: string
  readonly parentId: string | undefined
  readonly attributes: Map<string, unknown>
  readonly events: Array<{ readonly name: string; readonly attributes: Record<string, unknown> | undefined }>
  readonly links: Array<Tracer.SpanLink>
  exit: Exit.Exit<unknown, unknown> | undefined
}

/** A tracer that records spans, and the layer that installs it. */
export interface Recorder {
  readonly spans: Array<RecordedSpan>
  readonly layer: Layer.Layer<never>
  /** Forgets the spans seen so far. */
  readonly clear: () => void
}

let nextId = 0

class Recording implements Tracer.Span {
  readonly _tag = "Span"
  readonly spanId = `span-${++nextId}`
  readonly traceId: string
  readonly sampled = true
  status: Tracer.SpanStatus
  readonly record: RecordedSpan

  constructor(
    readonly name: string,
    readonly parent: Option.Option<Tracer.AnySpan>,
    readonly context: Context.Context<never>,
    readonly links: Array<Tracer.SpanLink>,
    startTime: bigint,
    readonly kind: Tracer.SpanKind
  ) {
    this.traceId = Option.match(parent, { onNone: () => `trace-${nextId}`, onSome: (p) => p.traceId })
    this.status = { _tag: "Started", startTime }
    this.record = {
      name,
      spanId: this.spanId,
      parentId: Option.getOrUndefined(Option.map(parent, (p) => p.spanId)),
      attributes: new Map(),
      events: [],
      links,
      exit: undefined
    }
  }

  get attributes(): ReadonlyMap<string, unknown> {
    return this.record.attributes
  }

  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>): void {
    this.status = { _tag: "Ended", startTime: this.status.startTime, endTime, exit }
    this.record.exit = exit
  }

  attribute(key: string, value: unknown): void {
    this.record.attributes.set(key, value)
  }

  event(name: string, _startTime: bigint, attributes?: Record<string, unknown>): void {
    this.record.events.push({ name, attributes })
  }

  addLinks(links: ReadonlyArray<Tracer.SpanLink>): void {
    this.record.links.push(...links)
  }
}

/** A fresh recorder. */
export const makeRecorder = (): Recorder => {
  const spans: Array<RecordedSpan> = []
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind) => {
      const span = new Recording(name, parent, context, [...links], startTime, kind)
      spans.push(span.record)
      return span
    },
    context: (f) => f()
  })
  return { spans, layer: Layer.setTracer(tracer), clear: () => void spans.splice(0) }
}

/**
 * Everything an exporter would receive, as text: span names, attribute keys and values, event names and attributes,
 * link attributes, the rendered failure of every ended span, and every metric's name, description and tags.
 */
export const everythingSeen = async (spans: ReadonlyArray<RecordedSpan>): Promise<Array<string>> => {
  const seen: Array<string> = []
  const text = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v)) ?? String(value))
  for (const span of spans) {
    seen.push(span.name)
    for (const [key, value] of span.attributes) seen.push(key, text(value))
    for (const event of span.events) seen.push(event.name, text(event.attributes ?? {}))
    for (const link of span.links) seen.push(text(link.attributes))
    if (span.exit !== undefined && Exit.isFailure(span.exit)) seen.push(Cause.pretty(span.exit.cause))
  }
  for (const pair of await Effect.runPromise(Metric.snapshot)) {
    seen.push(pair.metricKey.name, pair.metricKey.description._tag === "Some" ? pair.metricKey.description.value : "")
    for (const tag of pair.metricKey.tags) seen.push(tag.key, tag.value)
  }
  return seen
}

/** The current count of `counter` under exactly these tags. */
export const counted = async (counter: Metric.Metric.Counter<number>, tags: Readonly<Record<string, string>>): Promise<number> => {
  const tagged = Object.entries(tags).reduce((metric, [key, value]) => Metric.tagged(metric, key, value), counter)
  return (await Effect.runPromise(Metric.value(tagged))).count
}
