import * as z from 'zod/v4';
import type { FinishReason, RuntimeEvent } from '../core/events.js';
import type { Item } from '../core/items.js';
import { hasMethods } from '../core/options.js';
import type { RemoteHandle } from '../core/store.js';
import type { Usage } from '../core/usage.js';

/** A tool as the model sees it. */
export interface ToolSpec {
  name: string;
  description?: string;
  /** JSON Schema (an object schema) of the tool's input. */
  parameters: Record<string, unknown>;
}

/** A structured-output request: the model must answer with JSON that fits `schema`. */
export interface OutputSpec {
  name: string;
  schema: Record<string, unknown>;
}

/** Where a stateful runtime stands with the server for this session. */
export interface RemoteState {
  remote: RemoteHandle;
  /** How many of `StepRequest.items` the server already holds; the runtime sends the rest. */
  syncedCount: number;
}

export interface StepRequest {
  /** Instructions (system prompt). Configuration, never part of the transcript. */
  instructions?: string;
  /**
   * The context. Without `remoteState`: everything the model should see (the agent's context view:
   * a summary as a system message, the newest history within the budget, this turn's items).
   * With `remoteState`: the server holds the first `syncedCount` items; send the rest.
   */
  items: Item[];
  tools: ToolSpec[];
  output?: OutputSpec;
  /** Stream text deltas through `StepContext.emit` as they arrive. */
  stream: boolean;
  /** Stateful runtimes only: the binding to resume from; absent means start a new remote session. */
  remoteState?: RemoteState;
  /**
   * With `remoteState`: the context to seed a new remote session with if the server no longer
   * holds this one (the agent reads it only then). Absent: `items` is the whole context.
   */
  reseedItems?: () => Promise<Item[]>;
}

export interface StepContext {
  /** Aborts on the caller's signal, the per-request timeout, or the turn timeout. */
  signal: AbortSignal;
  emit(event: RuntimeEvent): void;
  /** Per-request timeout in ms, for clients that take one. */
  timeoutMs?: number;
}

export interface StepResult {
  /** Items the model produced in this step: reasoning, an assistant message, tool calls. */
  items: Item[];
  finishReason: FinishReason;
  usage: Usage;
  /** Stateful runtimes: the handle now holding the whole context including `items`. */
  remote?: RemoteHandle;
  /** The runtime that actually answered (differs from the runtime's id behind `failover`). */
  runtimeId?: string;
  /** What the server said about its answer, where it says it: the response's id and model. */
  response?: { id?: string; model?: string };
}

/** How the agent runs one step on a runtime: with its retry policy, timeout and events. */
export type StepRunner = (runtime: Runtime, request: StepRequest) => Promise<StepResult>;

export interface DispatchContext {
  emit(event: RuntimeEvent): void;
  /** Runs a step on a member runtime with the agent's retries; resolves with `runtimeId` set. */
  runStep: StepRunner;
  /** True once this step streamed text to the consumer: another runtime may then not take over the step. */
  shownText(): boolean;
}

/**
 * An adapter to one endpoint + model. `stateless` runtimes receive the whole context on every
 * step; `stateful` ones receive `remoteState` and send only what the server has not seen.
 */
export interface Runtime {
  readonly id: string;
  readonly kind: 'stateless' | 'stateful';
  /** Provider family for opaque reasoning data: replayed only to a runtime of the same family. */
  readonly family: string;
  /**
   * The provider as the OpenTelemetry GenAI conventions name it (`gen_ai.provider.name`), e.g.
   * 'azure.ai.openai', 'aws.bedrock', 'openai'. Absent on composite runtimes such as failover.
   */
  readonly provider?: string;
  /** The model (or Azure deployment) the runtime requests. Absent on composite runtimes. */
  readonly model?: string;
  step(request: StepRequest, context: StepContext): Promise<StepResult>;
  /**
   * Optional capability of composite runtimes (failover): choose which member runtimes run the
   * step. `prepare` builds the request a given member needs (its context and binding).
   */
  dispatch?(
    prepare: (member: Runtime) => Promise<StepRequest>,
    context: DispatchContext,
  ): Promise<StepResult>;
  close?(): Promise<void>;
}

/** Option validation for anything that takes a runtime (createAgent, failover). */
export const runtimeSchema = z.custom<Runtime>(
  (value) =>
    hasMethods(value, ['step']) &&
    typeof value.id === 'string' &&
    (value.kind === 'stateless' || value.kind === 'stateful'),
  'must be a runtime such as azureChat({...}), frontier({...}) or scriptedRuntime([...])',
);
