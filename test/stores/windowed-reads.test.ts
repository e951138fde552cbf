// A window of a long session costs the same as a window of a short one: these tests check how each
// store reads it (the query plan, the commands sent, the text parsed), never how long it takes.
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { Item } from '../../src/core/items.js';
import type { SessionKey, SessionStore } from '../../src/core/store.js';
import { memoryStore } from '../../src/stores/memory.js';
import { postgresStore } from '../../src/stores/postgres.js';
import { redisStore } from '../../src/stores/redis.js';
import { type SqliteDatabase, type SqliteStatement, sqliteStore } from '../../src/stores/sqlite.js';
import {
  DATABASE_URL,
  deleteRedisKeys,
  dropSchema,
  postgresAvailable,
  REDIS_URL,
  redisAvailable,
  runTag,
} from './helpers/services.js';

const SESSION_ITEMS = 10_000;
const key: SessionKey = { namespace: 'windows', sessionId: 'long' };

const itemAt = (position: number): Item => ({
  type: 'message',
  id: `m-${position}`,
  role: position % 2 === 0 ? 'user' : 'assistant',
  content: [{ type: 'text', text: `item number ${position} of a long session` }],
  createdAt: '2025-01-01T00:00:00.000Z',
});
const allItems = Array.from({ length: SESSION_ITEMS }, (_, position) => itemAt(position));
const summary: Item = {
  type: 'summary',
  id: 'summary-of-all',
  text: 'Everything so far.',
  covers: { fromVersion: 0, toVersion: SESSION_ITEMS },
  createdAt: '2025-01-01T00:00:00.000Z',
};
const allItemsThenSummary = [...allItems, summary];

async function writeLongSession(store: SessionStore, batch: number): Promise<void> {
  for (let version = 0; version < SESSION_ITEMS; version += batch) {
    await store.append(key, allItems.slice(version, version + batch), { expectedVersion: version });
  }
}

/** The windows every store is asked for: the tail, a slice in the middle, the head alone. */
const WINDOWS = [
  { fromVersion: SESSION_ITEMS - 10 },
  { fromVersion: 5_000, limit: 5 },
  { fromVersion: SESSION_ITEMS, limit: 0 },
];

/** A long session whose last item is a summary, so a window also reads the summary. */
async function writeLongSessionThenSummary(store: SessionStore, batch: number): Promise<void> {
  await writeLongSession(store, batch);
  await store.append(key, [summary], { expectedVersion: SESSION_ITEMS });
}

/** The windows of a session whose last item is a summary: each names it, none reads the rest. */
async function expectWindowsWithSummary(store: SessionStore): Promise<void> {
  for (const window of [{ fromVersion: SESSION_ITEMS - 10 }, { fromVersion: 5_000, limit: 5 }]) {
    const snapshot = await store.load(key, window);
    const end = window.limit === undefined ? undefined : window.fromVersion + window.limit;
    expect(snapshot?.items).toEqual(allItemsThenSummary.slice(window.fromVersion, end));
    expect(snapshot?.version).toBe(SESSION_ITEMS + 1);
    expect(snapshot?.summary).toEqual(summary);
  }
}

async function expectWindows(store: SessionStore): Promise<void> {
  for (const window of WINDOWS) {
    const snapshot = await store.load(key, window);
    const end = window.limit === undefined ? undefined : window.fromVersion + window.limit;
    expect(snapshot?.version).toBe(SESSION_ITEMS);
    expect(snapshot?.fromVersion).toBe(window.fromVersion);
    expect(snapshot?.items).toEqual(allItems.slice(window.fromVersion, end));
  }
}

describe('memoryStore', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const totalText = JSON.stringify(allItems).length;

  /** The characters load() hands to JSON.parse: a full read would parse the whole session. */
  async function charactersParsed(store: SessionStore, window: { fromVersion: number }): Promise<number> {
    const parse = vi.spyOn(JSON, 'parse');
    try {
      await store.load(key, window);
      return parse.mock.calls.reduce((sum, [text]) => sum + String(text).length, 0);
    } finally {
      parse.mockRestore();
    }
  }

  it.each([
    ['one append per item', 1],
    ['one append of the whole session (an import)', SESSION_ITEMS],
  ])('a window of a %s parses only the chunks it needs', async (_name, batch) => {
    const store = memoryStore();
    await writeLongSession(store, batch);
    await expectWindows(store);
    expect((await charactersParsed(store, { fromVersion: SESSION_ITEMS - 10 })) < totalText / 50).toBe(true);
    expect((await charactersParsed(store, { fromVersion: 0 })) >= totalText).toBe(true);
    await store.close();
  });
});

const betterSqliteLoads = (() => {
  try {
    new Database(':memory:').close();
    return true;
  } catch (error) {
    console.warn(
      `Skipping the SQLite window test: better-sqlite3 does not load here (${(error as Error).message}).`,
    );
    return false;
  }
})();

describe.skipIf(!betterSqliteLoads)('sqliteStore', () => {
  it('reads a window of a 10,000-item session by a primary-key range, never a scan', async () => {
    const db = new Database(':memory:');
    const executed: Array<{ sql: string; params: unknown[] }> = [];
    // The store's own statements, recorded as it runs them, so their plans can be checked.
    const recording: SqliteDatabase = {
      exec: (sql) => db.exec(sql),
      prepare: (sql) => {
        const statement = db.prepare(sql);
        const record =
          <T>(run: (...params: unknown[]) => T) =>
          (...params: unknown[]) => {
            executed.push({ sql, params });
            return run(...params);
          };
        return {
          run: record((...params) => statement.run(...params)),
          get: record((...params) => statement.get(...params)),
          all: record((...params) => statement.all(...params)),
        } as SqliteStatement;
      },
      close: () => db.close(),
    };
    const store = sqliteStore({ database: recording });
    await writeLongSessionThenSummary(store, 250);
    try {
      executed.length = 0;
      await expectWindowsWithSummary(store);
      const reads = executed.filter(({ sql }) => /\bFROM cloudhop_items\b/.test(sql));
      expect(reads.length > 0).toBe(true);
      for (const { sql, params } of reads) {
        const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>;
        const details = plan.map((step) => step.detail);
        expect(details.some((detail) => /^SCAN\b/.test(detail))).toBe(false);
        // The seek includes seq: the primary-key range, not every row of the session.
        expect(details).toContainEqual(
          expect.stringMatching(
            /^SEARCH cloudhop_items USING (PRIMARY KEY|INDEX sqlite_autoindex_cloudhop_items_1) \(namespace=\? AND session_id=\? AND seq[>=]\?\)/,
          ),
        );
      }
    } finally {
      await store.close();
      db.close();
    }
  });
});

const postgresUp = await postgresAvailable();

describe.skipIf(!postgresUp)('postgresStore', () => {
  const schema = `cloudhop_windows_${runTag()}`;
  afterAll(async () => {
    await dropSchema(schema);
  });

  it('reads a window of a 10,000-item session through the items primary key, never a sequential scan', async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL });
    const executed: Array<{ sql: string; params: unknown[] }> = [];
    const query = pool.query.bind(pool) as (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;
    pool.query = ((sql: string, params?: unknown[]) => {
      executed.push({ sql, params: params ?? [] });
      return query(sql, params);
    }) as typeof pool.query;
    const store = postgresStore({ pool, schema });
    try {
      await writeLongSessionThenSummary(store, 250);
      // Planner statistics as a running database has them (autovacuum analyzes a table this size).
      await query(`ANALYZE "${schema}".cloudhop_items`);
      executed.length = 0;
      await expectWindowsWithSummary(store);
      const reads = executed.filter(({ sql }) => sql.includes('cloudhop_items'));
      expect(reads.length > 0).toBe(true);
      for (const { sql, params } of reads) {
        const [{ 'QUERY PLAN': plan }] = (await query(`EXPLAIN (FORMAT JSON) ${sql}`, params)).rows as Array<{
          'QUERY PLAN': Array<{ Plan: PlanNode }>;
        }>;
        const itemScans = nodesOf(plan[0]!.Plan).filter((node) => node['Relation Name'] === 'cloudhop_items');
        expect(itemScans.length > 0).toBe(true);
        for (const scan of itemScans) {
          expect(scan['Node Type']).toMatch(/^Index (Only )?Scan$/);
          expect(scan['Index Name']).toBe('cloudhop_items_pkey');
          // The seek includes seq: the primary-key range, not every row of the session.
          expect(scan['Index Cond']).toMatch(/\(seq [>=] /);
        }
      }
    } finally {
      await store.close();
      await pool.end();
    }
  });
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

function nodesOf(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(nodesOf)];
}

const redisUp = await redisAvailable();

describe.skipIf(!redisUp)('redisStore', () => {
  const keyPrefix = `cloudhop-windows-${runTag()}:`;
  afterAll(async () => {
    await deleteRedisKeys(keyPrefix);
  });

  it('reads a window of a 10,000-item session with LRANGE over the window only', async () => {
    const store = redisStore({ url: REDIS_URL, keyPrefix });
    const watcher = new Redis(REDIS_URL);
    const signaller = new Redis(REDIS_URL);
    // Every connection's ready check (INFO) is done before MONITOR starts: ioredis fails with a
    // "Command queue state error" when one is reported while the monitor connection is set up.
    await Promise.all([
      watcher.ping(),
      signaller.ping(),
      store.load({ namespace: 'default', sessionId: 'warm-up' }),
    ]);
    const monitor = await watcher.monitor();
    const itemsKey = `${keyPrefix}{windows}:s:long:items`;
    const marker = `${keyPrefix}marker`;
    const seen: string[][] = [];
    let markerSeen: (() => void) | undefined;
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[1] === marker) markerSeen?.();
      else if (args.includes(itemsKey)) seen.push(args);
    });
    // MONITOR reports commands in the order the server ran them, a little later: once a marker
    // sent after them is reported, so is every command before it.
    const reported = async () => {
      const arrived = new Promise<void>((resolve) => {
        markerSeen = resolve;
      });
      await signaller.exists(marker);
      await arrived;
    };
    try {
      await writeLongSession(store, 250);
      await reported();
      seen.length = 0;
      await expectWindows(store);
      await reported();
      expect(seen.map(([command, ...args]) => [command?.toLowerCase(), ...args])).toEqual([
        ['lrange', itemsKey, String(SESSION_ITEMS - 10), '-1'],
        ['lrange', itemsKey, '5000', '5004'],
      ]);
    } finally {
      monitor.disconnect();
      watcher.disconnect();
      signaller.disconnect();
      await store.close();
    }
  });
});
