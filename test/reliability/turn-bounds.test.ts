// Whatever a turn waits for — a store call, a schema, a tool, a model step — it stops waiting once
// the turn's signal fires (its timeoutMs or the caller's AbortSignal), and many turns may share one
// caller signal.
import { getEventListeners } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import * as z from 'zod/v4';
import { textOf } from '../../src/core/items.js';
import type { SessionStore } from '../../src/core/store.js';
import {
  createAgent,
  createItem,
  type MessageItem,
  memoryStore,
  type Runtime,
  type StepResult,
  tool,
} from '../../src/index.js';
import { postgresStore } from '../../src/stores/postgres.js';
import { redisStore } from '../../src/stores/redis.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { scriptedRuntime } from '../../src/testing/index.js';
import { rejection } from '../helpers/errors.js';
import {
  DATABASE_URL,
  deleteRedisKeys,
  dropSchema,
  postgresAvailable,
  REDIS_URL,
  redisAvailable,
  runTag,
} from '../stores/helpers/services.js';
import { startTcpProxy, type TcpProxy } from '../stores/helpers/tcp-proxy.js';

const tag = runTag();
const redisUp = await redisAvailable();
const postgresUp = await postgresAvailable();

/** A turn timeout far below the test's own: a turn that ignored it would fail the test by hanging. */
const TURN_TIMEOUT_MS = 300;
/** The test's own limit, for a turn that would otherwise never end. */
const HANGS = 10_000;

const never = <T>() => new Promise<T>(() => {});

type StoreMethod = 'load' | 'append' | 'lock';

/** A store whose `method` stops answering (a frozen server) for the calls `frozen` picks. */
function freezing<M extends StoreMethod>(
  inner: SessionStore,
  method: M,
  frozen: (...args: Parameters<SessionStore[M]>) => boolean = () => true,
): SessionStore {
  const call = inner[method] as (...args: Parameters<SessionStore[M]>) => ReturnType<SessionStore[M]>;
  return Object.assign(Object.create(inner) as SessionStore, {
    [method]: (...args: Parameters<SessionStore[M]>) => (frozen(...args) ? never() : call(...args)),
  });
}

const answer = (text: string): StepResult => ({
  items: [createItem<MessageItem>({ type: 'message', role: 'assistant', content: [{ type: 'text', text }] })],
  finishReason: 'stop',
  usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2, requestBytes: 0 },
});

describe('a frozen store cannot hold a turn past its timeoutMs', () => {
  it(
    'taking the lease',
    async () => {
      const store = freezing(sqliteStore({ path: ':memory:' }), 'lock');
      const agent = createAgent({ runtime: scriptedRuntime(['never']), store });
      const error = await rejection(agent.run('Hello', { session: 's', timeoutMs: TURN_TIMEOUT_MS }));
      expect(error.code).toBe('timeout');
    },
    HANGS,
  );

  it(
    "reading the session's head",
    async () => {
      const store = freezing(memoryStore(), 'load');
      const runtime = scriptedRuntime(['never']);
      const error = await rejection(
        createAgent({ runtime, store }).run('Hello', { session: 's', timeoutMs: TURN_TIMEOUT_MS }),
      );
      expect(error.code).toBe('timeout');
      expect(runtime.requests).toHaveLength(0);
    },
    HANGS,
  );

  it(
    'reading back history for the idempotency lookup',
    async () => {
      const inner = memoryStore();
      await createAgent({ runtime: scriptedRuntime(['first']), store: inner }).run('Hello', {
        session: 's',
      });
      const store = freezing(inner, 'load', (_key, options) => (options?.limit ?? 1) > 0);
      const runtime = scriptedRuntime(['never']);
      const error = await rejection(
        createAgent({ runtime, store }).run('Again', {
          session: 's',
          idempotencyKey: 'again-1',
          timeoutMs: TURN_TIMEOUT_MS,
        }),
      );
      expect(error.code).toBe('timeout');
      expect(runtime.requests).toHaveLength(0);
    },
    HANGS,
  );

  it(
    'committing: the error says the outcome is unknown and names the safe retry',
    async () => {
      const store = freezing(memoryStore(), 'append');
      const agent = createAgent({ runtime: scriptedRuntime(['answer']), store });
      const error = await rejection(
        agent.run('Hello', { session: 's', idempotencyKey: 'hello-1', timeoutMs: TURN_TIMEOUT_MS }),
      );
      expect(error.code).toBe('timeout');
      expect(error.message).toMatch(
        new RegExp(
          `ran past timeoutMs \\(${TURN_TIMEOUT_MS} ms\\) while it was being committed, so whether it was stored is unknown`,
        ),
      );
      expect(error.message).toContain('Retry it with idempotencyKey "hello-1"');
    },
    HANGS,
  );

  it(
    'committing, when the caller aborts: aborted, with the outcome unknown',
    async () => {
      const controller = new AbortController();
      const inner = memoryStore();
      const store = Object.assign(Object.create(inner) as SessionStore, {
        append: () => {
          controller.abort();
          return never();
        },
      });
      const agent = createAgent({ runtime: scriptedRuntime(['answer']), store });
      const error = await rejection(agent.run('Hello', { session: 's', signal: controller.signal }));
      expect(error.code).toBe('aborted');
      expect(error.message).toMatch(
        /aborted while it was being committed, so whether it was stored is unknown/,
      );
    },
    HANGS,
  );

  it(
    'releasing the lease after a commit: the turn still returns its result',
    async () => {
      const inner = sqliteStore({ path: ':memory:' });
      const store = Object.assign(Object.create(inner) as SessionStore, {
        async lock(...args: Parameters<SessionStore['lock']>) {
          const lease = await inner.lock(...args);
          return { token: lease.token, release: never<void>, renew: lease.renew?.bind(lease) };
        },
      });
      const agent = createAgent({ runtime: scriptedRuntime(['answer']), store });
      const result = await agent.run('Hello', { session: 's', timeoutMs: TURN_TIMEOUT_MS });
      expect(result.text).toBe('answer');
      expect(result.sessionVersion).toBe(2);
    },
    HANGS,
  );

  it(
    "resetting a conversation after a failed step: the turn fails with the step's error",
    async () => {
      let steps = 0;
      const conversation: Runtime = {
        id: 'conversation-runtime',
        kind: 'stateful',
        family: 'test',
        async step() {
          steps += 1;
          if (steps > 1) throw new Error('the model went away');
          return { ...answer('first'), remote: { conversationId: 'conv_1' } };
        },
      };
      const inner = memoryStore();
      await createAgent({ runtime: conversation, store: inner }).run('Hello', { session: 's' });
      // Only the reset (an append of no items) freezes.
      const store = freezing(inner, 'append', (_key, items) => items.length === 0);
      const error = await rejection(
        createAgent({ runtime: conversation, store, retry: { maxRetries: 0 } }).run('Again', {
          session: 's',
          timeoutMs: TURN_TIMEOUT_MS,
        }),
      );
      expect(error.code).toBe('provider_error');
      expect(error.message).toMatch(/the model went away/);
    },
    HANGS,
  );
});

describe('schemas, tools and runtimes that never settle cannot hold a turn past its timeoutMs', () => {
  it(
    'a tool input schema whose asynchronous refinement never settles',
    async () => {
      const stuck = tool({
        name: 'stuck',
        input: z.object({ city: z.string() }).refine(() => never<boolean>()),
        execute: () => 'never',
      });
      const runtime = scriptedRuntime([
        { toolCalls: [{ name: 'stuck', arguments: { city: 'Oslo' } }] },
        'done',
      ]);
      const store = memoryStore();
      const agent = createAgent({ runtime, tools: [stuck], store });
      const error = await rejection(agent.run('Go', { session: 's', timeoutMs: TURN_TIMEOUT_MS }));
      expect(error.code).toBe('timeout');
      expect(await store.list()).toEqual({ ids: [] });
    },
    HANGS,
  );

  it(
    'an output schema whose asynchronous refinement never settles',
    async () => {
      const store = memoryStore();
      const agent = createAgent({ runtime: scriptedRuntime(['{"city":"Oslo"}']), store });
      const error = await rejection(
        agent.run('Where?', {
          session: 's',
          timeoutMs: TURN_TIMEOUT_MS,
          output: z.object({ city: z.string() }).refine(() => never<boolean>()),
        }),
      );
      expect(error.code).toBe('timeout');
      expect(await store.list()).toEqual({ ids: [] });
    },
    HANGS,
  );

  it(
    'a runtime whose step ignores its signal',
    async () => {
      const deaf: Runtime = { id: 'deaf', kind: 'stateless', family: 'test', step: () => never() };
      const error = await rejection(
        createAgent({ runtime: deaf }).run('Hello', { session: 's', timeoutMs: TURN_TIMEOUT_MS }),
      );
      expect(error.code).toBe('timeout');
    },
    HANGS,
  );
});

/**
 * A turn on `store` whose model step freezes the store's server (`proxy`): its commit then waits on
 * a server that does not answer, and the turn ends at its timeoutMs with the outcome unknown. Once
 * the server answers again the abandoned commit may land or not (the lease's release races it);
 * either way the retry with the same idempotencyKey leaves the turn in the session once.
 */
async function frozenMidTurn(proxy: TcpProxy, store: SessionStore): Promise<void> {
  const runtime = scriptedRuntime((_request, index) => {
    if (index === 0) proxy.freeze();
    return `answer ${index + 1}`;
  });
  const agent = createAgent({ runtime, store, lockTtlMs: 60_000 });
  try {
    const error = await rejection(
      agent.run('Hello', { session: 'frozen', idempotencyKey: 'hello-1', timeoutMs: 1_000 }),
    );
    expect(error.code).toBe('timeout');
    expect(error.message).toMatch(/whether it was stored is unknown/);
    proxy.thaw();

    const retried = await agent.run('Hello', { session: 'frozen', idempotencyKey: 'hello-1' });

    const items = await agent.session('frozen').items();
    expect(items.map((item) => item.id)).toEqual(['hello-1', retried.items.at(-1)!.id]);
    expect(retried.text).toBe(`answer ${runtime.requests.length}`);
  } finally {
    proxy.thaw();
    await agent.close();
    await proxy.close();
  }
}

describe('a store server that stops answering mid-turn (SIGSTOP)', () => {
  afterAll(async () => {
    if (redisUp) await deleteRedisKeys(`cloudhop-frozen-${tag}:`);
    if (postgresUp) await dropSchema(`cloudhop_frozen_${tag}`);
  });

  it.skipIf(!redisUp)(
    'redis',
    async () => {
      const target = new URL(REDIS_URL);
      const proxy = await startTcpProxy(target.hostname, Number(target.port || 6379));
      const store = redisStore({
        url: `redis://127.0.0.1:${proxy.port}`,
        keyPrefix: `cloudhop-frozen-${tag}:`,
      });
      await frozenMidTurn(proxy, store);
    },
    HANGS,
  );

  it.skipIf(!postgresUp)(
    'postgres',
    async () => {
      const target = new URL(DATABASE_URL);
      const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
      const proxied = new URL(DATABASE_URL);
      proxied.port = String(proxy.port);
      const store = postgresStore({ connectionString: proxied.toString(), schema: `cloudhop_frozen_${tag}` });
      await frozenMidTurn(proxy, store);
    },
    HANGS,
  );
});

/**
 * Turns on one session run one after another; a turn's timeoutMs starts when it is sent, so it also
 * bounds its wait for the turns ahead. Each turn below is sent while the one before is still running.
 */
describe('a turn queued behind another on the same session', () => {
  it(
    'whose timeout fires while it waits: it fails with timeout and never runs, and the turn behind it still waits for the one ahead',
    async () => {
      let openGate!: () => void;
      const gate = new Promise<void>((resolve) => {
        openGate = resolve;
      });
      const runtime = scriptedRuntime(async (_request, index) => {
        if (index === 0) await gate;
        return `answer ${index + 1}`;
      });
      const agent = createAgent({ runtime });
      const first = agent.run('first', { session: 's' });
      const second = rejection(agent.run('second', { session: 's', timeoutMs: TURN_TIMEOUT_MS }));
      const third = agent.run('third', { session: 's' });

      const error = await second;
      expect(error.code).toBe('timeout');
      expect(runtime.requests).toHaveLength(1);
      openGate();
      await first;
      const result = await third;

      expect(result.text).toBe('answer 2');
      expect(runtime.requests).toHaveLength(2);
      const items = await agent.session('s').items();
      expect(items.map((item) => (item.type === 'message' ? textOf(item) : item.type))).toEqual([
        'first',
        'answer 1',
        'third',
        'answer 2',
      ]);
    },
    HANGS,
  );

  it(
    'whose commit lands but answers after its timeoutMs: the outcome is unknown, never "nothing was committed"',
    async () => {
      const inner = memoryStore();
      const store = Object.assign(Object.create(inner) as SessionStore, {
        async append(...args: Parameters<SessionStore['append']>) {
          const version = await inner.append(...args);
          // The second turn's commit is stored, and its reply does not come back in time.
          return args[2].expectedVersion > 0 ? never<number>() : version;
        },
      });
      const runtime = scriptedRuntime(['first answer', 'second answer']);
      const agent = createAgent({ runtime, store });
      const first = agent.run('Hello', { session: 's' });
      const second = rejection(
        agent.run('Hello again', { session: 's', idempotencyKey: 'again-1', timeoutMs: TURN_TIMEOUT_MS }),
      );
      await first;

      const error = await second;

      expect(error.code).toBe('timeout');
      expect(error.message).toMatch(/while it was being committed, so whether it was stored is unknown/);
      expect(error.message).not.toMatch(/nothing was committed/i);
      expect(error.message).toContain('Retry it with idempotencyKey "again-1"');
      const retried = await createAgent({ runtime, store: inner }).run('Hello again', {
        session: 's',
        idempotencyKey: 'again-1',
      });
      expect(retried.text).toBe('second answer');
      expect(runtime.requests).toHaveLength(2);
    },
    HANGS,
  );

  it(
    'whose lease release hangs after its commit: the stream ends after turn-finish and its result resolves',
    async () => {
      const inner = sqliteStore({ path: ':memory:' });
      let leases = 0;
      const store = Object.assign(Object.create(inner) as SessionStore, {
        async lock(...args: Parameters<SessionStore['lock']>) {
          const lease = await inner.lock(...args);
          leases += 1;
          if (leases === 1) return lease;
          return { token: lease.token, release: never<void>, renew: lease.renew?.bind(lease) };
        },
      });
      const agent = createAgent({ runtime: scriptedRuntime(['first answer', 'second answer']), store });
      const first = agent.run('Hello', { session: 's' });
      const second = agent.stream('Hello again', { session: 's', timeoutMs: TURN_TIMEOUT_MS });
      await first;

      const events: string[] = [];
      for await (const event of second) events.push(event.type);
      const result = await second.result;

      expect(events.at(-1)).toBe('turn-finish');
      expect(result.text).toBe('second answer');
      expect(result.sessionVersion).toBe(4);
      expect(leases).toBe(2);
    },
    HANGS,
  );
});

describe('turns sharing one caller AbortSignal', () => {
  it('20 concurrent turns: no MaxListenersExceededWarning, and one abort still aborts them all', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const controller = new AbortController();
      const agent = createAgent({ runtime: scriptedRuntime(() => ({ text: 'late', delayMs: 60_000 })) });
      const turns = Array.from({ length: 20 }, (_, n) =>
        rejection(agent.run('Hello', { session: `s${n}`, signal: controller.signal })),
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(getEventListeners(controller.signal, 'abort').length).toBeLessThanOrEqual(1);

      controller.abort();

      const errors = await Promise.all(turns);
      expect(errors.map((error) => error.code)).toEqual(Array(20).fill('aborted'));
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('no listener stays on the caller signal after 1,000 turns', async () => {
    const controller = new AbortController();
    const agent = createAgent({ runtime: scriptedRuntime(() => 'ok') });
    for (let n = 0; n < 1_000; n++) {
      await agent.run('Hello', { session: `s${n % 10}`, signal: controller.signal });
    }
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
