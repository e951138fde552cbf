// A lease whose release fails while the store is briefly unreachable is released once the store is
// back, not held until lockTtlMs runs out: the session is usable again at once.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Lease, SessionStore } from '../../src/core/store.js';
import { createAgent } from '../../src/index.js';
import { postgresStore } from '../../src/stores/postgres.js';
import { redisStore } from '../../src/stores/redis.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { scriptedRuntime } from '../../src/testing/index.js';
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

const dir = mkdtempSync(join(tmpdir(), 'cloudhop-release-'));
const tag = runTag();
const redisUp = await redisAvailable();
const postgresUp = await postgresAvailable();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Far longer than any test here: a session freed within one was freed by a release, not by expiry. */
const LOCK_TTL_MS = 120_000;
/** How long the second process waits for the session: well within LOCK_TTL_MS. */
const CONTENDER_WAIT_MS = 15_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Wraps a store so that each lease it hands out releases through `release` instead. */
function withRelease(inner: SessionStore, release: (lease: Lease) => Promise<void>): SessionStore {
  return Object.assign(Object.create(inner) as SessionStore, {
    async lock(...args: Parameters<SessionStore['lock']>) {
      const lease = await inner.lock(...args);
      return Object.assign(Object.create(lease) as Lease, { release: () => release(lease) });
    },
  });
}

/**
 * Runs a turn through `proxy` whose lease release finds the store cut off (the proxy goes down as
 * the release starts and comes back a moment later), then shows that another process gets the
 * session well within lockTtlMs.
 */
async function releaseDuringOutage(
  proxy: TcpProxy,
  proxied: SessionStore,
  direct: SessionStore,
): Promise<void> {
  let releases = 0;
  const store = withRelease(proxied, async (lease) => {
    releases += 1;
    if (releases === 1) {
      await proxy.down();
      setTimeout(() => void proxy.up(), 300);
    }
    return lease.release();
  });
  const agent = createAgent({ runtime: scriptedRuntime(['first']), store, lockTtlMs: LOCK_TTL_MS });
  const contender = createAgent({
    runtime: scriptedRuntime(['second']),
    store: direct,
    lockTtlMs: LOCK_TTL_MS,
    lockWaitMs: CONTENDER_WAIT_MS,
  });
  try {
    expect((await agent.run('Hello', { session: 'outage' })).text).toBe('first');

    const result = await contender.run('Anyone there?', { session: 'outage' });

    expect(result.text).toBe('second');
    expect(result.sessionVersion).toBe(4);
    expect(releases).toBeGreaterThan(1);
  } finally {
    await agent.close();
    await contender.close();
  }
}

describe('a lease release that fails during a store outage is retried once the store is back', () => {
  it.skipIf(!redisUp)(
    'redis',
    async () => {
      const keyPrefix = `cloudhop-release-${tag}:`;
      const target = new URL(REDIS_URL);
      const proxy = await startTcpProxy(target.hostname, Number(target.port || 6379));
      try {
        await releaseDuringOutage(
          proxy,
          redisStore({ url: `redis://127.0.0.1:${proxy.port}`, keyPrefix }),
          redisStore({ url: REDIS_URL, keyPrefix }),
        );
      } finally {
        await proxy.close();
        await deleteRedisKeys(keyPrefix);
      }
    },
    30_000,
  );

  it.skipIf(!postgresUp)(
    'postgres',
    async () => {
      const schema = `cloudhop_release_${tag}`;
      const target = new URL(DATABASE_URL);
      const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
      const proxiedUrl = new URL(DATABASE_URL);
      proxiedUrl.port = String(proxy.port);
      try {
        await releaseDuringOutage(
          proxy,
          postgresStore({ connectionString: proxiedUrl.toString(), schema }),
          postgresStore({ connectionString: DATABASE_URL, schema }),
        );
      } finally {
        await proxy.close();
        await dropSchema(schema);
      }
    },
    30_000,
  );

  it('sqlite: a release that fails twice is retried until it succeeds', async () => {
    const path = join(dir, 'flaky-release.db');
    let releases = 0;
    const store = withRelease(sqliteStore({ path }), async (lease) => {
      releases += 1;
      if (releases <= 2) throw new Error('database is locked');
      return lease.release();
    });
    const agent = createAgent({ runtime: scriptedRuntime(['first']), store, lockTtlMs: LOCK_TTL_MS });
    const other = sqliteStore({ path });
    try {
      await agent.run('Hello', { session: 'flaky' });
      const lease = await other.lock({ namespace: 'default', sessionId: 'flaky' }, LOCK_TTL_MS, {
        waitMs: CONTENDER_WAIT_MS,
      });
      await lease.release();
      expect(releases).toBe(3);
    } finally {
      await agent.close();
      await other.close();
    }
  }, 30_000);

  it('closing the agent stops the retries of a release that keeps failing', async () => {
    let releases = 0;
    const store = withRelease(sqliteStore({ path: join(dir, 'closed.db') }), async () => {
      releases += 1;
      throw new Error('connection refused');
    });
    const agent = createAgent({ runtime: scriptedRuntime(['first']), store, lockTtlMs: LOCK_TTL_MS });
    await agent.run('Hello', { session: 'closed' });
    while (releases < 3) await sleep(20);

    await agent.close();
    const afterClose = releases;
    await sleep(1_500);

    expect(releases).toBe(afterClose);
  }, 30_000);

  it('a process whose last release keeps failing still exits by itself', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'helpers', 'release-child.ts'), join(dir, 'exits.db')],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));

    expect(code).toBe(0);
    expect(output).toContain('RELEASE_FAILED');
    expect(output).toContain('done');
  }, 30_000);
});
