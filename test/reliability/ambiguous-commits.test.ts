// A commit whose reply is lost may still be stored. The turn finds out before it reports: a stored
// turn stands, a missing one is reported as not committed, and when even the check fails the error
// says the outcome is unknown and names the idempotencyKey that makes a retry safe.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { SessionStore } from '../../src/core/store.js';
import { createAgent, createItem, type MessageItem, memoryStore } from '../../src/index.js';
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

const dir = mkdtempSync(join(tmpdir(), 'cloudhop-ambiguous-'));
const tag = runTag();
const redisUp = await redisAvailable();
const postgresUp = await postgresAvailable();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Long enough that only a release, never an expiry, frees a session within a test. */
const LOCK_TTL_MS = 60_000;

/**
 * A store under test, whose next commit is carried out but reported as failed (`loseNextReply`),
 * and whose reads fail while `readsFail` is set (so the turn's check of that commit fails too).
 */
interface Faulty {
  store: SessionStore;
  loseNextReply(): void;
  /** How many commits were carried out but reported as failed. */
  repliesLost: number;
  readsFail: boolean;
  cleanup(): Promise<void>;
}

/** Reads fail while `faulty.readsFail` is set; everything else goes to `inner`. */
function withFailingReads(inner: SessionStore, faulty: { readsFail: boolean }): SessionStore {
  return Object.assign(Object.create(inner) as SessionStore, {
    load(...args: Parameters<SessionStore['load']>) {
      if (faulty.readsFail) return Promise.reject(new Error('read ECONNRESET'));
      return inner.load(...args);
    },
  });
}

/** Commits, then throws as a driver does when the connection drops before the reply arrives. */
function locallyFaulty(inner: SessionStore, cleanup: () => Promise<void>): Faulty {
  let loseNext = false;
  const faulty: Faulty = {
    store: inner,
    loseNextReply: () => {
      loseNext = true;
    },
    repliesLost: 0,
    readsFail: false,
    cleanup,
  };
  faulty.store = Object.assign(withFailingReads(inner, faulty), {
    async append(...args: Parameters<SessionStore['append']>) {
      const version = await inner.append(...args);
      if (loseNext && args[1].length > 0) {
        loseNext = false;
        faulty.repliesLost += 1;
        throw new Error('write ECONNRESET');
      }
      return version;
    },
  });
  return faulty;
}

/** The real server behind a proxy that cuts the connection as the reply to `marker` comes back. */
function remotelyFaulty(
  make: (port: number) => SessionStore,
  proxy: TcpProxy,
  marker: string,
  cleanup: () => Promise<void>,
): Faulty {
  const inner = make(proxy.port);
  const faulty: Faulty = {
    store: inner,
    loseNextReply: () => {
      void proxy.loseReplyTo(marker).then(() => {
        faulty.repliesLost += 1;
      });
    },
    repliesLost: 0,
    readsFail: false,
    cleanup: async () => {
      await inner.close();
      await proxy.close();
      await cleanup();
    },
  };
  faulty.store = withFailingReads(inner, faulty);
  return faulty;
}

/** Words in the turn's user message: the Redis commit carries them, so its reply can be lost. */
const MARKER = 'ambiguous-commit-marker';

const stores: Array<{ name: string; up: boolean; open: (name: string) => Promise<Faulty> }> = [
  {
    name: 'memory',
    up: true,
    open: async () => locallyFaulty(memoryStore(), async () => {}),
  },
  {
    name: 'sqlite',
    up: true,
    open: async (name) => {
      const inner = sqliteStore({ path: join(dir, `${name}.db`) });
      return locallyFaulty(inner, () => inner.close());
    },
  },
  {
    name: 'redis',
    up: redisUp,
    open: async (name) => {
      const keyPrefix = `cloudhop-ambiguous-${tag}-${name}:`;
      const proxy = await startTcpProxy('127.0.0.1', Number(new URL(REDIS_URL).port || 6379));
      return remotelyFaulty(
        (port) => redisStore({ url: `redis://127.0.0.1:${port}`, keyPrefix }),
        proxy,
        MARKER,
        () => deleteRedisKeys(keyPrefix),
      );
    },
  },
  {
    name: 'postgres',
    up: postgresUp,
    open: async (name) => {
      const schema = `cloudhop_ambiguous_${tag}_${name}`;
      const url = new URL(DATABASE_URL);
      const proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
      return remotelyFaulty(
        (port) => {
          const proxied = new URL(DATABASE_URL);
          proxied.port = String(port);
          return postgresStore({ connectionString: proxied.toString(), schema });
        },
        proxy,
        // The reply lost is the one to the transaction's COMMIT: the items are stored by then.
        'COMMIT',
        () => dropSchema(schema),
      );
    },
  },
];

describe.each(stores)('a commit whose reply is lost ($name)', ({ name, up, open }) => {
  it.skipIf(!up)(
    'the stored turn stands: run() resolves with it, and the session holds it once',
    async () => {
      const faulty = await open(`landed-${name}`);
      const runtime = scriptedRuntime(['first answer', 'second answer']);
      const agent = createAgent({ runtime, store: faulty.store, lockTtlMs: LOCK_TTL_MS });
      try {
        // The first turn makes the session (and the Postgres schema) over a healthy connection.
        await agent.run('Hello', { session: 'landed' });
        faulty.loseNextReply();

        const result = await agent.run(`Hello again, ${MARKER}`, { session: 'landed' });

        expect(faulty.repliesLost).toBe(1);
        expect(result.text).toBe('second answer');
        expect(result.sessionVersion).toBe(4);
        const items = await agent.session('landed').items();
        expect(items.map((item) => item.id)).toEqual([
          items[0]!.id,
          items[1]!.id,
          result.items[0]!.id,
          result.items[1]!.id,
        ]);
      } finally {
        await agent.close();
        await faulty.cleanup();
      }
    },
    30_000,
  );

  it.skipIf(!up)(
    'when the check fails too, the outcome is unknown; a retry with the idempotencyKey it names returns the stored turn without running it again',
    async () => {
      const faulty = await open(`unknown-${name}`);
      const runtime = scriptedRuntime(['first answer', 'stored answer', 'a duplicate']);
      const agent = createAgent({ runtime, store: faulty.store, lockTtlMs: LOCK_TTL_MS });
      try {
        await agent.run('Hello', { session: 'unknown' });
        faulty.loseNextReply();
        const store = faulty.store;
        faulty.store = Object.assign(Object.create(store) as SessionStore, {
          append: async (...args: Parameters<SessionStore['append']>) => {
            try {
              return await store.append(...args);
            } finally {
              // The store goes away for reads right after the commit's reply is lost.
              faulty.readsFail = true;
            }
          },
        });
        const flaky = createAgent({ runtime, store: faulty.store, lockTtlMs: LOCK_TTL_MS });

        const error = await rejection(
          flaky.run(`Book it, ${MARKER}`, { session: 'unknown', idempotencyKey: 'booking-1' }),
        );

        expect(faulty.repliesLost).toBe(1);
        expect(error.code).toBe('store_unavailable');
        expect(error.message).toMatch(/whether it was stored is unknown/);
        expect(error.message).toMatch(/Retry it with idempotencyKey "booking-1"/);
        expect(error.message).not.toMatch(/Nothing was committed/i);
        faulty.readsFail = false;

        const retried = await agent.run(`Book it, ${MARKER}`, {
          session: 'unknown',
          idempotencyKey: 'booking-1',
        });

        expect(retried.text).toBe('stored answer');
        expect(runtime.requests).toHaveLength(2);
        const items = await agent.session('unknown').items();
        expect(items).toHaveLength(4);
        expect(items.filter((item) => item.id === 'booking-1')).toHaveLength(1);
      } finally {
        faulty.readsFail = false;
        await agent.close();
        await faulty.cleanup();
      }
    },
    30_000,
  );
});

describe('a failed commit that was not stored', () => {
  it('is reported as store_unavailable with nothing committed, and the session is as it was', async () => {
    const inner = memoryStore();
    const store = Object.assign(Object.create(inner) as SessionStore, {
      append: async () => {
        throw new Error('write ECONNRESET');
      },
    });
    const agent = createAgent({ runtime: scriptedRuntime(['never stored']), store });

    const error = await rejection(agent.run('Hello', { session: 'lost' }));

    expect(error.code).toBe('store_unavailable');
    expect(error.message).toMatch(/ECONNRESET\. Nothing was committed/);
    expect(await inner.list()).toEqual({ ids: [] });
  });

  it('without an idempotencyKey, an unknown outcome names the id its user message was stored under', async () => {
    const inner = memoryStore();
    let reads = 0;
    const store = Object.assign(Object.create(inner) as SessionStore, {
      append: async (...args: Parameters<SessionStore['append']>) => {
        await inner.append(...args);
        throw new Error('write ECONNRESET');
      },
      load: async (...args: Parameters<SessionStore['load']>) => {
        reads += 1;
        // The head read of the turn works; every check of the commit after it fails.
        if (reads > 1) throw new Error('read ECONNRESET');
        return inner.load(...args);
      },
    });
    const runtime = scriptedRuntime(['stored answer']);
    const error = await rejection(createAgent({ runtime, store }).run('Hello', { session: 'anon' }));
    const stored = (await inner.load({ namespace: 'default', sessionId: 'anon' }))!.items[0]!;

    expect(error.message).toContain(`Retry it with idempotencyKey "${stored.id}"`);
    const retried = await createAgent({ runtime, store: inner }).run('Hello', {
      session: 'anon',
      idempotencyKey: stored.id,
    });
    expect(retried.text).toBe('stored answer');
    expect(runtime.requests).toHaveLength(1);
  });
});

/**
 * Commits, then sends the same append again, as a driver does that resends a command whose reply
 * it lost: the store refuses the second send with its own version conflict.
 */
function resendingAppends(inner: SessionStore): { store: SessionStore; resent: () => number } {
  let resent = 0;
  const store = Object.assign(Object.create(inner) as SessionStore, {
    async append(...args: Parameters<SessionStore['append']>) {
      await inner.append(...args);
      resent += 1;
      return inner.append(...args);
    },
  });
  return { store, resent: () => resent };
}

describe('a commit that the driver sent again after it stored the turn', () => {
  it.each([
    { name: 'memory', open: () => memoryStore() },
    { name: 'sqlite', open: () => sqliteStore({ path: join(dir, 'resent.db') }) },
  ])(
    '$name: the refusal of the second send is not reported; run() resolves with the stored turn, held once',
    async ({ open }) => {
      const inner = open();
      const resending = resendingAppends(inner);
      const agent = createAgent({
        runtime: scriptedRuntime(['first answer', 'second answer']),
        store: resending.store,
        lockTtlMs: LOCK_TTL_MS,
      });
      try {
        await agent.run('Hello', { session: 'resent' });

        const result = await agent.run('Hello again', { session: 'resent' });

        expect(resending.resent()).toBe(2);
        expect(result.text).toBe('second answer');
        expect(result.sessionVersion).toBe(4);
        const items = await agent.session('resent').items();
        expect(items.map((item) => item.id).slice(2)).toEqual(result.items.map((item) => item.id));
        expect(items).toHaveLength(4);
      } finally {
        await inner.close();
      }
    },
  );

  it('a turn whose place another process took, resubmitted with the same idempotencyKey, is still refused; the retry returns what that process stored', async () => {
    const inner = memoryStore();
    const message = (role: 'user' | 'assistant', text: string) =>
      createItem<MessageItem>({ type: 'message', role, content: [{ type: 'text', text }] });
    const store = Object.assign(Object.create(inner) as SessionStore, {
      async append(...args: Parameters<SessionStore['append']>) {
        // Another process ran the same booking and committed it first.
        const [key, , { expectedVersion }] = args;
        const elsewhere = [
          { ...message('user', 'Book it'), id: 'booking-1' },
          message('assistant', 'booked elsewhere'),
        ];
        await inner.append(key, elsewhere, { expectedVersion });
        return inner.append(...args);
      },
    });
    const runtime = scriptedRuntime(['booked here']);

    const error = await rejection(
      createAgent({ runtime, store }).run('Book it', { session: 'taken', idempotencyKey: 'booking-1' }),
    );

    expect(error.code).toBe('store_conflict');
    expect(error.retryable).toBe(true);
    const retried = await createAgent({ runtime, store: inner }).run('Book it', {
      session: 'taken',
      idempotencyKey: 'booking-1',
    });
    expect(retried.text).toBe('booked elsewhere');
    expect(runtime.requests).toHaveLength(1);
  });

  it.skipIf(!redisUp)(
    'redis, with an ioredis client of your own: the reply to the commit is lost, the client resends it after reconnecting, and the turn stands',
    async () => {
      const keyPrefix = `cloudhop-resent-${tag}:`;
      const target = new URL(REDIS_URL);
      const proxy = await startTcpProxy(target.hostname, Number(target.port || 6379));
      // The defaults a user's client has: it reconnects and resends the commands left unanswered.
      const client = new Redis(`redis://127.0.0.1:${proxy.port}`);
      client.on('error', () => {});
      const agent = createAgent({
        runtime: scriptedRuntime(['first answer', 'second answer']),
        store: redisStore({ client, keyPrefix }),
        lockTtlMs: LOCK_TTL_MS,
      });
      try {
        await agent.run('Hello', { session: 'resent' });
        const lost = proxy.loseReplyTo(MARKER);

        const result = await agent.run(`Hello again, ${MARKER}`, { session: 'resent' });

        await lost;
        expect(result.text).toBe('second answer');
        expect(result.sessionVersion).toBe(4);
        const items = await agent.session('resent').items();
        expect(items.map((item) => item.id).slice(2)).toEqual(result.items.map((item) => item.id));
        expect(items).toHaveLength(4);
      } finally {
        client.disconnect();
        await proxy.close();
        await deleteRedisKeys(keyPrefix);
      }
    },
    30_000,
  );
});
