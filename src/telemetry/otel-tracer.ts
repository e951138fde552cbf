import type { Attributes, Context, Span, Tracer } from '@opentelemetry/api';
import type { TelemetryOptions, TurnTrace, TurnTracer } from '../agent/turn-trace.js';
import { CloudhopError, describeThrown } from '../core/errors.js';
import type { AgentEvent, RunResult } from '../core/events.js';
import type { ToolCallItem, ToolResultItem } from '../core/items.js';
import { redactSecrets } from '../core/secrets.js';
import type { SessionKey } from '../core/store.js';
import type { Usage } from '../core/usage.js';
import type { Runtime, StepContext, StepRequest, StepResult } from '../runtime/runtime.js';
import { contentAttribute, genAiMessages } from './gen-ai-messages.js';

type OtelApi = typeof import('@opentelemetry/api');

// OpenTelemetry enums, by value: the api is loaded only when telemetry is on.
const SPAN_KIND_INTERNAL = 0;
const SPAN_KIND_CLIENT = 2;
const STATUS_ERROR = 2;

/**
 * Loads `@opentelemetry/api` (an optional peer) and makes the agent's tracer. Rejects with
 * invalid_config when the package is not installed.
 */
export async function loadTelemetry(
  options: TelemetryOptions,
  log: ((line: string) => void) | undefined,
): Promise<TurnTracer> {
  let api: OtelApi;
  try {
    const loaded = (await import('@opentelemetry/api')) as OtelApi & { default?: OtelApi };
    api = loaded.trace ? loaded : loaded.default!;
  } catch (error) {
    throw new CloudhopError(
      'invalid_config',
      'createAgent: option "telemetry" needs the @opentelemetry/api package: install it (npm install @opentelemetry/api) or leave telemetry out.',
      { cause: error, retryable: false },
    );
  }
  return new OtelTurnTracer(api, options, log);
}

/** Where a runtime's requests go, read off its id (`<factory>:<host><path>/<model>`). */
function serverOf(runtimeId: string): { address: string; port?: number } | undefined {
  const colon = runtimeId.indexOf(':');
  const host = runtimeId.slice(colon + 1).split('/', 1)[0];
  if (colon < 0 || !host) return undefined;
  try {
    const url = new URL(`https://${host}`);
    return url.port ? { address: url.hostname, port: Number(url.port) } : { address: url.hostname };
  } catch {
    return undefined;
  }
}

function usageAttributes(usage: Usage): Attributes {
  const attributes: Attributes = {
    'gen_ai.usage.input_tokens': usage.inputTokens,
    'gen_ai.usage.output_tokens': usage.outputTokens,
  };
  if (usage.cachedInputTokens !== undefined) {
    attributes['gen_ai.usage.cache_read.input_tokens'] = usage.cachedInputTokens;
  }
  if (usage.reasoningTokens !== undefined) {
    attributes['gen_ai.usage.reasoning.output_tokens'] = usage.reasoningTokens;
  }
  return attributes;
}

/** `error.type`: a cloudhop error's code, else the error's class name. */
function errorType(error: unknown): string {
  if (CloudhopError.isInstance(error)) return error.code;
  return error instanceof Error && error.name ? error.name : '_OTHER';
}

/**
 * The status description: the error's message, secrets redacted. An output_invalid message quotes
 * the model's answer (or what the output schema said of it), so without recordContent it is told
 * without the quote.
 */
function statusMessage(error: unknown, recordContent: boolean): string {
  if (!recordContent && CloudhopError.is(error, 'output_invalid')) {
    return "The model's answer did not fit the output schema (not quoted: recordContent is off).";
  }
  return redactSecrets(describeThrown(error));
}

function failed(span: Span, error: unknown, recordContent: boolean): void {
  span.setAttribute('error.type', errorType(error));
  span.setStatus({ code: STATUS_ERROR, message: statusMessage(error, recordContent) });
}

/** Attributes every span of the turn carries. */
function runtimeAttributes(runtime: Runtime): Attributes {
  const attributes: Attributes = { 'cloudhop.runtime.id': runtime.id };
  if (runtime.provider !== undefined) attributes['gen_ai.provider.name'] = runtime.provider;
  if (runtime.model !== undefined) attributes['gen_ai.request.model'] = runtime.model;
  return attributes;
}

/** Per runtime, made once (reading the id's URL costs more than the rest of a span). */
const requestAttributesOf = new WeakMap<Runtime, Attributes>();

/** What every request span of `runtime` carries: the runtime, and the server it talks to. */
function requestAttributes(runtime: Runtime): Attributes {
  let attributes = requestAttributesOf.get(runtime);
  if (attributes) return attributes;
  attributes = runtimeAttributes(runtime);
  const server = serverOf(runtime.id);
  if (server) {
    attributes['server.address'] = server.address;
    if (server.port !== undefined) attributes['server.port'] = server.port;
  }
  requestAttributesOf.set(runtime, attributes);
  return attributes;
}

class OtelTurnTracer implements TurnTracer {
  private readonly tracer: Tracer;
  private reported = false;

  constructor(
    readonly api: OtelApi,
    readonly options: TelemetryOptions,
    private readonly log: ((line: string) => void) | undefined,
  ) {
    this.tracer = (options.tracer as Tracer | undefined) ?? api.trace.getTracer('cloudhop');
  }

  /** Runs a telemetry call; what it throws is reported once per agent and otherwise ignored. */
  guard<T>(call: () => T): T | undefined {
    try {
      return call();
    } catch (error) {
      if (!this.reported) {
        this.reported = true;
        this.log?.(`telemetry failed; turns go on without it where it fails: ${describeThrown(error)}`);
      }
      return undefined;
    }
  }

  /** Runs `work` with `span` active, so spans made inside (HTTP client instrumentation) nest under it. */
  within<T>(parent: Context, span: Span, work: () => T): T {
    let started = false;
    const run = () => {
      started = true;
      return work();
    };
    try {
      return this.api.context.with(this.api.trace.setSpan(parent, span), run);
    } catch (error) {
      if (started) throw error;
      this.guard(() => {
        throw error;
      });
      return work();
    }
  }

  /**
   * Records the outcome on `span`, then ends it even when recording failed: a span never ended is
   * never exported, and the spans under it would lose their parent.
   */
  finish(span: Span, record: () => void): void {
    // A span that records nothing (a sampled-out or no-op one) is not worth describing.
    const recording = this.guard(() => typeof span.isRecording !== 'function' || span.isRecording());
    if (recording !== false) this.guard(record);
    this.guard(() => span.end());
  }

  startSpan(name: string, kind: number, attributes: Attributes, parent: Context): Span | undefined {
    return this.guard(() => this.tracer.startSpan(name, { kind, attributes }, parent));
  }

  startTurn(key: SessionKey, runtime: Runtime): TurnTrace {
    const parent = this.guard(() => this.api.context.active()) ?? this.api.ROOT_CONTEXT;
    const { agentName } = this.options;
    const attributes: Attributes = {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.conversation.id': key.sessionId,
      'cloudhop.session.namespace': key.namespace,
      ...runtimeAttributes(runtime),
    };
    if (agentName !== undefined) attributes['gen_ai.agent.name'] = agentName;
    const name = agentName === undefined ? 'invoke_agent' : `invoke_agent ${agentName}`;
    const span = this.startSpan(name, SPAN_KIND_INTERNAL, attributes, parent);
    return new OtelTurnTrace(this, key, runtime, span, span ? this.api.trace.setSpan(parent, span) : parent);
  }
}

class OtelTurnTrace implements TurnTrace {
  /** The last runtime that answered a request, for a turn on a runtime that names no model (failover). */
  private answeredBy: Runtime | undefined;

  constructor(
    private readonly tracer: OtelTurnTracer,
    private readonly key: SessionKey,
    private readonly runtime: Runtime,
    private readonly span: Span | undefined,
    private readonly context: Context,
  ) {}

  private get recordContent(): boolean {
    return this.tracer.options.recordContent === true;
  }

  async chat(
    runtime: Runtime,
    request: StepRequest,
    context: StepContext,
    attempt: number,
  ): Promise<StepResult> {
    const { tracer } = this;
    const attributes: Attributes = {
      'gen_ai.operation.name': 'chat',
      'gen_ai.conversation.id': this.key.sessionId,
      'gen_ai.output.type': request.output ? 'json' : 'text',
      'gen_ai.request.stream': request.stream,
      'cloudhop.attempt': attempt,
      ...requestAttributes(runtime),
    };
    if (runtime.kind === 'stateful')
      attributes['cloudhop.remote.resumed'] = request.remoteState !== undefined;
    if (this.recordContent) {
      if (request.instructions !== undefined) {
        attributes['gen_ai.system_instructions'] = contentAttribute([
          { type: 'text', content: request.instructions },
        ]);
      }
      attributes['gen_ai.input.messages'] = contentAttribute(genAiMessages(request.items));
    }
    const name = runtime.model === undefined ? 'chat' : `chat ${runtime.model}`;
    const span = tracer.startSpan(name, SPAN_KIND_CLIENT, attributes, this.context);
    if (!span) return runtime.step(request, context);

    const started = performance.now();
    let firstChunkMs: number | undefined;
    const watched: StepContext = request.stream
      ? {
          ...context,
          emit(event) {
            if (event.type === 'text-delta') firstChunkMs ??= performance.now() - started;
            context.emit(event);
          },
        }
      : context;
    let result: StepResult;
    try {
      result = await tracer.within(this.context, span, () => runtime.step(request, watched));
    } catch (error) {
      tracer.finish(span, () => failed(span, error, this.recordContent));
      throw error;
    }
    this.answeredBy = runtime;
    tracer.finish(span, () => {
      const ended: Attributes = {
        'gen_ai.response.finish_reasons': [result.finishReason],
        ...usageAttributes(result.usage),
      };
      if (result.response?.id) ended['gen_ai.response.id'] = result.response.id;
      if (result.response?.model) ended['gen_ai.response.model'] = result.response.model;
      if (firstChunkMs !== undefined) ended['gen_ai.response.time_to_first_chunk'] = firstChunkMs / 1000;
      if (this.recordContent) {
        ended['gen_ai.output.messages'] = contentAttribute(genAiMessages(result.items, result.finishReason));
      }
      span.setAttributes(ended);
    });
    return result;
  }

  async tool<T extends { item: ToolResultItem }>(call: ToolCallItem, run: () => Promise<T>): Promise<T> {
    const { tracer } = this;
    const attributes: Attributes = {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': call.name,
      'gen_ai.tool.call.id': call.callId,
      'gen_ai.tool.type': 'function',
      'gen_ai.conversation.id': this.key.sessionId,
    };
    if (this.recordContent) attributes['gen_ai.tool.call.arguments'] = redactSecrets(call.arguments);
    const span = tracer.startSpan(`execute_tool ${call.name}`, SPAN_KIND_INTERNAL, attributes, this.context);
    if (!span) return run();
    let outcome: T;
    try {
      outcome = await tracer.within(this.context, span, run);
    } catch (error) {
      tracer.finish(span, () => failed(span, error, this.recordContent));
      throw error;
    }
    tracer.finish(span, () => {
      const { item } = outcome;
      if (this.recordContent) span.setAttribute('gen_ai.tool.call.result', redactSecrets(item.output));
      if (item.isError) {
        span.setAttribute('error.type', 'tool_error');
        span.setStatus({ code: STATUS_ERROR, message: 'the tool call ended in an error result' });
      }
    });
    return outcome;
  }

  event(event: AgentEvent): void {
    const { span } = this;
    if (!span) return;
    switch (event.type) {
      case 'retry':
        this.tracer.guard(() =>
          span.addEvent('cloudhop.retry', {
            'cloudhop.attempt': event.attempt,
            'cloudhop.retry.delay_ms': event.delayMs,
            'error.type': event.error.code,
          }),
        );
        break;
      case 'failover':
        this.tracer.guard(() =>
          span.addEvent('cloudhop.failover', {
            'cloudhop.failover.from': event.from,
            'cloudhop.failover.to': event.to,
            'error.type': event.error.code,
          }),
        );
        break;
      case 'session-reseeded':
        this.tracer.guard(() =>
          span.addEvent('cloudhop.reseed', {
            'cloudhop.runtime.id': event.runtimeId,
            'cloudhop.reseed.reason': redactSecrets(event.reason),
          }),
        );
        break;
      case 'compacted':
        this.tracer.guard(() =>
          span.addEvent('cloudhop.compaction', {
            'cloudhop.runtime.id': event.runtimeId,
            'cloudhop.compaction.from_version': event.fromVersion,
            'cloudhop.compaction.to_version': event.toVersion,
          }),
        );
        break;
      case 'compaction-failed':
        this.tracer.guard(() =>
          span.addEvent('cloudhop.compaction_failed', { 'error.type': event.error.code }),
        );
        break;
    }
  }

  end(outcome: { result: RunResult; replayed?: boolean } | { error: unknown }): void {
    const { span } = this;
    if (!span) return;
    this.tracer.finish(span, () => {
      if ('error' in outcome) {
        failed(span, outcome.error, this.recordContent);
      } else {
        span.setAttributes(this.resultAttributes(outcome.result, outcome.replayed === true));
      }
    });
  }

  private resultAttributes(result: RunResult, replayed: boolean): Attributes {
    const attributes: Attributes = {
      ...usageAttributes(result.usage),
      'cloudhop.session.version': result.sessionVersion,
      'cloudhop.answered_by': result.runtimeId,
    };
    if (replayed) attributes['cloudhop.replayed'] = true;
    if (result.cost) attributes['cloudhop.cost.usd'] = result.cost.usd;
    const answeredBy = this.answeredBy;
    if (answeredBy && this.runtime.provider === undefined && answeredBy.provider !== undefined) {
      attributes['gen_ai.provider.name'] = answeredBy.provider;
    }
    if (answeredBy && this.runtime.model === undefined && answeredBy.model !== undefined) {
      attributes['gen_ai.request.model'] = answeredBy.model;
    }
    if (this.recordContent) {
      const asked = result.items.find((item) => item.type === 'message' && item.role === 'user');
      if (asked) attributes['gen_ai.input.messages'] = contentAttribute(genAiMessages([asked]));
      attributes['gen_ai.output.messages'] = contentAttribute([
        { role: 'assistant', parts: [{ type: 'text', content: result.text }], finish_reason: 'stop' },
      ]);
    }
    return attributes;
  }
}
