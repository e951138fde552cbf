import { setMaxListeners } from 'node:events';
import type * as z from 'zod/v4';
import { CloudhopError, messageOf, storeUnavailable } from '../core/errors.js';
import type { AgentEvent, RunResult } from '../core/events.js';
import { newId, nowIso } from '../core/ids.js';
import {
  createItem,
  type Item,
  type MessageItem,
  type Part,
  type ToolCallItem,
  type ToolResultItem,
  textOf,
} from '../core/items.js';
import { redactSecrets } from '../core/secrets.js';
import type {
  AppendOptions,
  Binding,
  Lease,
  SessionKey,
  SessionSnapshot,
  SessionStore,
} from '../core/store.js';
import { addUsage, emptyUsage, type Usage } from '../core/usage.js';
import {
  type AttemptOptions,
  abortable,
  abortError,
  linkedSignal,
  NEVER_ABORTED,
  type RetryPolicy,
  withRetry,
} from '../runtime/retry.js';
import type {
  OutputSpec,
  RemoteState,
  Runtime,
  StepContext,
  StepRequest,
  StepResult,
  ToolSpec,
} from '../runtime/runtime.js';
import { applyContextPolicy, type ContextPolicy } from './context-policy.js';
import type { Tool } from './tool.js';
import { serializeToolOutput } from './tool-output.js';

export interface TurnConfig {
  runtime: Runtime;
  store: SessionStore;
  instructions?: string;
  tools: Map<string, Tool>;
  /** The tools as the model sees them, made once per agent. */
  toolSpecs: ToolSpec[];
  maxSteps: number;
  retry: RetryPolicy;
  timeoutMs?: number;
  context: ContextPolicy;
  lockTtlMs: number;
  lockWaitMs: number;
  /** The debug logger; absent without `debug`, so that `log?.(…)` does not even build the line. */
  log?: (line: string) => void;
}

export interface TurnInput {
  key: SessionKey;
  content: Part[];
  output?: { schema: z.ZodType; spec: OutputSpec };
  stream: boolean;
  signal?: AbortSignal;
  turnTimeoutMs?: number;
  /** Becomes the id of the turn's user message, so a resubmitted turn is found and not run twice. */
  idempotencyKey?: string;
}

const UNABORTABLE_TURN = { signal: NEVER_ABORTED };

/**
 * One signal per turn, never the caller's own: vendor clients add an abort listener to the signal of
 * every request and never remove it, so a long-lived signal would collect them turn after turn.
 */
export function turnSignal(input: TurnInput): { signal: AbortSignal; dispose?: () => void } {
  if (input.signal === undefined && input.turnTimeoutMs === undefined) return UNABORTABLE_TURN;
  return linkedSignal(
    input.signal,
    input.turnTimeoutMs,
    () =>
      new CloudhopError(
        'timeout',
        `The turn did not finish within timeoutMs (${input.turnTimeoutMs} ms); nothing was committed. Raise the turn's timeoutMs or lower maxSteps.`,
        { retryable: false },
      ),
  );
}

const LISTENERS_BEFORE_WARNING = 8;

function finalText(items: readonly Item[]): string {
  const message = items.findLast(
    (item): item is MessageItem => item.type === 'message' && item.role === 'assistant',
  );
  return message ? textOf(message) : '';
}

async function parseStructuredOutput(text: string, schema: z.ZodType, runtimeId: string): Promise<unknown> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CloudhopError(
      'output_invalid',
      `The model's answer is not JSON (it starts: ${JSON.stringify(text.slice(0, 80))}). Retry, simplify the output schema, or use a model that supports structured output.`,
      { runtimeId },
    );
  }
  let parsed: z.ZodSafeParseResult<unknown>;
  try {
    // Async: a schema may refine asynchronously; a refine that throws is reported like a mismatch.
    parsed = await schema.safeParseAsync(json);
  } catch (error) {
    throw new CloudhopError(
      'output_invalid',
      `The output schema threw while checking the model's answer: ${messageOf(error)}. Fix the schema's refinements.`,
      { runtimeId, cause: error },
    );
  }
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map(String).join('.');
    throw new CloudhopError(
      'output_invalid',
      `The model's answer does not match the output schema at "${path || '<root>'}": ${issue.message}. Retry, or loosen the schema.`,
      { runtimeId, path },
    );
  }
  return parsed.data;
}

/**
 * The already-committed turn whose user message carries `idempotencyKey`: its items run up to the
 * next user message. Resubmitting a turn returns this instead of running the model again.
 */
function committedTurn(
  snapshot: SessionSnapshot,
  idempotencyKey: string,
  runtimeId: string,
): Omit<RunResult, 'output'> | undefined {
  const start = snapshot.items.findIndex((item) => item.id === idempotencyKey);
  if (start < 0) return undefined;
  const next = snapshot.items.findIndex(
    (item, index) => index > start && item.type === 'message' && item.role === 'user',
  );
  const end = next < 0 ? snapshot.items.length : next;
  const items = snapshot.items.slice(start, end);
  return { text: finalText(items), items, usage: emptyUsage(), runtimeId, sessionVersion: end };
}

/** Per-runtime remote state, seeded from the stored bindings; a binding beyond the session is ignored. */
function remoteStates(snapshot: SessionSnapshot): Map<string, RemoteState> {
  const states = new Map<string, RemoteState>();
  for (const runtimeId in snapshot.bindings) {
    const binding = snapshot.bindings[runtimeId]!;
    if (binding.syncedVersion <= snapshot.version) {
      states.set(binding.runtimeId, { remote: binding.remote, syncedCount: binding.syncedVersion });
    }
  }
  return states;
}

/**
 * One turn, as DESIGN.md "The turn" pins it: lease, load, model/tool loop, one atomic commit.
 * Nothing is written unless the whole turn succeeds.
 */
export async function runTurn(
  config: TurnConfig,
  input: TurnInput,
  signal: AbortSignal,
  emit: (event: AgentEvent) => void,
): Promise<RunResult> {
  let lease: Lease | undefined;
  let snapshotBindings: SessionSnapshot['bindings'] = {};
  let baseVersion: number | undefined;
  let committed = false;
  let answeredBy = config.runtime.id;
  // Conversations change on the server as each step is sent; a runtime whose stored conversation
  // took in steps this turn does not commit must not trust that conversation again (chained
  // responses need no such care: an uncommitted response is never referenced).
  const touchedConversations = new Set<string>();
  /**
   * Replaces the stored bindings of conversations that took in steps the session does not hold as
   * such (a failed turn; or a step another runtime took over) with empty ones, so the next turn on
   * that runtime starts a new conversation from the local transcript. Only stored conversation
   * bindings are touched: a conversation this turn created was never stored. Best effort: if the
   * store is down too, the error the turn already has is the one to report.
   */
  const forgetConversations = async (version: number) => {
    for (const runtimeId of touchedConversations) {
      if (!snapshotBindings[runtimeId]?.remote.conversationId) continue;
      const forget: AppendOptions = {
        expectedVersion: version,
        binding: { runtimeId, remote: {}, syncedVersion: 0 },
      };
      if (lease) forget.lease = lease;
      await config.store.append(input.key, [], forget).catch(() => {});
    }
  };
  try {
    if (signal.aborted) throw abortError(signal);
    // Each store call sits in its own try: whatever it throws, synchronously or not, surfaces as
    // store_unavailable (a try around an await costs less than a wrapping promise on every turn).
    if (!config.store.processLocal) {
      try {
        lease = await abortable(
          config.store.lock(input.key, config.lockTtlMs, { waitMs: config.lockWaitMs }),
          signal,
          (late) => {
            void late.release().catch(() => {});
          },
        );
      } catch (error) {
        throw storeUnavailable(error, 'taking the session lease');
      }
    }
    let stored: SessionSnapshot | undefined;
    try {
      stored = await config.store.load(input.key);
    } catch (error) {
      throw storeUnavailable(error, 'loading the session');
    }
    const snapshot = stored ?? { items: [], version: 0, bindings: {} };
    baseVersion = snapshot.version;
    snapshotBindings = snapshot.bindings;
    emit({
      type: 'turn-start',
      sessionId: input.key.sessionId,
      namespace: input.key.namespace,
      runtimeId: config.runtime.id,
    });

    if (input.idempotencyKey !== undefined) {
      const replay = committedTurn(snapshot, input.idempotencyKey, config.runtime.id);
      if (replay) {
        const output = input.output
          ? await parseStructuredOutput(replay.text, input.output.schema, replay.runtimeId)
          : undefined;
        const result: RunResult = { ...replay, output };
        emit({ type: 'turn-finish', result });
        return result;
      }
    }

    // Built whole rather than through createItem: this runs before the first request of every turn.
    const userMessage: MessageItem = {
      type: 'message',
      role: 'user',
      content: input.content,
      id: input.idempotencyKey ?? newId(),
      createdAt: nowIso(),
    };
    const turnItems: Item[] = [userMessage];
    const states = remoteStates(snapshot);
    let usage: Usage = emptyUsage();
    let stepShownText = false;

    const prepare = (member: Runtime): StepRequest => {
      const all = snapshot.items.concat(turnItems);
      const request: StepRequest = {
        items: member.kind === 'stateless' ? applyContextPolicy(all, snapshot.version, config.context) : all,
        tools: config.toolSpecs,
        stream: input.stream,
      };
      if (config.instructions !== undefined) request.instructions = config.instructions;
      if (input.output) request.output = input.output.spec;
      const state = states.get(member.id);
      if (member.kind === 'stateful' && state) {
        request.remoteState = state;
        if (state.remote.conversationId) touchedConversations.add(member.id);
      }
      return request;
    };

    let requests = 0;
    const runStep = async (member: Runtime, request: StepRequest): Promise<StepResult> => {
      let emittedText = false;
      const stepEmit = (event: AgentEvent) => {
        if (event.type === 'text-delta') {
          emittedText = true;
          stepShownText = true;
        }
        emit(event);
      };
      const retry: AttemptOptions = {
        policy: config.retry,
        signal,
        runtimeId: member.id,
        // Text already shown to a consumer cannot be taken back: a stream that failed after
        // its first delta fails the turn instead of being retried.
        canRetry: () => !emittedText,
        onRetry: (event) => {
          config.log?.(`retry ${event.attempt} on ${member.id} in ${event.delayMs} ms: ${event.error.code}`);
          emit({ type: 'retry', ...event });
        },
      };
      if (config.timeoutMs !== undefined) retry.timeoutMs = config.timeoutMs;
      const result = await withRetry((attemptSignal) => {
        emittedText = false;
        // Vendor clients leave one abort listener per request on the signal; a long turn is bounded
        // by steps × attempts and is no leak, so it should not trigger Node's warning.
        if (++requests === LISTENERS_BEFORE_WARNING) setMaxListeners(0, signal);
        const context: StepContext = { signal: attemptSignal, emit: stepEmit };
        if (config.timeoutMs !== undefined) context.timeoutMs = config.timeoutMs;
        return member.step(request, context);
      }, retry);
      result.runtimeId ??= member.id;
      return result;
    };

    let finished = false;
    let lastToolInputInvalid = false;
    for (let step = 1; step <= config.maxSteps; step++) {
      const contextLength = snapshot.items.length + turnItems.length;
      stepShownText = false;
      const result = config.runtime.dispatch
        ? await config.runtime.dispatch(prepare, { emit, runStep, shownText: () => stepShownText })
        : await runStep(config.runtime, prepare(config.runtime));
      answeredBy = result.runtimeId ?? config.runtime.id;
      if (result.remote) {
        states.set(answeredBy, { remote: result.remote, syncedCount: contextLength + result.items.length });
      }
      usage = addUsage(usage, result.usage);
      turnItems.push(...result.items);
      emit({ type: 'step-finish', usage: result.usage, finishReason: result.finishReason });
      if (result.finishReason === 'content_filter') {
        throw new CloudhopError(
          'content_filtered',
          'The provider filtered the answer. Rephrase the request.',
          {
            runtimeId: answeredBy,
            categories: [],
          },
        );
      }

      const calls = result.items.filter((item): item is ToolCallItem => item.type === 'tool_call');
      if (calls.length === 0) {
        finished = true;
        break;
      }
      if (signal.aborted) throw abortError(signal);
      const results = await Promise.all(
        calls.map((call) => executeTool(config, input.key, call, signal, emit)),
      );
      if (signal.aborted) throw abortError(signal);
      lastToolInputInvalid = results.some((r) => r.inputInvalid);
      turnItems.push(...results.map((r) => r.item));
    }
    if (!finished) {
      throw new CloudhopError(
        lastToolInputInvalid ? 'tool_input_invalid' : 'max_steps_exceeded',
        lastToolInputInvalid
          ? `The model sent invalid tool arguments until maxSteps (${config.maxSteps}) ran out; nothing was committed. Clarify the tool's input schema and description, or raise maxSteps.`
          : `The turn used all ${config.maxSteps} model steps (maxSteps) and the model still wanted tools; nothing was committed. Raise maxSteps or check the tools' results.`,
        { runtimeId: answeredBy, retryable: false },
      );
    }

    const text = finalText(turnItems);
    const output = input.output
      ? await parseStructuredOutput(text, input.output.schema, answeredBy)
      : undefined;
    const answeredState = states.get(answeredBy);
    const newVersion = snapshot.version + turnItems.length;
    const binding: Binding | undefined =
      answeredState && answeredState.syncedCount === newVersion
        ? { runtimeId: answeredBy, remote: answeredState.remote, syncedVersion: newVersion }
        : undefined;
    if (signal.aborted) throw abortError(signal);
    const commit: AppendOptions = { expectedVersion: snapshot.version };
    if (binding) commit.binding = binding;
    if (lease) commit.lease = lease;
    let sessionVersion: number;
    try {
      sessionVersion = await config.store.append(input.key, turnItems, commit);
    } catch (error) {
      throw storeUnavailable(error, 'committing the turn');
    }
    committed = true;
    touchedConversations.delete(answeredBy);
    if (touchedConversations.size > 0) await forgetConversations(sessionVersion);
    const result: RunResult = {
      text,
      output,
      items: turnItems,
      usage,
      runtimeId: answeredBy,
      sessionVersion,
    };
    emit({ type: 'turn-finish', result });
    return result;
  } catch (error) {
    config.log?.(`turn failed: ${error instanceof CloudhopError ? error.code : 'unexpected'}`);
    if (!committed && baseVersion !== undefined && touchedConversations.size > 0) {
      await forgetConversations(baseVersion);
    }
    throw error;
  } finally {
    await lease?.release().catch(() => {});
  }
}

async function executeTool(
  config: TurnConfig,
  key: SessionKey,
  call: ToolCallItem,
  signal: AbortSignal,
  emit: (event: AgentEvent) => void,
): Promise<{ item: ToolResultItem; inputInvalid: boolean }> {
  const finish = (output: string, isError: boolean, inputInvalid = false) => {
    emit({ type: 'tool-result', callId: call.callId, output, isError });
    const item = createItem<ToolResultItem>({
      type: 'tool_result',
      callId: call.callId,
      output,
      ...(isError ? { isError: true } : {}),
    });
    return { item, inputInvalid };
  };

  let args: unknown;
  try {
    args = JSON.parse(call.arguments || '{}');
  } catch {
    emit({ type: 'tool-call', callId: call.callId, name: call.name, input: call.arguments });
    return finish(
      `Error: the arguments for "${call.name}" are not valid JSON. Send a JSON object.`,
      true,
      true,
    );
  }
  emit({ type: 'tool-call', callId: call.callId, name: call.name, input: args });
  const target = config.tools.get(call.name);
  if (!target) {
    const known = [...config.tools.keys()].join(', ') || 'none';
    return finish(`Error: there is no tool named "${call.name}". Available tools: ${known}.`, true, true);
  }
  let parsed: z.ZodSafeParseResult<unknown>;
  try {
    parsed = await target.input.safeParseAsync(args);
  } catch (error) {
    const message = messageOf(error);
    return finish(`Error: checking the arguments for "${call.name}" failed: ${redactSecrets(message)}`, true);
  }
  if (!parsed.success) {
    const details = parsed.error.issues
      .map((issue) => `${issue.path.map(String).join('.') || '<root>'}: ${issue.message}`)
      .join('; ');
    return finish(
      `Error: invalid arguments for "${call.name}": ${details}. Call it again with arguments that fit its schema.`,
      true,
      true,
    );
  }
  try {
    // A tool that ignores its signal still cannot hold the turn past an abort or the turn timeout.
    const value = await abortable(
      Promise.resolve().then(() =>
        target.execute(parsed.data, {
          session: key.sessionId,
          namespace: key.namespace,
          signal,
          callId: call.callId,
        }),
      ),
      signal,
    );
    const serialized = serializeToolOutput(value);
    return serialized.ok ? finish(serialized.text, false) : finish(`Error: ${serialized.error}`, true);
  } catch (error) {
    if (signal.aborted) throw abortError(signal);
    config.log?.(`tool ${call.name} threw: ${error instanceof Error ? error.name : typeof error}`);
    // A tool calling a cloud may fail with a message that echoes its credentials; the message
    // reaches the model, the events and the store, so it is redacted like every other error.
    const message = redactSecrets(messageOf(error));
    return finish(`Error: tool "${call.name}" failed: ${message}`, true);
  }
}
