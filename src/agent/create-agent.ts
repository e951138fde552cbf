import * as z from 'zod/v4';
import { CloudhopError, describeThrown, storeUnavailable } from '../core/errors.js';
import type { AgentEvent, Cost, RunResult } from '../core/events.js';
import { type Item, type Part, partSchema } from '../core/items.js';
import { KEY_PATTERN, KEY_RULE } from '../core/keys.js';
import {
  assertCount,
  FIRST_POSITION,
  failConfig,
  functionOption,
  hasMethods,
  isObject,
  objectWithMethods,
  parseOptions,
} from '../core/options.js';
import { redactSecrets } from '../core/secrets.js';
import {
  DEFAULT_LOCK_WAIT_MS,
  DEFAULT_NAMESPACE,
  type SessionKey,
  type SessionStore,
} from '../core/store.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../runtime/retry.js';
import { type Runtime, runtimeSchema } from '../runtime/runtime.js';
import { memoryStore } from '../stores/memory.js';
import { type ContextPolicy, resolveBudget, textTokens } from './context-policy.js';
import { CostMeter, type Prices, parsePrices } from './cost.js';
import { type AgentStream, createEventStream, followSignal } from './event-stream.js';
import { stopReleaseRetries } from './lease-keeper.js';
import { loadWindow } from './session-history.js';
import { serializeTurns, turnQueueOf } from './session-queue.js';
import { indexTools, isZod4Schema, jsonSchemaOf, type Tool, toolSpecs } from './tool.js';
import { runTurn, type TurnConfig, type TurnInput } from './turn.js';
import { canAbort, turnSignal } from './turn-signal.js';
import type { TelemetryOptions, TelemetryTracer, TurnTracer } from './turn-trace.js';

export interface AgentOptions {
  runtime: Runtime;
  /** Where sessions live. Default: a new memoryStore(). */
  store?: SessionStore;
  instructions?: string;
  tools?: Tool[];
  /** Model steps (model call + tool round-trip) per turn. Default 10. */
  maxSteps?: number;
  retry?: Partial<RetryPolicy>;
  /** Per-request timeout in ms for every runtime this agent uses. */
  timeoutMs?: number;
  /**
   * What a request may carry (stateless runtimes, and stateful ones on a move, a reseed or a rebase)
   * and when to summarize; the store always keeps everything. Default: maxInputTokens 100,000.
   */
  context?: ContextPolicy;
  /** Tenant: scopes every session key in the store. Default 'default'. */
  namespace?: string;
  /**
   * How long a turn's session lease lasts unless renewed; the turn renews it every third of this,
   * so only a crashed process holds a session this long. Default 30 s.
   */
  lockTtlMs?: number;
  /** How long a turn waits for another turn's lease on the same session. Default 30 s. */
  lockWaitMs?: number;
  /** Opt-in debug lines (secrets already redacted), with timings of each model step and store call. Off by default. */
  debug?: (line: string) => void;
  /**
   * Receives every event of every turn, `run()` as well as `stream()`: the same objects `stream()`
   * yields. An exception it throws is reported once per turn through `debug` and otherwise ignored.
   */
  onEvent?: (event: AgentEvent) => void;
  /**
   * USD per million tokens, keyed by runtime id or by model (what follows the last '/' of a runtime
   * id; the exact runtime id wins). With it, results carry `cost`.
   */
  prices?: Prices;
  /**
   * OpenTelemetry spans of every turn, following the GenAI semantic conventions: `invoke_agent` per
   * turn, `chat {model}` per model request, `execute_tool {name}` per tool call. Needs the
   * `@opentelemetry/api` package, which is loaded only when this is given.
   */
  telemetry?: TelemetryOptions;
}

export interface RunOptions<Output = unknown> {
  session: string;
  signal?: AbortSignal;
  /** Bounds the whole turn, all steps and tools included. */
  timeoutMs?: number;
  /** A zod schema: the final answer is JSON validated against it and returned as `result.output`. */
  output?: z.ZodType<Output>;
  /**
   * Makes a resubmitted turn (a client retry, a second process) run once: a turn with the same key
   * already committed on this session is returned as it was, without calling the model again.
   */
  idempotencyKey?: string;
}

export type AgentInput = string | Part[];

/** A page of a session's items; positions count from 0, the session's first item. */
export interface SessionItemsOptions {
  /** The position of the first item; past the end gives an empty page. */
  fromVersion?: number;
  /** At most this many items; without fromVersion, the newest `limit` items. */
  limit?: number;
}

export interface AgentSession {
  readonly id: string;
  /** The session's items: all of them, or the page the options ask for. */
  items(options?: SessionItemsOptions): Promise<Item[]>;
  /** The number of items in the session (0 for a session never written). */
  version(): Promise<number>;
  clear(): Promise<void>;
  /**
   * What the session's stored turns cost at the agent's prices, read from the usage its items
   * record; `usd` is 0 when no runtime it used has a price.
   */
  cost(): Promise<Cost>;
}

export interface Agent {
  run<Output = undefined>(input: AgentInput, options: RunOptions<Output>): Promise<RunResult<Output>>;
  stream<Output = undefined>(input: AgentInput, options: RunOptions<Output>): AgentStream<Output>;
  session(id: string): AgentSession;
  /** The same agent on another runtime: sessions continue there with their history. */
  withRuntime(runtime: Runtime): Agent;
  withStore(store: SessionStore): Agent;
  /**
   * Closes the store and the runtime's clients this agent was created with. An agent made by
   * withRuntime() or withStore() closes only what it was given: what it shares with the agent it
   * came from stays open for that agent.
   */
  close(): Promise<void>;
}

const storeSchema = objectWithMethods<SessionStore>(
  ['load', 'append', 'lock', 'delete', 'list', 'close'],
  'must be a SessionStore such as memoryStore() or sqliteStore({...})',
);

// Every option but the runtime may be left out: each object's keys are made optional at once.
const optionalOptions = z
  .object({
    store: storeSchema,
    instructions: z.string(),
    tools: z.array(z.any()),
    maxSteps: z.number().int().min(1).max(1000),
    retry: z
      .object({
        maxRetries: z.number().int().min(0).max(20),
        initialDelayMs: z.number().min(0).max(600_000),
        maxDelayMs: z.number().min(0).max(600_000),
        maxRetryAfterMs: z.number().min(0).max(3_600_000),
      })
      .partial()
      .strict(),
    timeoutMs: z.number().positive().max(86_400_000),
    context: z
      .object({
        maxItems: z.number().int().min(1),
        maxInputTokens: z.number().int().min(1),
        compaction: z
          .object({
            runtime: runtimeSchema,
            triggerTokens: z.number().int().min(1),
            keepRecentTokens: z.number().int().min(0),
            instructions: z.string().trim().min(1, 'must not be empty'),
          })
          .partial()
          .strict(),
      })
      .partial()
      .strict()
      .refine(
        (context) => {
          const budget = resolveBudget(context as ContextPolicy).compaction;
          return budget === undefined || budget.triggerTokens > budget.keepRecentTokens;
        },
        {
          message:
            'must be greater than keepRecentTokens, to leave the summary room: raise it or lower keepRecentTokens',
          path: ['compaction', 'triggerTokens'],
        },
      ),
    namespace: z.string().regex(KEY_PATTERN, `must be ${KEY_RULE}`),
    lockTtlMs: z.number().int().positive(),
    lockWaitMs: z.number().int().min(0),
    debug: functionOption<(line: string) => void>('must be a function'),
    onEvent: functionOption<(event: AgentEvent) => void>('must be a function (event) => void'),
    // Checked by parsePrices, which names the exact price that is wrong.
    prices: z.unknown(),
    telemetry: z
      .object({
        tracer: objectWithMethods<TelemetryTracer>(
          ['startSpan'],
          'must be an OpenTelemetry Tracer, e.g. trace.getTracer("my-app") from @opentelemetry/api',
        ),
        recordContent: z.boolean(),
        agentName: z.string().min(1, 'must not be empty'),
      })
      .partial()
      .strict(),
  })
  .partial();

const optionsSchema = z.object({ runtime: runtimeSchema, ...optionalOptions.shape }).strict();

function sessionKey(config: { namespace: string }, sessionId: unknown): SessionKey {
  if (typeof sessionId !== 'string' || !KEY_PATTERN.test(sessionId)) {
    throw new CloudhopError(
      'invalid_session_id',
      `Session id ${JSON.stringify(sessionId)} is not valid: use ${KEY_RULE}. Ids are never rewritten: map yours onto this alphabet (e.g. hex or base64url).`,
    );
  }
  return { namespace: config.namespace, sessionId };
}

const MAX_TURN_TIMEOUT_MS = 86_400_000;

export const DEFAULT_LOCK_TTL_MS = 30_000;

function pageOption(name: 'fromVersion' | 'limit', value: unknown): number | undefined {
  if (value !== undefined)
    assertCount('session.items', name, value, name === 'fromVersion' ? FIRST_POSITION : '');
  return value;
}

/** Duck-typed so that a signal from another realm or an AbortSignal polyfill is accepted. */
function isAbortSignal(value: unknown): value is AbortSignal {
  return hasMethods(value, ['addEventListener', 'removeEventListener']) && typeof value.aborted === 'boolean';
}

const partsSchema = z.array(partSchema).min(1);

const RUN_OPTION_KEYS = new Set(['session', 'signal', 'timeoutMs', 'output', 'idempotencyKey']);

function badRunOption(name: string, rule: string): never {
  return failConfig(`run/stream: option "${name}" ${rule}`);
}

function toContent(input: unknown): Part[] {
  if (typeof input === 'string' && input.length > 0) return [{ type: 'text', text: input }];
  const parsed = partsSchema.safeParse(input);
  if (!parsed.success) {
    failConfig(
      'run/stream: input must be a non-empty string or a non-empty array of parts ({ type: "text", text } or { type: "image", mediaType, data | url }).',
    );
  }
  return parsed.data as Part[];
}

function toTurnInput(
  config: TurnConfig & { namespace: string },
  input: unknown,
  options: RunOptions<unknown>,
  stream: boolean,
): TurnInput {
  if (!isObject(options)) {
    throw new CloudhopError(
      'invalid_session_id',
      'run/stream: pass options with a session id, e.g. { session: "user-42" }.',
    );
  }
  const key = sessionKey(config, options.session);
  for (const unknown in options) {
    if (RUN_OPTION_KEYS.has(unknown) || !Object.hasOwn(options, unknown)) continue;
    failConfig(
      `run/stream: unknown option "${unknown}". Run options are ${[...RUN_OPTION_KEYS].join(', ')}.`,
    );
  }
  const turn: TurnInput = { key, content: toContent(input), stream };
  const { signal, idempotencyKey, timeoutMs, output } = options;
  if (signal !== undefined) {
    if (!isAbortSignal(signal)) {
      badRunOption('signal', 'must be an AbortSignal, e.g. controller.signal or AbortSignal.timeout(ms).');
    }
    turn.signal = signal;
  }
  if (idempotencyKey !== undefined) {
    if (typeof idempotencyKey !== 'string' || !KEY_PATTERN.test(idempotencyKey)) {
      badRunOption('idempotencyKey', `must be ${KEY_RULE}.`);
    }
    turn.idempotencyKey = idempotencyKey;
  }
  if (timeoutMs !== undefined) {
    // Node turns a timer beyond 2^31-1 ms into 1 ms, so an unbounded value would end the turn at once.
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || timeoutMs > MAX_TURN_TIMEOUT_MS) {
      badRunOption(
        'timeoutMs',
        `must be a positive number of milliseconds, at most ${MAX_TURN_TIMEOUT_MS} (24 h); leave it out for no turn timeout.`,
      );
    }
    turn.turnTimeoutMs = timeoutMs;
  }
  if (output !== undefined) {
    if (!isZod4Schema(output)) {
      badRunOption('output', 'must be a zod 4 schema, e.g. z.object({ city: z.string() }).');
    }
    const schema = jsonSchemaOf(output, 'output', (reason) =>
      badRunOption('output', `cannot be expressed as JSON schema (${reason}).`),
    );
    turn.output = { schema: output, spec: { name: 'output', schema } };
  }
  return turn;
}

/** What an agent closes: what it was given, not what it shares with the agent it came from. */
interface Owned {
  store: boolean;
  runtime: boolean;
}

const OWNS_ALL: Owned = { store: true, runtime: true };

export function createAgent(options: AgentOptions): Agent {
  return agentOwning(options, OWNS_ALL);
}

function agentOwning(options: AgentOptions, owned: Owned): Agent {
  const parsed = parseOptions(optionsSchema, options, 'createAgent');
  const debug = parsed.debug;
  const tools = indexTools((parsed.tools ?? []) as Tool[]);
  const config: AgentConfig = {
    runtime: parsed.runtime,
    store: parsed.store ?? memoryStore(),
    tools,
    toolSpecs: toolSpecs(tools.values()),
    maxSteps: parsed.maxSteps ?? 10,
    retry: { ...DEFAULT_RETRY_POLICY, ...parsed.retry },
    context: resolveBudget((parsed.context ?? {}) as ContextPolicy),
    requestOverheadTokens: 0,
    compactionFailures: new Map(),
    namespace: parsed.namespace ?? DEFAULT_NAMESPACE,
    lockTtlMs: parsed.lockTtlMs ?? DEFAULT_LOCK_TTL_MS,
    lockWaitMs: parsed.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS,
    instructions: parsed.instructions,
    timeoutMs: parsed.timeoutMs,
  };
  const prices = parsePrices(parsed.prices);
  if (prices) config.prices = prices;
  if (parsed.onEvent) config.onEvent = parsed.onEvent;
  if (parsed.telemetry) config.telemetry = parsed.telemetry;
  if (debug) config.log = (line) => debug(`[cloudhop] ${redactSecrets(line)}`);
  config.requestOverheadTokens =
    textTokens(config.instructions ?? '') +
    (config.toolSpecs.length > 0 ? textTokens(JSON.stringify(config.toolSpecs)) : 0);
  return buildAgent(config, options, owned);
}

type AgentConfig = TurnConfig & {
  namespace: string;
  onEvent?: (event: AgentEvent) => void;
  telemetry?: TelemetryOptions;
  /** The telemetry module being loaded, on the agent's first turn. */
  loadingTracer?: Promise<TurnTracer>;
};

/** Loads the agent's telemetry once (a failed load is tried again by the next turn) and keeps its tracer. */
function tracerOf(config: AgentConfig, telemetry: TelemetryOptions): Promise<TurnTracer> {
  config.loadingTracer ??= import('../telemetry/otel-tracer.js')
    .then((module) => module.loadTelemetry(telemetry, config.log))
    .then(
      (tracer) => {
        config.tracer = tracer;
        return tracer;
      },
      (error: unknown) => {
        config.loadingTracer = undefined;
        throw error;
      },
    );
  return config.loadingTracer;
}

/** How many items one read of `session.cost()` takes. */
const COST_PAGE_ITEMS = 500;

/**
 * The turn's events as they go to `onEvent` and, when streaming, to the stream. The listener's
 * exceptions never reach the turn; the first of each turn is logged.
 */
function eventSink(
  config: AgentConfig,
  streamEmit: ((event: AgentEvent) => void) | undefined,
): (event: AgentEvent) => void {
  const { onEvent, log } = config;
  if (!onEvent) return streamEmit ?? ignoreEvent;
  let reported = false;
  return (event) => {
    streamEmit?.(event);
    try {
      onEvent(event);
    } catch (error) {
      if (reported) return;
      reported = true;
      log?.(`onEvent threw on a ${event.type} event; the turn goes on: ${describeThrown(error)}`);
    }
  };
}

function ignoreEvent(): void {}

function buildAgent(config: AgentConfig, options: AgentOptions, owned: Owned): Agent {
  const turns = turnQueueOf(config.store);
  /** Starts a turn; a bad call rejects (or fails the stream and its result), never throws synchronously. */
  const start = (
    input: unknown,
    runOptions: RunOptions<unknown>,
    stream: boolean,
    emit: Parameters<typeof runTurn>[3],
    abortFor?: () => AbortController | undefined,
  ): Promise<RunResult<any>> => {
    try {
      const turn = toTurnInput(config, input, runOptions, stream);
      config.log?.(`turn on ${config.runtime.id} for ${turn.key.namespace}/${turn.key.sessionId}`);
      // The turn's signal and timeout start now, so they also bound the wait behind earlier turns.
      const { signal, dispose } = turnSignal(turn.signal, turn.turnTimeoutMs);
      /** A turn streamed to a web response whose client may go away: it aborts through `web`. */
      const runAbortable = (web: AbortController) => {
        const unfollow = canAbort(signal) ? followSignal(signal, web) : undefined;
        const done = runTurn(config, turn, web.signal, emit);
        if (unfollow) done.then(unfollow, unfollow);
        return done;
      };
      const run = abortFor
        ? // A streamed turn starts a microtask later, holding its place in the queue: a web response
          // made right after stream() is known by then, and only such a turn takes the controller
          // (an abortable signal costs every await of the turn).
          () =>
            Promise.resolve().then(() => {
              const web = abortFor();
              return web ? runAbortable(web) : runTurn(config, turn, signal, emit);
            })
        : () => runTurn(config, turn, signal, emit);
      const { telemetry } = config;
      const traced = telemetry && !config.tracer ? () => tracerOf(config, telemetry).then(run) : run;
      const done = serializeTurns(turns, turn.key, traced, signal);
      if (dispose) done.then(dispose, dispose);
      return done;
    } catch (error) {
      return Promise.reject(error);
    }
  };

  return {
    run(input, runOptions) {
      return start(input, runOptions as RunOptions<unknown>, false, eventSink(config, undefined));
    },
    stream(input, runOptions) {
      return createEventStream((emit, abortFor) =>
        start(input, runOptions as RunOptions<unknown>, true, eventSink(config, emit), abortFor),
      );
    },
    session(id) {
      const key = sessionKey(config, id);
      const head = () => loadWindow(config.store, key, { limit: 0 });
      return {
        id,
        items: async (page = {}) => {
          if (!isObject(page)) {
            failConfig(
              'session.items: pass options as an object, e.g. { limit: 50 }, or nothing for every item.',
            );
          }
          const fromVersion = pageOption('fromVersion', page.fromVersion);
          const limit = pageOption('limit', page.limit);
          for (const name in page) {
            if (name !== 'fromVersion' && name !== 'limit') {
              failConfig(`session.items: unknown option "${name}". Options are fromVersion and limit.`);
            }
          }
          let from = fromVersion ?? 0;
          if (fromVersion === undefined && limit !== undefined) {
            from = Math.max(0, ((await head())?.version ?? 0) - limit);
          }
          const options = limit === undefined ? { fromVersion: from } : { fromVersion: from, limit };
          return (await loadWindow(config.store, key, options))?.items ?? [];
        },
        version: async () => (await head())?.version ?? 0,
        cost: async () => {
          const meter = new CostMeter(config.prices ?? {});
          for (let from = 0; ; from += COST_PAGE_ITEMS) {
            const page = await loadWindow(config.store, key, { fromVersion: from, limit: COST_PAGE_ITEMS });
            meter.addItems(page?.items ?? []);
            if (!page || from + COST_PAGE_ITEMS >= page.version) break;
          }
          return meter.total();
        },
        clear: () =>
          serializeTurns(turns, key, async () => {
            try {
              await config.store.delete(key);
            } catch (error) {
              throw storeUnavailable(error, 'deleting the session');
            }
          }),
      };
    },
    withRuntime(runtime) {
      return agentOwning({ ...options, runtime, store: config.store }, { store: false, runtime: true });
    },
    withStore(store) {
      return agentOwning({ ...options, store }, { store: true, runtime: false });
    },
    async close() {
      if (owned.runtime) await config.runtime.close?.();
      if (!owned.store) return;
      // Leases whose release is still being retried lapse by themselves once the store is gone.
      stopReleaseRetries(config.store);
      await config.store.close();
    },
  };
}
