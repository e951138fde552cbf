// Tenant isolation: a session of one namespace is unreachable from another through every API —
// agent.run, agent.stream, agent.session(id).items()/clear(), exportSession, importSession and
// store.list — on every store, including ids crafted to collide under a naive key join.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createAgent,
  exportSession,
  type Item,
  importSession,
  type MessageItem,
  memoryStore,
  type SessionKey,
  type SessionStore,
} from '../../src/index.js';
import { postgresStore } from '../../src/stores/postgres.js';
import { redisStore } from '../../src/stores/redis.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { scriptedRuntime } from '../../src/testing/index.js';
import { rejection } from '../helpers/errors.js';
import {
  DATABASE_URL,
  postgresAvailable,
  REDIS_URL,
  redisAvailable,
  runTag,
} from '../stores/helpers/services.js';

const tag = runTag();
const redisUp = await redisAvailable();
const postgresUp = await postgresAvailable();

const sqliteDir = mkdtempSync(join(tmpdir(), 'cloudhop-isolation-'));
const redisPrefix = `cloudhop-isolation-${tag}:`;
const postgresSchemas: string[] = [];
let made = 0;

interface Backend {
  name: string;
  available: boolean;
  /** A fresh, empty store. */
  make(): SessionStore;
}

const backends: Backend[] = [
  { name: 'memoryStore', available: true, make: () => memoryStore() },
  {
    name: 'sqliteStore',
    available: true,
    make: () => sqliteStore({ path: join(sqliteDir, `isolation-${++made}.db`) }),
  },
  {
    name: 'redisStore',
    available: redisUp,
    make: () => redisStore({ url: REDIS_URL, keyPrefix: `${redisPrefix}${++made}:` }),
  },
  {
    name: 'postgresStore',
    available: postgresUp,
    make: () => {
      const schema = `cloudhop_isolation_${tag}_${++made}`;
      postgresSchemas.push(schema);
      return postgresStore({ connectionString: DATABASE_URL, schema });
    },
  },
];

afterAll(async () => {
  rmSync(sqliteDir, { recursive: true, force: true });
  if (redisUp) {
    const client = new Redis(REDIS_URL);
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${redisPrefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    await client.quit();
  }
  if (postgresUp && postgresSchemas.length > 0) {
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    for (const schema of postgresSchemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
});

/** The text of every message a runtime was sent, in order. */
function textsSent(runtime: ReturnType<typeof scriptedRuntime>): string[] {
  return runtime.requests.flatMap((request) =>
    request.items.flatMap((item) =>
      item.type === 'message'
        ? item.content.flatMap((part) => (part.type === 'text' ? [part.text] : []))
        : [],
    ),
  );
}

function userMessage(text: string): MessageItem {
  return {
    type: 'message',
    id: `m-${Buffer.from(text).toString('hex')}`,
    role: 'user',
    content: [{ type: 'text', text }],
    createdAt: '2025-01-01T00:00:00.000Z',
  };
}

const TENANT_SECRET = 'the launch code of tenant a is 0000';

for (const backend of backends) {
  describe.skipIf(!backend.available)(`tenant isolation on ${backend.name}`, () => {
    /**
     * Tenant "a" holds session "b:c"; tenant "a:b" would reach it under a naive `ns:id` key as
     * session "c". Each agent has its own scripted model that records what it was sent.
     */
    async function twoTenants() {
      const store = backend.make();
      const modelA = scriptedRuntime(() => 'Noted.', { id: 'model-a' });
      const modelAB = scriptedRuntime(() => 'Hello.', { id: 'model-ab' });
      const tenantA = createAgent({ runtime: modelA, store, namespace: 'a' });
      const tenantAB = createAgent({ runtime: modelAB, store, namespace: 'a:b' });
      await tenantA.run(TENANT_SECRET, { session: 'b:c' });
      const itemsOfA = await tenantA.session('b:c').items();
      expect(itemsOfA).toHaveLength(2);
      return { store, modelAB, tenantA, tenantAB, itemsOfA };
    }

    it('agent.run in another namespace never sees the session, under the colliding id or the same id', async () => {
      const { store, modelAB, tenantA, tenantAB, itemsOfA } = await twoTenants();
      await tenantAB.run('What do you know?', { session: 'c' });
      await tenantAB.run('And here?', { session: 'b:c' });
      const defaultTenant = createAgent({ runtime: modelAB, store });
      await defaultTenant.run('Anything?', { session: 'b:c' });

      expect(textsSent(modelAB)).toEqual(['What do you know?', 'And here?', 'Anything?']);
      expect(await tenantA.session('b:c').items()).toEqual(itemsOfA);
      await store.close();
    });

    it('agent.stream in another namespace never sees the session', async () => {
      const { store, modelAB, tenantAB, tenantA, itemsOfA } = await twoTenants();
      const stream = tenantAB.stream('What do you know?', { session: 'c' });
      const events = [];
      for await (const event of stream) events.push(event);
      const result = await stream.result;

      expect(events[0]).toMatchObject({ type: 'turn-start', namespace: 'a:b', sessionId: 'c' });
      expect(result.sessionVersion).toBe(2);
      expect(textsSent(modelAB)).toEqual(['What do you know?']);
      expect(JSON.stringify(events)).not.toContain(TENANT_SECRET);
      expect(await tenantA.session('b:c').items()).toEqual(itemsOfA);
      await store.close();
    });

    it('agent.session(id).items() and clear() stay in their namespace', async () => {
      const { store, tenantA, tenantAB, itemsOfA } = await twoTenants();
      const defaultTenant = createAgent({ runtime: scriptedRuntime(['-']), store });

      expect(await tenantAB.session('c').items()).toEqual([]);
      expect(await tenantAB.session('b:c').items()).toEqual([]);
      expect(await defaultTenant.session('b:c').items()).toEqual([]);
      expect(
        await createAgent({ runtime: scriptedRuntime(['-']), store, namespace: 'a:b:c' })
          .session('b:c')
          .items(),
      ).toEqual([]);

      await tenantAB.session('c').clear();
      await tenantAB.session('b:c').clear();
      await defaultTenant.session('b:c').clear();
      expect(await tenantA.session('b:c').items()).toEqual(itemsOfA);
      await store.close();
    });

    it('agent.withRuntime and agent.withStore keep the namespace', async () => {
      const { store, tenantAB } = await twoTenants();
      const elsewhere = tenantAB.withRuntime(scriptedRuntime(() => 'Elsewhere.', { id: 'other-cloud' }));
      expect(await elsewhere.session('b:c').items()).toEqual([]);
      const sameStoreAgain = tenantAB.withStore(store);
      expect(await sameStoreAgain.session('b:c').items()).toEqual([]);
      await store.close();
    });

    it('exportSession from another namespace finds nothing', async () => {
      const { store } = await twoTenants();
      for (const [sessionId, namespace] of [
        ['b:c', 'a:b'],
        ['c', 'a:b'],
        ['b:c', undefined],
        ['c', 'a'],
        ['b', 'a'],
      ] as const) {
        const error = await rejection(
          exportSession(store, sessionId, namespace === undefined ? {} : { namespace }),
        );
        expect(error.code).toBe('invalid_session_id');
      }
      const own = await exportSession(store, 'b:c', { namespace: 'a' });
      expect(own).toMatchObject({ namespace: 'a', sessionId: 'b:c' });
      await store.close();
    });

    it('importSession into another namespace makes a separate copy; it never overwrites the original', async () => {
      const { store, tenantA, tenantAB, itemsOfA } = await twoTenants();
      const file = await exportSession(store, 'b:c', { namespace: 'a' });

      // The file names tenant "a": imported as it is, it would overwrite that session — refused.
      const conflict = await rejection(importSession(store, file));
      expect(conflict.code).toBe('store_conflict');

      expect(await importSession(store, JSON.stringify(file), { namespace: 'a:b' })).toEqual({
        namespace: 'a:b',
        sessionId: 'b:c',
      });
      expect(await tenantAB.session('b:c').items()).toEqual(itemsOfA);
      await tenantAB.run('Forget it.', { session: 'b:c' });
      await tenantAB.session('b:c').clear();
      expect(await tenantAB.session('b:c').items()).toEqual([]);
      expect(await tenantA.session('b:c').items()).toEqual(itemsOfA);
      await store.close();
    });

    it('store.list({ namespace }) lists only that namespace', async () => {
      const { store, tenantAB } = await twoTenants();
      await tenantAB.run('Hi', { session: 'c' });
      expect((await store.list({ namespace: 'a' })).ids).toEqual(['b:c']);
      expect((await store.list({ namespace: 'a:b' })).ids).toEqual(['c']);
      expect((await store.list({ namespace: 'a:b:c' })).ids).toEqual([]);
      expect((await store.list({ namespace: 'b' })).ids).toEqual([]);
      expect((await store.list({})).ids).toEqual([]);
      await store.close();
    });

    /**
     * Keys that a store joining or matching them naively would confuse: separators (`:`, `/`),
     * SQL LIKE wildcards (`_`, `%`), the store's own escape character, Redis hash tags, dots,
     * case, trailing spaces and unicode normalization. Stores accept any string in a key.
     */
    const CRAFTED: SessionKey[] = [
      { namespace: 'a', sessionId: 'b:c' },
      { namespace: 'a:b', sessionId: 'c' },
      { namespace: 'a', sessionId: 'b/c' },
      { namespace: 'a/b', sessionId: 'c' },
      { namespace: 'ab', sessionId: 'x' },
      { namespace: 'a_', sessionId: 'x' },
      { namespace: 'a%', sessionId: 'x' },
      { namespace: '%', sessionId: 'x' },
      { namespace: 'ns', sessionId: 'b%3ac' },
      { namespace: 'ns', sessionId: 'b%253ac' },
      { namespace: '{a}', sessionId: 'x' },
      { namespace: 'a}:s:x', sessionId: 'y' },
      { namespace: '..', sessionId: 'x' },
      { namespace: '.', sessionId: '.x' },
      { namespace: 'A', sessionId: 'x' },
      { namespace: 'a ', sessionId: 'x' },
      { namespace: 'é', sessionId: 'x' },
      { namespace: 'e\u0301', sessionId: 'x' },
      { namespace: 'ns', sessionId: '*' },
      { namespace: 'ns', sessionId: '[x]' },
    ];

    it('crafted keys that collide under naive joins stay apart: load, list, delete', async () => {
      const store = backend.make();
      for (const key of CRAFTED) {
        await store.append(key, [userMessage(`${key.namespace}|${key.sessionId}`)], { expectedVersion: 0 });
      }
      for (const key of CRAFTED) {
        const snapshot = await store.load(key);
        expect(snapshot?.items).toEqual([userMessage(`${key.namespace}|${key.sessionId}`)]);
        expect(snapshot?.version).toBe(1);
      }
      for (const namespace of new Set(CRAFTED.map((key) => key.namespace))) {
        const expected = CRAFTED.filter((key) => key.namespace === namespace)
          .map((key) => key.sessionId)
          .sort();
        expect({ namespace, ids: (await store.list({ namespace })).ids.sort() }).toEqual({
          namespace,
          ids: expected,
        });
      }
      // Deleting one key leaves its would-be twin in place.
      await store.delete({ namespace: 'a:b', sessionId: 'c' });
      await store.delete({ namespace: 'a_', sessionId: 'x' });
      expect(await store.load({ namespace: 'a:b', sessionId: 'c' })).toBeUndefined();
      expect((await store.load({ namespace: 'a', sessionId: 'b:c' }))?.version).toBe(1);
      expect((await store.load({ namespace: 'ab', sessionId: 'x' }))?.version).toBe(1);
      expect((await store.load({ namespace: 'a%', sessionId: 'x' }))?.version).toBe(1);
      await store.close();
    });

    it('an append with a version from another key is refused: versions are per key', async () => {
      const store = backend.make();
      const items: Item[] = [userMessage('one'), userMessage('two')];
      await store.append({ namespace: 'a', sessionId: 'b:c' }, items, { expectedVersion: 0 });
      const error = await rejection(
        store.append({ namespace: 'a:b', sessionId: 'c' }, [userMessage('three')], { expectedVersion: 2 }),
      );
      expect(error.code).toBe('store_conflict');
      expect(await store.load({ namespace: 'a:b', sessionId: 'c' })).toBeUndefined();
      await store.close();
    });

    it('a lease on one key does not lock its would-be twin', async () => {
      const store = backend.make();
      const lease = await store.lock({ namespace: 'a', sessionId: 'b:c' }, 60_000);
      const twin = await store.lock({ namespace: 'a:b', sessionId: 'c' }, 60_000, { waitMs: 0 });
      expect(twin.token).not.toBe(lease.token);
      await twin.release();
      await lease.release();
      await store.close();
    });
  });
}
