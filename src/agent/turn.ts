import type * as z from 'zod/v4';
import {
  CloudhopError,
  type CloudhopErrorOptions,
  describeThrown,
  storeUnavailable,
} from '../core/errors.js';
import type { AgentEvent, RunResult } from '../core/events.js';
import { newId, nowIso } from '../core/ids.js';
import {
  createItem,
  type Item,
  lastAnswerText,
  type MessageItem,
  type Part,
  type SummaryItem,
  type ToolCallItem,
  type ToolResultItem,
} from '../core/items.js';
import { issuePath } from '../core/options.js';
import {
  type AppendOptions,
  type Binding,
  keyString,
  type Lease,
  type LoadOptions,
  type LockOptions,
  type SessionKey,
  type SessionStore,
} from '../core/store.js';
import { addUsage, emptyUsage, type Usage } from '../core/usage.js';
import { abortError, type RetryPolicy, sleep, stepWithRetry } from '../runtime/retry.js';
import type { OutputSpec, Runtime, StepRequest, StepResult, ToolSpec } from '../runtime/runtime.js';
import { compact } from './compaction.js';
import { type ContextBudget, estimateTokens, summaryMessage, tokensOf } from './context-policy.js';
import { CostMeter, type Prices } from './cost.js';
import { keepLease, type LeaseKeeper, releaseLease } from './lease-keeper.js';
import { loadWindow, SessionHistory, storeCall } from './session-history.js';
import type { Tool } from './tool.js';
import { serializeToolOutput } from './tool-output.js';
import { bounded, canAbort } from './turn-signal.js';
import { type TurnTracer, tracedRuntime } from './turn-trace.js';

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
  context: ContextBudget;
  /** Estimated tokens every request carries besides its items: instructions and tool schemas. */
  requestOverheadTokens: number;
  /** Per session key, the version at which compaction last failed: it is not tried again at once. */
  compactionFailures: Map<string, number>;
  lockTtlMs: number;
  lockWaitMs: number;
  /** The debug logger; absent without `debug`, so that `log?.(…)` does not even build the line. */
  log?: (line: string) => void;
  prices?: Prices;
  /** Present once the agent's telemetry is loaded. */
  tracer?: TurnTracer;
}

/** The items a runtime answers with: never a tool result, which the agent makes. */
type ProducedItem = Exclude<Item, ToolResultItem>;

/** Milliseconds since `start` (a performance.now() reading), rounded for a debug line. */
function msSince(start: number): number {
  return Math.round(performance.now() - start);
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

const LISTENERS_BEFORE_WARNING = 8;

/**
 * Lifts Node's listener limit on a turn's signal. Looked up only when needed and without a static
 * `node:` import, so the core runs on web-standard runtimes; where `getBuiltinModule` is missing or
 * throws (Node before 20.16, Next.js's Edge sandbox), Node's warning is merely cosmetic.
 */
function allowManyListeners(signal: AbortSignal): void {
  try {
    const events = (
      globalThis as {
        process?: { getBuiltinModule?: (name: string) => typeof import('node:events') | undefined };
      }
    ).process?.getBuiltinModule?.('node:events');
    events?.setMaxListeners(0, signal);
  } catch {
    // Not Node, or a sandbox that forbids it: nothing to lift.
  }
}

/** The turn's structured output: undefined without an output schema, else the answer parsed and checked. */
async function structuredOutput(
  text: string,
  output: TurnInput['output'],
  runtimeId: string,
  signal: AbortSignal,
): Promise<unknown> {
  if (!output) return undefined;
  const invalid = (message: string, options?: CloudhopErrorOptions) =>
    new CloudhopError('output_invalid', message, { runtimeId, ...options });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw invalid(
      `The model's answer is not JSON (it starts: ${JSON.stringify(text.slice(0, 80))}). Retry, simplify the output schema, or use a model with structured output.`,
    );
  }
  let parsed: z.ZodSafeParseResult<unknown>;
  try {
    // Async: a schema may refine asynchronously; a refine that throws is reported like a mismatch.
    parsed = await bounded(output.schema.safeParseAsync(json), signal);
  } catch (error) {
    if (signal.aborted) throw abortError(signal);
    throw invalid(`The output schema threw: ${describeThrown(error)}. Fix its refinements.`, {
      cause: error,
    });
  }
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issuePath(issue);
    throw invalid(
      `The model's answer does not match the output schema at "${path || '<root>'}": ${issue.message}. Retry, or loosen the schema.`,
      { path },
    );
  }
  return parsed.data;
}

/**
 * How far back a resubmitted turn (same idempotencyKey) is looked for: a client's retry comes
 * right after the turn it repeats, and a turn never costs more to read than this.
 */
export const IDEMPOTENCY_LOOKBACK_ITEMS = 256;

/** What share of the rebase threshold a new remote session is seeded with. */
const SEED_SHARE = 0.5;
/** After a failed compaction, how many items the session grows before compaction is tried again. */
const COMPACTION_RETRY_AFTER_ITEMS = 20;
const MAX_REMEMBERED_FAILURES = 10_000;

function rememberFailure(failures: Map<string, number>, key: string, version: number): void {
  failures.delete(key);
  // Oldest first: a long-running process forgets old failures rather than growing without bound.
  if (failures.size >= MAX_REMEMBERED_FAILURES) failures.delete(failures.keys().next().value!);
  failures.set(key, version);
}

/**
 * The already-committed turn whose user message carries `idempotencyKey`, among `recent` (the
 * items from position `from` to the end): its items run up to the next user message. Resubmitting a
 * turn returns this instead of running the model again.
 */
function committedTurn(
  recent: Item[],
  from: number,
  idempotencyKey: string,
  runtimeId: string,
): Omit<RunResult, 'output'> | undefined {
  const found = recent.findIndex((item) => item.id === idempotencyKey);
  if (found < 0) return undefined;
  // A summary the turn wrote comes first among its items; the next turn's own summary, or its user
  // message, ends it.
  const start = found > 0 && recent[found - 1]!.type === 'summary' ? found - 1 : found;
  const next = recent.findIndex(
    (item, index) =>
      index > found && (item.type === 'summary' || (item.type === 'message' && item.role === 'user')),
  );
  const end = next < 0 ? recent.length : next;
  const items = recent.slice(start, end);
  return { text: lastAnswerText(items), items, usage: emptyUsage(), runtimeId, sessionVersion: from + end };
}

/**
 * Where each stateful runtime stands with its server during a turn, as the binding it would commit
 * (`syncedVersion` counts this turn's items too): seeded with copies of the stored bindings; a
 * binding beyond the session is ignored.
 */
function memberStates(history: SessionHistory): Map<string, Binding> {
  const states = new Map<string, Binding>();
  for (const binding of Object.values(history.bindings)) {
    if (binding.syncedVersion <= history.version) states.set(binding.runtimeId, { ...binding });
  }
  return states;
}

const withoutSummaries = (items: Item[]): Item[] => items.filter((item) => item.type !== 'summary');

/**
 * One turn, as DESIGN.md "The turn" pins it: lease, load what the step needs, model/tool loop,
 * one atomic commit. Nothing is written unless the whole turn succeeds.
 */
export async function runTurn(
  config: TurnConfig,
  input: TurnInput,
  signal: AbortSignal,
  sink: (event: AgentEvent) => void,
): Promise<RunResult> {
  const { runtime, store, log } = config;
  const trace = config.tracer?.startTurn(input.key, runtime);
  const emit = trace
    ? (event: AgentEvent) => {
        trace.event(event);
        sink(event);
      }
    : sink;
  /** A runtime whose requests are traced, when the turn is. */
  const traced = (member: Runtime) => (trace ? tracedRuntime(member, trace) : member);
  /** The signal store calls get, when something can abort the turn. */
  const storeSignal = canAbort(signal) ? signal : undefined;
  let lease: Lease | undefined;
  let keeper: LeaseKeeper | undefined;
  let snapshotBindings: Record<string, Binding> = {};
  let baseVersion: number | undefined;
  let committed = false;
  let answeredBy = runtime.id;
  // Conversations change on the server as each step is sent; a runtime whose stored conversation
  // took in steps this turn does not commit must not trust that conversation again (chained
  // responses need no such care: an uncommitted response is never referenced).
  const touchedConversations = new Set<string>();
  /**
   * Replaces the stored bindings of conversations that took in steps the session does not hold as
   * such (a failed turn; or a step another runtime took over) with empty ones, so the next turn on
   * that runtime starts a new conversation from the local transcript. Only stored conversation
   * bindings are touched: a conversation this turn created was never stored. A lease lost during
   * the turn does not keep the reset out: the version check alone guards it. Best effort, and
   * never rejects: if the store is down too, the error the turn already has is the one to report.
   * Not given the turn's signal: a turn that timed out still resets them, in the background, before
   * its lease is released.
   */
  const forgetConversations = async (version: number) => {
    const write = async (options: AppendOptions): Promise<unknown> => {
      try {
        await store.append(input.key, [], options);
        return undefined;
      } catch (error) {
        return error;
      }
    };
    for (const runtimeId of touchedConversations) {
      if (!snapshotBindings[runtimeId]?.remote.conversationId) continue;
      const forget: AppendOptions = {
        expectedVersion: version,
        binding: { runtimeId, remote: {}, syncedVersion: 0 },
      };
      if (lease && !keeper?.lost()) forget.lease = lease;
      const error = await write(forget);
      if (forget.lease && CloudhopError.is(error, 'store_conflict')) {
        delete forget.lease;
        await write(forget);
      }
    }
  };
  /** The conversation resets of a failed turn, which its lease is released after. */
  let forgetting: Promise<void> | undefined;
  /** Stops the turn once its signal fired or its lease was lost. */
  const stillRunning = () => {
    if (signal.aborted) throw abortError(signal);
    const lost = keeper?.lost();
    if (lost) throw lost;
  };
  try {
    stillRunning();
    // Each store call sits in its own try: whatever it throws, synchronously or not, surfaces as
    // store_unavailable (a try around an await costs less than a wrapping promise on every turn),
    // and each stops waiting once the turn's signal fired.
    if (!store.processLocal) {
      const requestedAt = Date.now();
      const lockStart = log && performance.now();
      const lockOptions: LockOptions = { waitMs: config.lockWaitMs };
      if (storeSignal) lockOptions.signal = storeSignal;
      lease = await storeCall(
        () => store.lock(input.key, config.lockTtlMs, lockOptions),
        storeSignal,
        'taking the session lease',
        (late) => void releaseLease(store, late, requestedAt + config.lockTtlMs, log),
      );
      if (log) log(`store lock: ${msSince(lockStart!)} ms`);
      keeper = keepLease(store, lease, config.lockTtlMs, input.key, requestedAt, log);
    }
    const loadStart = log && performance.now();
    const history = await SessionHistory.open(store, input.key, signal);
    if (log) log(`store load: ${msSince(loadStart!)} ms`);
    baseVersion = history.version;
    snapshotBindings = history.bindings;
    emit({
      type: 'turn-start',
      sessionId: input.key.sessionId,
      namespace: input.key.namespace,
      runtimeId: runtime.id,
    });

    if (input.idempotencyKey !== undefined) {
      const from = Math.max(0, history.version - IDEMPOTENCY_LOOKBACK_ITEMS);
      const replay = committedTurn(await history.since(from), from, input.idempotencyKey, runtime.id);
      if (replay) {
        const output = await structuredOutput(replay.text, input.output, replay.runtimeId, signal);
        const result: RunResult = { ...replay, output };
        emit({ type: 'turn-finish', result });
        trace?.end({ result, replayed: true });
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
    const states = memberStates(history);
    const budget = config.context;
    let summary: SummaryItem | undefined = history.summary;
    let usage: Usage = emptyUsage();
    const meter = config.prices && new CostMeter(config.prices);
    let stepShownText = false;
    let stepsDone = 0;
    let compactionTried = false;
    /** The part of maxInputTokens a request may use: halved once a model said the context is too long. */
    let budgetShare = 1;
    const shrunkFor = new Set<string>();
    const sessionKey = keyString(input.key);
    /** Past this the server-held context of a stateful runtime is rebased (or compacted first). */
    const rebaseTokens = () => (budget.compaction?.triggerTokens ?? budget.maxInputTokens) * budgetShare;

    /** The position of the first item after this turn's items so far. */
    const sessionEnd = () => history.version + turnItems.length;

    /**
     * Summarizes the oldest part of the session when everything since the last summary would
     * exceed compaction.triggerTokens. Once per turn, before its first step has an answer (the
     * summary goes first among the turn's items). A failure leaves the turn uncompacted.
     */
    const compactIfDue = async () => {
      const compaction = budget.compaction;
      if (!compaction || compactionTried || stepsDone > 0) return;
      compactionTried = true;
      // A summarizer that failed is not asked again on every turn, only once the session has grown.
      const failedAt = config.compactionFailures.get(sessionKey);
      if (failedAt !== undefined && history.version < failedAt + COMPACTION_RETRY_AFTER_ITEMS) return;
      const fixedTokens =
        config.requestOverheadTokens + tokensOf(turnItems) + (summary ? estimateTokens(summary) : 0);
      const floor = summary?.covers.toVersion ?? 0;
      const due = await history.newestWithin(
        floor,
        (_, tokens) => tokens + fixedTokens <= compaction.triggerTokens,
      );
      if (due.reachedFloor) return;
      try {
        const compacted = await compact({
          history,
          budget: { ...budget, compaction },
          runtime: compaction.runtime ?? runtime,
          traced,
          retry: config.retry,
          timeoutMs: config.timeoutMs,
          signal,
          emit,
        });
        config.compactionFailures.delete(sessionKey);
        if (!compacted) return;
        summary = compacted.summary;
        summary.usage = compacted.usage;
        turnItems.unshift(summary);
        usage = addUsage(usage, compacted.usage);
        if (summary.runtimeId) meter?.add(summary.runtimeId, compacted.usage);
      } catch (error) {
        if (signal.aborted) throw abortError(signal);
        const failure = CloudhopError.is(error) ? error : storeUnavailable(error, 'compacting the session');
        if (failure.code === 'store_unavailable' || failure.code === 'store_conflict') throw failure;
        log?.(`compaction failed: ${failure.code}`);
        rememberFailure(config.compactionFailures, sessionKey, history.version);
        emit({ type: 'compaction-failed', error: failure });
      }
    };

    /**
     * The context view: the latest summary, then the newest history since it that fits `maxTokens`
     * with the instructions and tools (never a tool call without its result), then this turn's
     * items, always.
     */
    const contextView = async (maxTokens: number): Promise<Item[]> => {
      const current = withoutSummaries(turnItems);
      const lead = summary ? [summaryMessage(summary)] : [];
      const fixedTokens = config.requestOverheadTokens + tokensOf(current) + tokensOf(lead);
      // Awaited only when a page had to be read: this runs before every stateless request.
      const found = history.newestWithin(
        summary?.covers.toVersion ?? 0,
        (items, tokens) =>
          (budget.maxItems === undefined || items + current.length <= budget.maxItems) &&
          tokens + fixedTokens <= maxTokens,
      );
      const { start } = found instanceof Promise ? await found : found;
      const read = history.since(start);
      return lead.concat(withoutSummaries(read instanceof Promise ? await read : read), current);
    };

    /**
     * A new remote session is seeded with half of what would rebase it, so that it has room to grow
     * for many turns before it is rebased again (the server counts tokens its own way).
     */
    const seedView = () => contextView(rebaseTokens() * SEED_SHARE);

    /**
     * What a stateful runtime with a handle has not seen, or undefined when its handle is too far
     * behind or its server-held context would pass the budget: then it is rebased on the view.
     */
    const unsyncedFor = async ({
      syncedVersion,
      contextTokens = 0,
    }: Binding): Promise<Item[] | undefined> => {
      const newInTurn = withoutSummaries(turnItems.slice(Math.max(0, syncedVersion - history.version)));
      const room = rebaseTokens() - contextTokens - tokensOf(newInTurn);
      if (room < 0) return undefined;
      if (syncedVersion >= history.version) return newInTurn;
      const behind = await history.newestWithin(syncedVersion, (_, tokens) => tokens <= room);
      if (!behind.reachedFloor) return undefined;
      return withoutSummaries(await history.since(syncedVersion)).concat(newInTurn);
    };

    const prepare = async (member: Runtime): Promise<StepRequest> => {
      const request: StepRequest = { items: [], tools: config.toolSpecs, stream: input.stream };
      if (config.instructions !== undefined) request.instructions = config.instructions;
      if (input.output) request.output = input.output.spec;
      const state = member.kind === 'stateful' ? states.get(member.id) : undefined;
      const unsynced = state && (await unsyncedFor(state));
      if (state && unsynced) {
        request.items = unsynced;
        request.remoteState = { remote: state.remote, syncedCount: 0 };
        request.reseedItems = seedView;
        if (state.remote.conversationId) touchedConversations.add(member.id);
        return request;
      }
      if (budget.compaction) await compactIfDue();
      request.items =
        member.kind === 'stateful'
          ? await seedView()
          : await contextView(budget.maxInputTokens * budgetShare);
      return request;
    };
    let requests = 0;
    const runStep = async (member: Runtime, request: StepRequest): Promise<StepResult> => {
      const sentTo = traced(member);
      let emittedText = false;
      const stepEmit = (event: AgentEvent) => {
        if (event.type === 'text-delta') {
          emittedText = true;
          stepShownText = true;
        }
        emit(event);
      };
      const attempt = (sent: StepRequest) =>
        stepWithRetry(
          sentTo,
          sent,
          stepEmit,
          {
            policy: config.retry,
            signal,
            runtimeId: member.id,
            timeoutMs: config.timeoutMs,
            // Text already shown to a consumer cannot be taken back: a stream that failed after
            // its first delta fails the turn instead of being retried.
            canRetry: () => !emittedText,
            onRetry: (event) => {
              log?.(`retry ${event.attempt} on ${member.id} in ${event.delayMs} ms: ${event.error.code}`);
              emit({ type: 'retry', ...event });
            },
          },
          () => {
            emittedText = false;
            // Vendor clients leave one abort listener per request on the signal; a long turn is bounded
            // by steps × attempts and is no leak, so it should not trigger Node's warning.
            if (++requests === LISTENERS_BEFORE_WARNING) allowManyListeners(signal);
          },
        );
      let result: StepResult;
      try {
        result = await attempt(request);
      } catch (error) {
        // The model's window is smaller than the budget: once per turn, a server-held context is
        // rebased and a sent one halved, then the step is tried again.
        if (!CloudhopError.is(error, 'context_length_exceeded') || shrunkFor.has(member.id) || emittedText) {
          throw error;
        }
        shrunkFor.add(member.id);
        const state = states.get(member.id);
        if (request.remoteState && state) state.contextTokens = Number.POSITIVE_INFINITY;
        budgetShare = 0.5;
        log?.(`context too long on ${member.id}: trying again with a smaller context`);
        emit({ type: 'retry', attempt: 1, delayMs: 0, error });
        result = await attempt(await prepare(member));
      }
      result.runtimeId ??= member.id;
      return result;
    };

    // maxSteps is at least 1; a step that ends without tool calls ends the loop.
    for (let step = 1; ; step++) {
      stillRunning();
      stepShownText = false;
      const stepStart = log && performance.now();
      // A runtime that ignores its signal still cannot hold the turn past an abort or its timeout.
      const result = await bounded(
        runtime.dispatch
          ? runtime.dispatch(prepare, { emit, runStep, shownText: () => stepShownText })
          : prepare(runtime).then((request) => runStep(runtime, request)),
        signal,
      );
      stepsDone += 1;
      answeredBy = result.runtimeId ?? runtime.id;
      if (log) log(`step ${step} on ${answeredBy}: ${msSince(stepStart!)} ms`);
      const produced = result.items as ProducedItem[];
      for (const item of produced) item.runtimeId = answeredBy;
      if (produced.length > 0) produced[0]!.usage = result.usage;
      meter?.add(answeredBy, result.usage);
      if (result.remote) {
        const state: Binding = {
          runtimeId: answeredBy,
          remote: result.remote,
          syncedVersion: sessionEnd() + result.items.length,
        };
        // What the server now holds: the input it was given and the answer it added.
        const serverTokens = result.usage.inputTokens + result.usage.outputTokens;
        if (serverTokens > 0) state.contextTokens = serverTokens;
        states.set(answeredBy, state);
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
      if (calls.length === 0) break;
      stillRunning();
      const results = await Promise.all(
        calls.map((call) =>
          trace
            ? trace.tool(call, () => executeTool(config, input.key, call, signal, emit))
            : executeTool(config, input.key, call, signal, emit),
        ),
      );
      if (signal.aborted) throw abortError(signal);
      turnItems.push(...results.map((r) => r.item));
      if (step < config.maxSteps) continue;
      const inputInvalid = results.some((r) => r.inputInvalid);
      throw new CloudhopError(
        inputInvalid ? 'tool_input_invalid' : 'max_steps_exceeded',
        `The model ${inputInvalid ? 'sent invalid tool arguments' : 'still wanted tools'} until maxSteps (${config.maxSteps}) ran out; nothing was committed. ${inputInvalid ? "Clarify the tool's input schema and description" : "Check the tools' results"}, or raise maxSteps.`,
        { runtimeId: answeredBy },
      );
    }

    const text = lastAnswerText(turnItems);
    const output = await structuredOutput(text, input.output, answeredBy, signal);
    stillRunning();
    const commit: AppendOptions = { expectedVersion: history.version };
    // The answering runtime's binding, when its server holds the whole session as committed.
    const binding = states.get(answeredBy);
    if (binding?.syncedVersion === sessionEnd()) commit.binding = binding;
    if (lease) commit.lease = lease;
    if (storeSignal) commit.signal = storeSignal;
    let sessionVersion: number;
    const commitStart = log && performance.now();
    try {
      sessionVersion = await bounded(store.append(input.key, turnItems, commit), storeSignal);
      if (log) log(`store commit: ${msSince(commitStart!)} ms`);
    } catch (error) {
      await settleFailedCommit(error, {
        store,
        key: input.key,
        lastItemPosition: sessionEnd() - 1,
        lastItemId: turnItems.at(-1)!.id,
        userMessageId: userMessage.id,
        signal,
        timeoutMs: input.turnTimeoutMs,
      });
      log?.('the commit failed but was stored: the turn stands');
      sessionVersion = history.version + turnItems.length;
    }
    committed = true;
    touchedConversations.delete(answeredBy);
    if (touchedConversations.size > 0) {
      // Committed: the result stands even when the signal fires while the resets are written.
      await bounded(forgetConversations(sessionVersion), signal).catch(() => {});
    }
    const result: RunResult = {
      text,
      output,
      items: turnItems,
      usage,
      runtimeId: answeredBy,
      sessionVersion,
    };
    const cost = meter?.cost();
    if (cost) result.cost = cost;
    emit({ type: 'turn-finish', result });
    trace?.end({ result });
    return result;
  } catch (error) {
    log?.(`turn failed: ${error instanceof CloudhopError ? error.code : 'unexpected'}`);
    trace?.end({ error });
    if (!committed && baseVersion !== undefined && touchedConversations.size > 0) {
      forgetting = forgetConversations(baseVersion);
      await bounded(forgetting, signal).catch(() => {});
    }
    throw error;
  } finally {
    await keeper?.release(signal, forgetting);
  }
}

/** A commit whose append failed, and where its last item would be if it was stored. */
interface FailedCommit {
  store: SessionStore;
  key: SessionKey;
  /**
   * Where the turn's last item lands and its id, fresh for each turn: one append writes the whole
   * turn, so finding it there proves this turn was stored (and not another turn resubmitted with the
   * same idempotencyKey).
   */
  lastItemPosition: number;
  lastItemId: string;
  userMessageId: string;
  signal: AbortSignal;
  timeoutMs: number | undefined;
}

/** Before each further check of a failed commit: a client reconnecting after a lost reply needs a moment. */
const COMMIT_CHECK_RETRY_DELAYS_MS = [100, 400, 1_000];

/** Whether the failed commit's last item is in the store where the commit would have put it. */
async function commitLanded(commit: FailedCommit): Promise<boolean> {
  const { signal } = commit;
  const options: LoadOptions = { fromVersion: commit.lastItemPosition, limit: 1 };
  if (canAbort(signal)) options.signal = signal;
  for (let retry = 0; ; retry++) {
    try {
      const window = await loadWindow(commit.store, commit.key, options);
      return window?.items[0]?.id === commit.lastItemId;
    } catch (error) {
      if (retry >= COMMIT_CHECK_RETRY_DELAYS_MS.length || signal.aborted) throw error;
      await sleep(COMMIT_CHECK_RETRY_DELAYS_MS[retry]!, signal);
    }
  }
}

/** What a store error says went wrong, without the store's own advice around it. */
function detailOf(error: unknown): string {
  const root = CloudhopError.is(error) && error.cause !== undefined ? error.cause : error;
  return describeThrown(root).replace(/[.\s]+$/, '');
}

/**
 * Settles a commit whose append failed: resolves when the turn was stored all the same, else
 * throws the error to report. Whatever the append failed with, the turn is looked for: a reply
 * lost on the way back hides a stored turn, and so does a refusal (store_conflict) when the driver
 * sent the append again after a reconnect (ioredis does by default) and the first send had already
 * stored it. A commit the turn stopped waiting for (its signal fired) may still land later, and a
 * check that fails too proves nothing: both are reported as of unknown outcome, with the safe retry.
 */
async function settleFailedCommit(error: unknown, commit: FailedCommit): Promise<void> {
  const { signal } = commit;
  if (signal.aborted) throw unknownOutcome(commit, abortError(signal));
  const refused = CloudhopError.is(error, 'store_conflict');
  const failure = refused ? error : storeUnavailable(error, 'committing the turn');
  let landed: boolean;
  try {
    landed = await commitLanded(commit);
  } catch (checkError) {
    throw signal.aborted
      ? unknownOutcome(commit, abortError(signal))
      : unknownOutcome(
          commit,
          failure,
          `The session store ${refused ? 'refused' : 'failed while committing'} the turn (${detailOf(error)}), then failed while checking whether the commit landed (${detailOf(checkError)})`,
        );
  }
  if (!landed) throw failure;
}

function unknownOutcome(commit: FailedCommit, failure: CloudhopError, what?: string): CloudhopError {
  const happened =
    what ??
    (failure.code === 'timeout'
      ? `The turn ran past timeoutMs${commit.timeoutMs === undefined ? '' : ` (${commit.timeoutMs} ms)`} while it was being committed`
      : 'The turn was aborted while it was being committed');
  return new CloudhopError(
    failure.code,
    `${happened}, so whether it was stored is unknown. Retry it with idempotencyKey "${commit.userMessageId}" once the store answers: a stored turn is then returned as it was, not run again.`,
    { cause: failure.cause ?? failure, retryable: false },
  );
}

async function executeTool(
  config: TurnConfig,
  key: SessionKey,
  call: ToolCallItem,
  signal: AbortSignal,
  emit: (event: AgentEvent) => void,
): Promise<{ item: ToolResultItem; inputInvalid: boolean }> {
  const { callId, name } = call;
  const finish = (output: string, isError: boolean, inputInvalid = false) => {
    emit({ type: 'tool-result', callId, output, isError });
    const item = createItem<ToolResultItem>({
      type: 'tool_result',
      callId,
      output,
      ...(isError ? { isError: true } : {}),
    });
    return { item, inputInvalid };
  };

  let args: unknown;
  try {
    args = JSON.parse(call.arguments || '{}');
  } catch {
    emit({ type: 'tool-call', callId, name, input: call.arguments });
    return finish(`Error: the arguments for "${name}" are not valid JSON. Send a JSON object.`, true, true);
  }
  emit({ type: 'tool-call', callId, name, input: args });
  const target = config.tools.get(name);
  if (!target) {
    const known = [...config.tools.keys()].join(', ') || 'none';
    return finish(`Error: there is no tool named "${name}". Available tools: ${known}.`, true, true);
  }
  let parsed: z.ZodSafeParseResult<unknown>;
  try {
    // A refinement may be asynchronous, and one that never settles must not hold the turn either.
    parsed = await bounded(target.input.safeParseAsync(args), signal);
  } catch (error) {
    if (signal.aborted) throw abortError(signal);
    return finish(`Error: checking the arguments for "${name}" failed: ${describeThrown(error)}`, true);
  }
  if (!parsed.success) {
    const details = parsed.error.issues
      .map((issue) => `${issuePath(issue) || '<root>'}: ${issue.message}`)
      .join('; ');
    return finish(
      `Error: invalid arguments for "${name}": ${details}. Call it again with arguments that fit its schema.`,
      true,
      true,
    );
  }
  try {
    // A tool that ignores its signal still cannot hold the turn past an abort or the turn timeout.
    const value = await bounded(
      Promise.resolve().then(() =>
        target.execute(parsed.data, {
          session: key.sessionId,
          namespace: key.namespace,
          signal,
          callId,
        }),
      ),
      signal,
    );
    const serialized = serializeToolOutput(value);
    return serialized.ok ? finish(serialized.text, false) : finish(`Error: ${serialized.error}`, true);
  } catch (error) {
    if (signal.aborted) throw abortError(signal);
    config.log?.(`tool ${name} failed`);
    // Whatever the tool threw, even a value that throws when read, becomes an error result. A tool
    // calling a cloud may fail with a message that echoes its credentials; the message reaches the
    // model, the events and the store, so describeThrown redacts it like every other error.
    return finish(`Error: tool "${name}" failed: ${describeThrown(error)}`, true);
  }
}
