import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as z from 'zod/v4';
import type { Lease, SessionStore } from '../../src/core/store.js';
import {
  CloudhopError,
  createAgent,
  createItem,
  type MessageItem,
  type Runtime,
  type ToolCallItem,
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

const dir = mkdtempSync(join(tmpdir(), 'cloudhop-leases-'));
const tag = runTag();
const redisUp = await redisAvailable();
const postgresUp = await postgresAvailable();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Long enough that a busy machine's event-loop stalls do not cost a renewal. */
const TTL_MS = 1_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A tool that takes `ms`, and a script that calls it once and then answers. */
function slowToolAgentParts(ms: number, onRun?: () => Promise<void>) {
  let runs = 0;
  const slow = tool({
    name: 'slow',
    description: 'Takes a while',
    input: z.object({}),
    execute: async () => {
      runs += 1;
      await Promise.all([sleep(ms), onRun?.()]);
      return { done: true };
    },
  });
  const runtime = scriptedRuntime([{ toolCalls: [{ name: 'slow', arguments: {} }] }, 'all done']);
  return { slow, runtime, runs: () => runs };
}

/** Wraps a store so that each lease it hands out renews through `renew` instead. */
function withRenewal(
  inner: SessionStore,
  renew: (lease: Lease, ttlMs: number) => Promise<void>,
): SessionStore {
  return Object.assign(Object.create(inner) as SessionStore, {
    async lock(...args: Parameters<SessionStore['lock']>) {
      const lease = await inner.lock(...args);
      return {
        token: lease.token,
        release: () => lease.release(),
        renew: (ttlMs: number) => renew(lease, ttlMs),
      };
    },
  });
}

describe('leases renew while a turn runs', () => {
  it('a tool that runs three times longer than lockTtlMs keeps the lease, and the turn commits', async () => {
    const path = join(dir, 'renew.db');
    const store = sqliteStore({ path });
    const contender = sqliteStore({ path });
    const contended: string[] = [];
    const parts = slowToolAgentParts(3_000, async () => {
      // Past the first lease's ttl, another process still finds the session taken.
      await sleep(1_600);
      const error = await rejection(
        contender.lock({ namespace: 'default', sessionId: 'slow' }, 5_000, { waitMs: 0 }),
      );
      contended.push(error.code);
    });
    const agent = createAgent({ runtime: parts.runtime, store, tools: [parts.slow], lockTtlMs: TTL_MS });

    const result = await agent.run('Run the slow job', { session: 'slow' });

    expect(result.text).toBe('all done');
    expect(result.sessionVersion).toBe(4);
    expect(contended).toEqual(['store_conflict']);
    // Released at the end: the contender gets it at once now.
    const lease = await contender.lock({ namespace: 'default', sessionId: 'slow' }, 5_000, { waitMs: 0 });
    await lease.release();
    await agent.close();
    await contender.close();
  });

  it('a lease taken over during a tool stops the turn before its next step; nothing is committed', async () => {
    const store = withRenewal(sqliteStore({ path: join(dir, 'taken.db') }), async () => {
      throw new CloudhopError('store_conflict', 'The lease was taken over by another process.', {
        retryable: true,
      });
    });
    const parts = slowToolAgentParts(TTL_MS / 2);
    const agent = createAgent({ runtime: parts.runtime, store, tools: [parts.slow], lockTtlMs: TTL_MS });

    const error = await rejection(agent.run('Run the slow job', { session: 'taken' }));

    expect(error.code).toBe('store_conflict');
    expect(error.message).toMatch(/lease .* was lost while the turn ran .*another process took it over/);
    expect(parts.runtime.requests).toHaveLength(1);
    expect(parts.runs()).toBe(1);
    expect(await agent.session('taken').version()).toBe(0);
    await agent.close();
  });

  it('renewals that keep failing (store unreachable) end the turn once lockTtlMs has passed', async () => {
    const store = withRenewal(sqliteStore({ path: join(dir, 'unreachable.db') }), async () => {
      throw new CloudhopError('store_unavailable', 'connection refused', { retryable: false });
    });
    const parts = slowToolAgentParts(TTL_MS * 1.3);
    const agent = createAgent({ runtime: parts.runtime, store, tools: [parts.slow], lockTtlMs: TTL_MS });
    const error = await rejection(agent.run('Run the slow job', { session: 'unreachable' }));
    expect(error.code).toBe('store_conflict');
    expect(error.message).toMatch(/not renewed for lockTtlMs, 1000 ms/);
    expect(parts.runtime.requests).toHaveLength(1);
    await agent.close();
  });

  it('renewals that hang (a frozen store) end the turn once lockTtlMs has passed', async () => {
    const store = withRenewal(
      sqliteStore({ path: join(dir, 'frozen.db') }),
      () => new Promise<void>(() => {}),
    );
    const parts = slowToolAgentParts(TTL_MS * 1.3);
    const agent = createAgent({ runtime: parts.runtime, store, tools: [parts.slow], lockTtlMs: TTL_MS });
    const error = await rejection(agent.run('Run the slow job', { session: 'frozen' }));
    expect(error.code).toBe('store_conflict');
    expect(parts.runtime.requests).toHaveLength(1);
    expect(await agent.session('frozen').version()).toBe(0);
    await agent.close();
  });

  it('a renewal that hangs does not hold back the next one: the turn keeps its lease and commits', async () => {
    let renewals = 0;
    const store = withRenewal(sqliteStore({ path: join(dir, 'one-hang.db') }), (lease, ttlMs) => {
      renewals += 1;
      return renewals === 1 ? new Promise<void>(() => {}) : lease.renew!(ttlMs);
    });
    const parts = slowToolAgentParts(TTL_MS * 1.5);
    const agent = createAgent({ runtime: parts.runtime, store, tools: [parts.slow], lockTtlMs: TTL_MS });
    const result = await agent.run('Run the slow job', { session: 'one-hang' });
    expect(result.text).toBe('all done');
    expect(renewals).toBeGreaterThan(1);
    await agent.close();
  });

  it('a conversation binding a failed turn touched is reset even when the lease was lost', async () => {
    const inner = sqliteStore({ path: join(dir, 'conversation.db') });
    let refuse = false;
    const store = withRenewal(inner, (lease, ttlMs) =>
      refuse ? Promise.reject(new CloudhopError('store_conflict', 'taken over')) : lease.renew!(ttlMs),
    );
    let conversations = 0;
    const conversation: Runtime = {
      id: 'conversation-runtime',
      kind: 'stateful',
      family: 'test',
      async step(request) {
        const id = request.remoteState?.remote.conversationId ?? `conv_${++conversations}`;
        const last = request.items.at(-1);
        const wantsTool =
          last?.type === 'message' && last.role === 'user' && /job/.test(JSON.stringify(last));
        return {
          items: wantsTool
            ? [
                createItem<ToolCallItem>({
                  type: 'tool_call',
                  callId: `call_${id}`,
                  name: 'slow',
                  arguments: '{}',
                }),
              ]
            : [
                createItem<MessageItem>({
                  type: 'message',
                  role: 'assistant',
                  content: [{ type: 'text', text: 'ok' }],
                }),
              ],
          finishReason: wantsTool ? 'tool_calls' : 'stop',
          usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2, requestBytes: 0 },
          remote: { conversationId: id },
        };
      },
    };
    const parts = slowToolAgentParts(TTL_MS / 2, async () => {
      refuse = true;
    });
    const agent = createAgent({ runtime: conversation, store, tools: [parts.slow], lockTtlMs: TTL_MS });
    await agent.run('Hello', { session: 'conv' });
    const before = (await inner.load({ namespace: 'default', sessionId: 'conv' }, { limit: 0 }))!.bindings;
    expect(before[conversation.id]!.remote.conversationId).toBe('conv_1');

    await rejection(agent.run('Run the job', { session: 'conv' }));
    const after = (await inner.load({ namespace: 'default', sessionId: 'conv' }, { limit: 0 }))!;
    expect(after.version).toBe(2);
    expect(after.bindings[conversation.id]).toEqual({
      runtimeId: conversation.id,
      remote: {},
      syncedVersion: 0,
    });
    await agent.close();
  });

  it('a lease that took long to get is renewed at once, so a turn that waited for it keeps it', async () => {
    const path = join(dir, 'waited.db');
    const store = sqliteStore({ path });
    const holder = sqliteStore({ path });
    const key = { namespace: 'default', sessionId: 'waited' };
    const held = await holder.lock(key, 10_000);
    setTimeout(() => void held.release(), TTL_MS * 0.9);
    // The next step comes after (asked for + ttl) but before the first timed renewal (taken + ttl / 3).
    const parts = slowToolAgentParts(TTL_MS * 0.2);
    const agent = createAgent({ runtime: parts.runtime, store, tools: [parts.slow], lockTtlMs: TTL_MS });
    const result = await agent.run('Run the slow job', { session: 'waited' });
    expect(result.text).toBe('all done');
    await agent.close();
    await holder.close();
  });

  it('the default lockTtlMs is 30 s', async () => {
    const inner = sqliteStore({ path: ':memory:' });
    const ttls: number[] = [];
    const store = Object.assign(Object.create(inner) as SessionStore, {
      lock: (...args: Parameters<SessionStore['lock']>) => {
        ttls.push(args[1]);
        return inner.lock(...args);
      },
    });
    await createAgent({ runtime: scriptedRuntime(['hi']), store }).run('Hi', { session: 'ttl' });
    expect(ttls).toEqual([30_000]);
    await inner.close();
  });
});

const CRASH_TTL_MS = 1_500;

/**
 * Starts a child that runs a turn with a tool that never returns, SIGKILLs it once the tool runs,
 * and shows that the session is blocked right after (the dead process's lease holds) and free
 * within lockTtlMs, with nothing of the killed turn committed.
 */
async function killedMidTurn(kind: string, target: string, makeStore: () => SessionStore): Promise<void> {
  const session = `crash-${kind}`;
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(import.meta.dirname, 'helpers', 'crash-child.ts'),
      kind,
      target,
      session,
      String(CRASH_TTL_MS),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('TOOL_STARTED')) resolve();
    });
    void exited.then((code) => reject(new Error(`the child exited (${code}) before its tool started`)));
  });
  // Let it renew at least once, so the lease it dies with is a renewed one.
  await sleep(CRASH_TTL_MS);
  expect(child.exitCode).toBeNull();
  // Opened before the kill, so the first probe below comes right after it.
  const store = makeStore();
  await store.list({ limit: 1 });
  child.kill('SIGKILL');
  await exited;

  const runtime = scriptedRuntime(['taken over']);
  try {
    const blocked = await rejection(
      createAgent({ runtime, store, lockWaitMs: 0 }).run('Anyone there?', { session }),
    );
    expect(blocked.code).toBe('store_conflict');

    // The dead process renewed its lease last before it was killed, so it lapses within lockTtlMs.
    const agent = createAgent({ runtime, store, lockWaitMs: CRASH_TTL_MS + 250 });
    const result = await agent.run('Anyone there?', { session });
    expect(result.text).toBe('taken over');
    // Nothing of the killed turn was committed: this turn's items are the session's only ones.
    expect(result.sessionVersion).toBe(2);
  } finally {
    await store.close();
  }
}

describe('a process killed mid-turn blocks its session for at most lockTtlMs', () => {
  it('sqlite', async () => {
    const path = join(dir, 'crash.db');
    await killedMidTurn('sqlite', path, () => sqliteStore({ path }));
  }, 60_000);

  it.skipIf(!redisUp)(
    'redis',
    async () => {
      const keyPrefix = `cloudhop-crash-${tag}:`;
      try {
        await killedMidTurn('redis', keyPrefix, () => redisStore({ url: REDIS_URL, keyPrefix }));
      } finally {
        await deleteRedisKeys(keyPrefix);
      }
    },
    60_000,
  );

  it.skipIf(!postgresUp)(
    'postgres',
    async () => {
      const schema = `cloudhop_crash_${tag}`;
      try {
        await killedMidTurn('postgres', schema, () =>
          postgresStore({ connectionString: DATABASE_URL, schema }),
        );
      } finally {
        await dropSchema(schema);
      }
    },
    60_000,
  );
});
