import type { AgentEvent, RunResult } from '../core/events.js';
import type { ToolCallItem, ToolResultItem } from '../core/items.js';
import type { SessionKey } from '../core/store.js';
import type { Runtime, StepContext, StepRequest, StepResult } from '../runtime/runtime.js';

/**
 * An OpenTelemetry `Tracer` (from `trace.getTracer(...)` of `@opentelemetry/api`), typed by shape so
 * that cloudhop's types do not need that package installed.
 */
export interface TelemetryTracer {
  startSpan(name: string, options?: object, context?: object): object;
}

/** The `telemetry` option of createAgent: OpenTelemetry spans following the GenAI conventions. */
export interface TelemetryOptions {
  /** Default: the tracer named 'cloudhop' of the global tracer provider. */
  tracer?: TelemetryTracer;
  /**
   * Record messages, tool arguments and tool results on spans (secrets redacted). Off by default:
   * a trace backend is often less guarded than the session store.
   */
  recordContent?: boolean;
  /** `gen_ai.agent.name`; the turn's span is then named `invoke_agent {agentName}`. */
  agentName?: string;
}

/**
 * What a turn tells its tracer. The agent knows only this interface; `telemetry/` implements it
 * with OpenTelemetry and is loaded only when an agent has `telemetry`. An implementation never
 * throws: telemetry must not break a turn.
 */
export interface TurnTracer {
  startTurn(key: SessionKey, runtime: Runtime): TurnTrace;
}

export interface TurnTrace {
  /** Sends one model request (one attempt of a step) on `runtime`, inside its span. */
  chat(runtime: Runtime, request: StepRequest, context: StepContext, attempt: number): Promise<StepResult>;
  /** Runs one tool call inside its span. */
  tool<T extends { item: ToolResultItem }>(call: ToolCallItem, run: () => Promise<T>): Promise<T>;
  /** Every event of the turn; retries, failovers, reseeds and compactions are recorded. */
  event(event: AgentEvent): void;
  /** `replayed`: the result is a turn committed earlier under the same idempotencyKey. */
  end(outcome: { result: RunResult; replayed?: boolean } | { error: unknown }): void;
}

/** `runtime` with each request sent through `trace`, numbered per step. */
export function tracedRuntime(runtime: Runtime, trace: TurnTrace): Runtime {
  let attempt = 0;
  const traced: Runtime = {
    id: runtime.id,
    kind: runtime.kind,
    family: runtime.family,
    step: (request, context) => trace.chat(runtime, request, context, ++attempt),
  };
  return traced;
}
