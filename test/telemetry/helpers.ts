import { AsyncLocalStorage } from 'node:async_hooks';
import { type Attributes, type Context, type ContextManager, ROOT_CONTEXT } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** SpanKind and SpanStatusCode by value, as a backend reads them. */
export const KIND = { INTERNAL: 0, CLIENT: 2 } as const;
export const STATUS = { UNSET: 0, OK: 1, ERROR: 2 } as const;

/**
 * An in-memory OpenTelemetry SDK: every span a tracer of it ends is kept, in end order, until
 * `reset()`.
 */
export function memoryTracing(scope = 'cloudhop-test') {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return {
    exporter,
    provider,
    tracer: provider.getTracer(scope),
    /** The ended spans, oldest start first. */
    spans: (): ReadableSpan[] => byStart(exporter.getFinishedSpans()),
    reset: () => exporter.reset(),
  };
}

function nanos(span: ReadableSpan): bigint {
  return BigInt(span.startTime[0]) * 1_000_000_000n + BigInt(span.startTime[1]);
}

export function byStart(spans: readonly ReadableSpan[]): ReadableSpan[] {
  return spans.slice().sort((a, b) => (nanos(a) < nanos(b) ? -1 : nanos(a) > nanos(b) ? 1 : 0));
}

export const idOf = (span: ReadableSpan) => span.spanContext().spanId;
export const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

/** The spans whose parent is `parent`, oldest start first. */
export function childrenOf(spans: readonly ReadableSpan[], parent: ReadableSpan): ReadableSpan[] {
  return byStart(spans.filter((span) => parentOf(span) === idOf(parent)));
}

/** The turn spans (`invoke_agent…`), oldest first. */
export function turnSpans(spans: readonly ReadableSpan[]): ReadableSpan[] {
  return byStart(spans.filter((span) => span.name.startsWith('invoke_agent')));
}

/** Everything a backend would store for a span: name, status, attributes and events, as text. */
export function serialized(span: ReadableSpan): string {
  return JSON.stringify({
    name: span.name,
    status: span.status,
    attributes: span.attributes,
    events: span.events.map((event) => ({ name: event.name, attributes: event.attributes })),
    links: span.links,
  });
}

/** Every attribute set of a span and of its events. */
export function attributeSets(span: ReadableSpan): Attributes[] {
  return [span.attributes, ...span.events.map((event) => event.attributes ?? {})];
}

/**
 * A context manager on AsyncLocalStorage, as `@opentelemetry/context-async-hooks` provides (not
 * installed here): with it, `context.active()` follows awaits, so a span made active around
 * `agent.run()` is the active context when the turn starts.
 */
export class AsyncLocalContextManager implements ContextManager {
  private storage = new AsyncLocalStorage<Context>();

  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.storage.run(context, () => fn.call(thisArg, ...args));
  }

  bind<T>(context: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const manager = this;
    return function (this: unknown, ...args: unknown[]) {
      return manager.with(context, () => (target as (...a: unknown[]) => unknown).apply(this, args));
    } as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.storage.disable();
    this.storage = new AsyncLocalStorage<Context>();
    return this;
  }
}
