import * as z from 'zod/v4';
import { CloudhopError, storeUnavailable } from '../core/errors.js';
import type { RunResult } from '../core/events.js';
import { type Item, type Part, partSchema } from '../core/items.js';
import { KEY_PATTERN, KEY_RULE } from '../core/keys.js';
import { failConfig, objectWithMethods, parseOptions } from '../core/options.js';
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
import { type AgentStream, createEventStream } from './event-stream.js';
import { loadWindow } from './session-history.js';
import { serializeTurns, turnQueueOf } from './session-queue.js';
import { indexTools, isZod4Schema, type Tool, toolSpecs } from './tool.js';
import { runTurn, type TurnConfig, type TurnInput, turnSignal } from './turn.js';

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
  /** Opt-in debug lines (secrets already redacted). Off by default. */
  debug?: (line: string) => void;
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
}

export interface Agent {
  run<Output = undefined>(input: AgentInput, options: RunOptions<Output>): Promise<RunResult<Output>>;
  stream<Output = undefined>(input: AgentInput, options: RunOptions<Output>): AgentStream<Output>;
  session(id: string): AgentSession;
  /** The same agent on another runtime: sessions continue there with their history. */
  withRuntime(runtime: Runtime): Agent;
  withStore(store: SessionStore): Agent;
  /** Closes the store and the runtimes' clients. */
  close(): Promise<void>;
}

const storeSchema = objectWithMethods<SessionStore>(
  ['load', 'append', 'lock', 'delete', 'list', 'close'],
  'must be a SessionStore such as memoryStore() or sqliteStore({...})',
);

const optionsSchema = z
  .object({
    runtime: runtimeSchema,
    store: storeSchema.optional(),
    instructions: z.string().optional(),
    tools: z.array(z.any()).optional(),
    maxSteps: z.number().int().min(1).max(1000).optional(),
    retry: z
      .object({
        maxRetries: z.number().int().min(0).max(20).optional(),
        initialDelayMs: z.number().min(0).max(600_000).optional(),
        maxDelayMs: z.number().min(0).max(600_000).optional(),
        maxRetryAfterMs: z.number().min(0).max(3_600_000).optional(),
      })
      .strict()
      .optional(),
    timeoutMs: z.number().positive().max(86_400_000).optional(),
    context: z
      .object({
        maxItems: z.number().int().min(1).optional(),
        maxInputTokens: z.number().int().min(1).optional(),
        compaction: z
          .object({
            runtime: runtimeSchema.optional(),
            triggerTokens: z.number().int().min(1).optional(),
            keepRecentTokens: z.number().int().min(0).optional(),
            instructions: z.string().trim().min(1, 'must not be empty').optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .refine(
        (context) => {
          const budget = resolveBudget(context as ContextPolicy).compaction;
          return budget === undefined || budget.triggerTokens > budget.keepRecentTokens;
        },
        {
          message:
            'compaction.triggerTokens must be greater than compaction.keepRecentTokens (the summary needs the room between them); raise triggerTokens or lower keepRecentTokens',
          path: ['compaction', 'triggerTokens'],
        },
      )
      .optional(),
    namespace: z.string().regex(KEY_PATTERN, `must be ${KEY_RULE}`).optional(),
    lockTtlMs: z.number().int().positive().optional(),
    lockWaitMs: z.number().int().min(0).optional(),
    debug: z
      .custom<(line: string) => void>((value) => typeof value === 'function', 'must be a function')
      .optional(),
  })
  .strict();

function checkKey(value: unknown, what: 'session' | 'namespace'): string {
  if (typeof value !== 'string' || !KEY_PATTERN.test(value)) {
    throw new CloudhopError(
      'invalid_session_id',
      `${what === 'session' ? 'Session id' : 'Namespace'} ${JSON.stringify(value)} is not valid: use ${KEY_RULE}. Ids are never rewritten, so map your own ids onto this alphabet (e.g. hex or base64url).`,
    );
  }
  return value;
}

const MAX_TURN_TIMEOUT_MS = 86_400_000;

export const DEFAULT_LOCK_TTL_MS = 30_000;

function pageOption(name: 'fromVersion' | 'limit', value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    failConfig(
      `session.items: option "${name}" must be a whole number, 0 or more (got ${JSON.stringify(value)})${name === 'fromVersion' ? "; the session's first item is position 0" : ''}.`,
      name,
    );
  }
  return value;
}

/** Duck-typed so that a signal from another realm or an AbortSignal polyfill is accepted. */
function isAbortSignal(value: unknown): value is AbortSignal {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AbortSignal).aborted === 'boolean' &&
    typeof (value as AbortSignal).addEventListener === 'function' &&
    typeof (value as AbortSignal).removeEventListener === 'function'
  );
}

const inputSchema = z.union([z.string().min(1), z.array(partSchema).min(1)]);

const RUN_OPTION_KEYS = new Set(['session', 'signal', 'timeoutMs', 'output', 'idempotencyKey']);

function badRunOption(name: string, rule: string): CloudhopError {
  return new CloudhopError('invalid_config', `run/stream: option "${name}" ${rule}`);
}

function toContent(input: unknown): Part[] {
  if (typeof input === 'string' && input.length > 0) return [{ type: 'text', text: input }];
  const parsed = inputSchema.safeParse(input);
  if (!parsed.success) {
    failConfig(
      'run/stream: input must be a non-empty string or a non-empty array of parts ({ type: "text", text } or { type: "image", mediaType, data | url }).',
    );
  }
  return typeof parsed.data === 'string' ? [{ type: 'text', text: parsed.data }] : (parsed.data as Part[]);
}

function toTurnInput(
  config: TurnConfig & { namespace: string },
  input: unknown,
  options: RunOptions<unknown>,
  stream: boolean,
): TurnInput {
  if (typeof options !== 'object' || options === null) {
    throw new CloudhopError(
      'invalid_session_id',
      'run/stream: pass options with a session id, e.g. { session: "user-42" }.',
    );
  }
  const key: SessionKey = { namespace: config.namespace, sessionId: checkKey(options.session, 'session') };
  for (const unknown in options) {
    if (RUN_OPTION_KEYS.has(unknown) || !Object.hasOwn(options, unknown)) continue;
    failConfig(
      `run/stream: unknown option "${unknown}". Run options are ${[...RUN_OPTION_KEYS].join(', ')}.`,
    );
  }
  const turn: TurnInput = { key, content: toContent(input), stream };
  if (options.signal !== undefined) {
    if (!isAbortSignal(options.signal)) {
      throw badRunOption(
        'signal',
        'must be an AbortSignal, e.g. controller.signal or AbortSignal.timeout(ms).',
      );
    }
    turn.signal = options.signal;
  }
  if (options.idempotencyKey !== undefined) {
    if (typeof options.idempotencyKey !== 'string' || !KEY_PATTERN.test(options.idempotencyKey)) {
      throw badRunOption('idempotencyKey', `must be ${KEY_RULE}.`);
    }
    turn.idempotencyKey = options.idempotencyKey;
  }
  if (options.timeoutMs !== undefined) {
    // Node turns a timer beyond 2^31-1 ms into 1 ms, so an unbounded value would end the turn at once.
    if (
      typeof options.timeoutMs !== 'number' ||
      !(options.timeoutMs > 0) ||
      options.timeoutMs > MAX_TURN_TIMEOUT_MS
    ) {
      throw badRunOption(
        'timeoutMs',
        `must be a positive number of milliseconds, at most ${MAX_TURN_TIMEOUT_MS} (24 h); leave it out for no turn timeout.`,
      );
    }
    turn.turnTimeoutMs = options.timeoutMs;
  }
  if (options.output !== undefined) {
    if (!isZod4Schema(options.output)) {
      throw badRunOption('output', 'must be a zod 4 schema, e.g. z.object({ city: z.string() }).');
    }
    let schema: Record<string, unknown>;
    try {
      schema = z.toJSONSchema(options.output, { unrepresentable: 'throw' }) as Record<string, unknown>;
    } catch (error) {
      throw badRunOption('output', `cannot be expressed as JSON schema (${(error as Error).message}).`);
    }
    delete schema.$schema;
    turn.output = { schema: options.output, spec: { name: 'output', schema } };
  }
  return turn;
}

export function createAgent(options: AgentOptions): Agent {
  const parsed = parseOptions(optionsSchema, options, 'createAgent');
  const debug = parsed.debug;
  const tools = indexTools((parsed.tools ?? []) as Tool[]);
  const config: TurnConfig & { namespace: string } = {
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
  };
  if (debug) config.log = (line) => debug(`[cloudhop] ${redactSecrets(line)}`);
  if (parsed.instructions !== undefined) config.instructions = parsed.instructions;
  config.requestOverheadTokens =
    textTokens(config.instructions ?? '') +
    (config.toolSpecs.length > 0 ? textTokens(JSON.stringify(config.toolSpecs)) : 0);
  if (parsed.timeoutMs !== undefined) config.timeoutMs = parsed.timeoutMs;
  return buildAgent(config, options);
}

function buildAgent(config: TurnConfig & { namespace: string }, options: AgentOptions): Agent {
  const turns = turnQueueOf(config.store);
  const start = (
    input: unknown,
    runOptions: RunOptions<unknown>,
    stream: boolean,
    emit: Parameters<typeof runTurn>[3],
  ) => {
    const turn = toTurnInput(config, input, runOptions, stream);
    config.log?.(`turn on ${config.runtime.id} for ${turn.key.namespace}/${turn.key.sessionId}`);
    // The turn's signal and timeout start now, so they also bound the wait behind earlier turns.
    const { signal, dispose } = turnSignal(turn);
    const done = serializeTurns(turns, turn.key, () => runTurn(config, turn, signal, emit), signal);
    if (dispose) done.then(dispose, dispose);
    return done;
  };
  const sessionKey = (id: string): SessionKey => ({
    namespace: config.namespace,
    sessionId: checkKey(id, 'session'),
  });

  return {
    run(input, runOptions) {
      try {
        return start(input, runOptions as RunOptions<unknown>, false, () => {}) as Promise<RunResult<any>>;
      } catch (error) {
        // A bad call rejects; run never throws synchronously.
        return Promise.reject(error);
      }
    },
    stream(input, runOptions) {
      return createEventStream((emit) => {
        try {
          return start(input, runOptions as RunOptions<unknown>, true, emit);
        } catch (error) {
          // A bad call fails the stream and its result; stream never throws synchronously.
          return Promise.reject(error);
        }
      }) as AgentStream<any>;
    },
    session(id) {
      const key = sessionKey(id);
      return {
        id,
        items: async (page = {}) => {
          if (typeof page !== 'object' || page === null) {
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
            const head = await loadWindow(config.store, key, { limit: 0 }, 'loading the session');
            from = Math.max(0, (head?.version ?? 0) - limit);
          }
          const options = limit === undefined ? { fromVersion: from } : { fromVersion: from, limit };
          return (await loadWindow(config.store, key, options, 'loading the session'))?.items ?? [];
        },
        version: async () =>
          (await loadWindow(config.store, key, { limit: 0 }, 'loading the session'))?.version ?? 0,
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
      return createAgent({ ...options, runtime, store: config.store });
    },
    withStore(store) {
      return createAgent({ ...options, store });
    },
    async close() {
      await config.runtime.close?.();
      await config.store.close();
    },
  };
}
