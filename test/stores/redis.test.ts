import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { CloudhopError } from '../../src/core/errors.js';
import { redisStore } from '../../src/stores/redis.js';
import { runStoreConformance } from '../../src/testing/index.js';
import { closedPort, REDIS_URL, redisAvailable, runTag } from './helpers/services.js';
import { expectOutageRecovery, message, rejection } from './helpers/store-kit.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';

const available = await redisAvailable();
const keyPrefix = `cloudhop-test-${runTag()}:`;

describe.skipIf(!available)('redisStore', () => {
  afterAll(async () => {
    const client = new Redis(REDIS_URL);
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    await client.quit();
  });

  runStoreConformance(
    () => redisStore({ url: REDIS_URL, keyPrefix }),
    { describe, it, expect },
    {
      name: 'conformance',
    },
  );

  it('lays keys out per namespace, escaping separators so keys never collide', async () => {
    const store = redisStore({ url: REDIS_URL, keyPrefix: `${keyPrefix}layout:` });
    await store.append({ namespace: 'a', sessionId: 'b:c' }, [message('x')], { expectedVersion: 0 });
    await store.close();
    const client = new Redis(REDIS_URL);
    const keys = await client.keys(`${keyPrefix}layout:*`);
    expect(keys.sort()).toEqual([
      `${keyPrefix}layout:{a}:s:b%3ac:items`,
      `${keyPrefix}layout:{a}:s:b%3ac:meta`,
      `${keyPrefix}layout:{a}:sessions`,
    ]);
    expect(await client.hget(`${keyPrefix}layout:{a}:s:b%3ac:meta`, 'version')).toBe('1');
    await client.quit();
  });

  it('with ttlSeconds a session expires after its last append and leaves the listing', async () => {
    const store = redisStore({ url: REDIS_URL, keyPrefix: `${keyPrefix}ttl:`, ttlSeconds: 1 });
    const key = { namespace: 'ttl', sessionId: 'short-lived' };
    await store.append(key, [message('x')], { expectedVersion: 0 });
    await store.append({ namespace: 'ttl', sessionId: 'z-also' }, [message('y')], { expectedVersion: 0 });
    expect((await store.list({ namespace: 'ttl' })).ids).toEqual(['short-lived', 'z-also']);
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    expect(await store.load(key)).toBeUndefined();
    expect((await store.list({ namespace: 'ttl' })).ids).toEqual([]);
    await store.close();
  });

  it('does not close a client it was given', async () => {
    const client = new Redis(REDIS_URL);
    const store = redisStore({ client, keyPrefix });
    const key = { namespace: `own-${runTag()}`, sessionId: 's' };
    await store.append(key, [message('x')], { expectedVersion: 0 });
    await store.close();
    expect(await client.ping()).toBe('PONG');
    expect(await client.hget(`${keyPrefix}{${key.namespace}}:s:s:meta`, 'version')).toBe('1');
    await client.quit();
  });

  it('reports store_unavailable when nothing listens on the port', async () => {
    const port = await closedPort();
    const store = redisStore({ url: `redis://:planted-secret-password@127.0.0.1:${port}` });
    const error = await rejection(store.load({ namespace: 'default', sessionId: 's' }));
    expect(error).toBeInstanceOf(CloudhopError);
    expect(error.code).toBe('store_unavailable');
    expect(error.cause).toBeDefined();
    expect(JSON.stringify(error)).not.toContain('planted-secret-password');
    expect(error.message).not.toContain('planted-secret-password');
    // The failure did not leave the store stuck: later calls fail the same way, promptly.
    expect(
      (await rejection(store.append({ namespace: 'default', sessionId: 's' }, [], { expectedVersion: 0 })))
        .code,
    ).toBe('store_unavailable');
    await store.close();
  });

  it('a server that goes away fails calls with store_unavailable, commits nothing, and works again when back', async () => {
    const { hostname, port } = new URL(REDIS_URL);
    const proxy = await startTcpProxy(hostname, Number(port || 6379));
    const store = redisStore({ url: `redis://127.0.0.1:${proxy.port}`, keyPrefix });
    const key = { namespace: `down-${runTag()}`, sessionId: 's' };
    try {
      await expectOutageRecovery(store, proxy, key);
    } finally {
      await store.close();
      await proxy.close();
    }
  });

  it('an append that meets a key of another type writes nothing, so a retry cannot duplicate the turn', async () => {
    const prefix = `${keyPrefix}foreign:`;
    const store = redisStore({ url: REDIS_URL, keyPrefix: prefix });
    const client = new Redis(REDIS_URL);
    const key = { namespace: 'shared', sessionId: 's' };
    const index = `${prefix}{shared}:sessions`;
    const binding = {
      runtimeId: 'openai-responses:gpt-4o',
      remote: { responseId: 'resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b' },
      syncedVersion: 4,
    };
    try {
      await store.append(key, [message('one'), message('two', 'assistant')], { expectedVersion: 0 });
      // Another program sharing the key prefix keeps a plain string where cloudhop keeps its index.
      await client.set(index, 'not a sorted set');
      const turn = [message('three'), message('four', 'assistant')];
      const error = await rejection(store.append(key, turn, { expectedVersion: 2, binding }));
      const snapshot = await store.load(key);
      expect(snapshot?.items).toEqual([message('one'), message('two', 'assistant')]);
      expect(snapshot?.version).toBe(2);
      expect(snapshot?.bindings).toEqual({});
      expect(error.code).toBe('store_unavailable');
      expect(error.message).toContain(`"${index}" holds a string, not the zset`);
      expect(error.message).toContain('keyPrefix');

      await client.del(index);
      expect(await store.append(key, turn, { expectedVersion: 2, binding })).toBe(4);
      expect((await store.load(key))?.items).toHaveLength(4);
    } finally {
      await store.close();
      await client.quit();
    }
  });

  it('an append carrying thousands of bindings lands whole: items, version and every binding', async () => {
    const prefix = `${keyPrefix}many-bindings:`;
    const store = redisStore({ url: REDIS_URL, keyPrefix: prefix });
    const client = new Redis(REDIS_URL);
    const key = { namespace: 'default', sessionId: 'imported' };
    // Far past the 8,000 values Lua's unpack() takes at once: two per binding (field and JSON).
    const bindings = Array.from({ length: 5_000 }, (_, index) => ({
      runtimeId: `openai-responses:deployment-${index}`,
      remote: { responseId: 'resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b' },
      syncedVersion: 2,
    }));
    try {
      const turn = [message('my name is Ada'), message('Nice to meet you, Ada.', 'assistant')];
      const appended = await store
        .append(key, turn, { expectedVersion: 0, bindings })
        .catch((error) => error);
      const snapshot = await store.load(key);
      expect(await client.llen(`${prefix}{default}:s:imported:items`)).toBe(snapshot?.version ?? 0);
      expect(appended).toBe(2);
      expect(snapshot?.items).toEqual(turn);
      expect(Object.keys(snapshot?.bindings ?? {})).toHaveLength(bindings.length);
      expect(snapshot?.bindings['openai-responses:deployment-4999']).toEqual(bindings[4_999]);
    } finally {
      await store.close();
      await client.quit();
    }
  });

  it('reports a stored item changed outside cloudhop as transcript_invalid, naming its position and list', async () => {
    const prefix = `${keyPrefix}corrupt:`;
    const store = redisStore({ url: REDIS_URL, keyPrefix: prefix });
    const client = new Redis(REDIS_URL);
    const key = { namespace: 'default', sessionId: 'hand-edited' };
    const list = `${prefix}{default}:s:hand-edited:items`;
    try {
      await store.append(key, [message('one'), message('two', 'assistant'), message('three')], {
        expectedVersion: 0,
      });
      // Valid JSON, but no longer an item: the message lost its content.
      const { content: _lost, ...withoutContent } = message('two', 'assistant') as { content: unknown };
      await client.lset(list, 1, JSON.stringify(withoutContent));
      const error = await rejection(store.load(key));
      expect(error).toBeInstanceOf(CloudhopError);
      expect(error.code).toBe('transcript_invalid');
      expect(error.path).toBe('items.1.content');
      expect(error.message).toContain('session "hand-edited"');
      expect(error.message).toContain('position 1');
      expect(error.message).toContain(`index 1 of the list ${list}`);
      // A window past the bad row still reads.
      expect((await store.load(key, { fromVersion: 2 }))?.items).toEqual([message('three')]);

      await client.lset(list, 2, '{"type":"message",');
      expect((await rejection(store.load(key, { fromVersion: 2 }))).path).toBe('items.2');
    } finally {
      await store.close();
      await client.quit();
    }
  });

  it('refuses a url it cannot use when it is made, naming the option and never the password', () => {
    for (const url of [
      'redis://:planted-secret@cache host:6379',
      'redis://default:planted-secret@127.0.0.1:99999',
      'redis://default:planted%zzsecret@127.0.0.1:6379',
      'rediss://default:planted-secret@127.0.0.1:6380/sessions',
    ]) {
      let error: CloudhopError | undefined;
      try {
        redisStore({ url });
      } catch (thrown) {
        error = thrown as CloudhopError;
      }
      expect(error?.code).toBe('invalid_config');
      expect(error?.path).toBe('url');
      expect(error?.message).toMatch(/option "url"/);
      expect(JSON.stringify(error)).not.toContain('planted');
      expect(error?.message).not.toContain('planted');
    }
  });

  it('validates its options, naming the bad one', () => {
    expect(() => redisStore({} as never)).toThrow(
      expect.objectContaining({ code: 'invalid_config', message: expect.stringContaining('url') }),
    );
    expect(() => redisStore({ url: 'http://localhost:6379' })).toThrow(/url.*redis:\/\//);
    expect(() => redisStore({ url: REDIS_URL, ttlSeconds: 0 })).toThrow(/ttlSeconds/);
    expect(() => redisStore({ url: REDIS_URL, client: {} as never })).toThrow(/client/);
  });
});
