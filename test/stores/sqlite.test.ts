import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { CloudhopError } from '../../src/core/errors.js';
import type { SummaryItem } from '../../src/core/items.js';
import { type SqliteDatabase, sqliteStore } from '../../src/stores/sqlite.js';
import { runStoreConformance } from '../../src/testing/index.js';
import { message, rejection } from './helpers/store-kit.js';

const summaryOf = (fromVersion: number, toVersion: number): SummaryItem => ({
  type: 'summary',
  id: `summary-${fromVersion}-${toVersion}`,
  text: `What happened in items ${fromVersion} to ${toVersion}.`,
  covers: { fromVersion, toVersion },
  createdAt: '2025-01-01T00:00:00.000Z',
});

/** The tables as schema version 1 (the first release) created them, to test the upgrade from it. */
const SCHEMA_V1 = [
  'CREATE TABLE cloudhop_schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)',
  `CREATE TABLE cloudhop_sessions (
    namespace TEXT NOT NULL,
    session_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    bindings TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (namespace, session_id)
  )`,
  `CREATE TABLE cloudhop_items (
    namespace TEXT NOT NULL,
    session_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    item TEXT NOT NULL,
    PRIMARY KEY (namespace, session_id, seq)
  )`,
  `CREATE TABLE cloudhop_leases (
    namespace TEXT NOT NULL,
    session_id TEXT NOT NULL,
    token TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (namespace, session_id)
  )`,
];

const dir = mkdtempSync(join(tmpdir(), 'cloudhop-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshFile = () => join(dir, `store-${++files}.db`);

const nodeSqliteAvailable = await import('node:sqlite' as string).then(
  () => true,
  () => false,
);
// better-sqlite3 is a native module built for one Node ABI; under another Node it cannot load.
const betterSqliteLoads = (() => {
  try {
    new Database(':memory:').close();
    return true;
  } catch (error) {
    console.warn(
      `Skipping the better-sqlite3 driver tests: it does not load here (${(error as Error).message}).`,
    );
    return false;
  }
})();
if (!nodeSqliteAvailable) {
  console.warn(
    `Skipping the node:sqlite driver tests: Node ${process.versions.node} has no node:sqlite (22.13+ has).`,
  );
}

describe.skipIf(!betterSqliteLoads)('better-sqlite3 driver', () => {
  const betterFile = freshFile();
  runStoreConformance(
    () => sqliteStore({ path: betterFile, driver: 'better-sqlite3' }),
    { describe, it, expect },
    { name: 'sqliteStore (better-sqlite3)' },
  );
});

describe.skipIf(!nodeSqliteAvailable)('node:sqlite driver', () => {
  const nodeFile = freshFile();
  runStoreConformance(
    () => sqliteStore({ path: nodeFile, driver: 'node:sqlite' }),
    { describe, it, expect },
    {
      name: 'sqliteStore (node:sqlite)',
    },
  );

  it('is what "auto" picks on this Node', async () => {
    const path = freshFile();
    const store = sqliteStore({ path });
    await store.append({ namespace: 'default', sessionId: 's' }, [message('x')], { expectedVersion: 0 });
    await store.close();
    const { DatabaseSync } = await import('node:sqlite' as string);
    const db = new DatabaseSync(path);
    expect(db.prepare('SELECT count(*) AS n FROM cloudhop_items').get()).toEqual({ n: 1 });
    db.close();
  });

  it('uses a DatabaseSync it was given and leaves it open on close', async () => {
    const { DatabaseSync } = await import('node:sqlite' as string);
    const db = new DatabaseSync(freshFile());
    const store = sqliteStore({ database: db });
    await store.append({ namespace: 'default', sessionId: 's' }, [message('x')], { expectedVersion: 0 });
    await store.close();
    expect(db.prepare('SELECT version FROM cloudhop_sessions').all()).toEqual([{ version: 1 }]);
    db.close();
  });
});

describe.skipIf(!betterSqliteLoads)('sqliteStore', () => {
  it('keeps sessions across a restart, in a WAL-mode file', async () => {
    const path = freshFile();
    const first = sqliteStore({ path, driver: 'better-sqlite3' });
    await first.append({ namespace: 'default', sessionId: 'durable' }, [message('one')], {
      expectedVersion: 0,
      binding: { runtimeId: 'rt', remote: { responseId: 'resp_1' }, syncedVersion: 1 },
    });
    await first.close();

    const second = sqliteStore({ path });
    const snapshot = await second.load({ namespace: 'default', sessionId: 'durable' });
    expect(snapshot?.items).toEqual([message('one')]);
    expect(snapshot?.bindings).toEqual({
      rt: { runtimeId: 'rt', remote: { responseId: 'resp_1' }, syncedVersion: 1 },
    });
    await second.close();

    const db = new Database(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('uses a database it was given and leaves it open on close', async () => {
    const db = new Database(freshFile());
    const store = sqliteStore({ database: db as unknown as SqliteDatabase });
    await store.append({ namespace: 'default', sessionId: 's' }, [message('x')], { expectedVersion: 0 });
    await store.close();
    expect(db.open).toBe(true);
    expect(db.prepare('SELECT version FROM cloudhop_sessions').all()).toEqual([{ version: 1 }]);
    db.close();
  });

  it('runs its migrations once, however many processes open a new file at the same time', async () => {
    const path = freshFile();
    const run = promisify(execFile);
    const child = join(import.meta.dirname, 'helpers', 'sqlite-child.ts');
    await Promise.all(
      Array.from({ length: 4 }, (_, index) =>
        run(process.execPath, ['--import', 'tsx', child, path, `p${index}`]),
      ),
    );
    const reopened = sqliteStore({ path, driver: 'better-sqlite3' });
    expect((await reopened.list()).ids).toEqual(['p0', 'p1', 'p2', 'p3']);
    await reopened.close();
    const db = new Database(path);
    expect(db.prepare('SELECT version FROM cloudhop_schema_migrations').all()).toEqual([
      { version: 1 },
      { version: 2 },
    ]);
    db.close();
  });

  it('upgrades a database made by schema version 1 in place: its sessions load, window, and take summaries', async () => {
    const path = freshFile();
    const db = new Database(path);
    for (const sql of SCHEMA_V1) db.exec(sql);
    db.prepare(
      'INSERT INTO cloudhop_schema_migrations (version, description, applied_at) VALUES (?, ?, ?)',
    ).run(1, 'sessions, items, leases', '2025-01-01T00:00:00.000Z');
    const old = [message('one'), message('two', 'assistant'), message('three')];
    const binding = { runtimeId: 'rt', remote: { responseId: 'resp_1' }, syncedVersion: 3 };
    db.prepare(
      'INSERT INTO cloudhop_sessions (namespace, session_id, version, bindings, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(
      'default',
      'old',
      3,
      JSON.stringify({ rt: binding }),
      '2025-01-01T00:00:00.000Z',
      '2025-01-01T00:00:00.000Z',
    );
    old.forEach((item, index) => {
      db.prepare('INSERT INTO cloudhop_items (namespace, session_id, seq, item) VALUES (?, ?, ?, ?)').run(
        'default',
        'old',
        index + 1,
        JSON.stringify(item),
      );
    });
    db.close();

    const store = sqliteStore({ path, driver: 'better-sqlite3' });
    const key = { namespace: 'default', sessionId: 'old' };
    const full = await store.load(key);
    expect(full).toMatchObject({ items: old, version: 3, bindings: { rt: binding }, fromVersion: 0 });
    expect(full?.summary).toBeUndefined();
    expect(await store.load(key, { fromVersion: 1, limit: 1 })).toMatchObject({
      items: [old[1]],
      version: 3,
      fromVersion: 1,
    });
    const summary = summaryOf(0, 3);
    expect(await store.append(key, [summary, message('four')], { expectedVersion: 3 })).toBe(5);
    expect(await store.load(key, { fromVersion: 4 })).toMatchObject({
      items: [message('four')],
      version: 5,
      fromVersion: 4,
      summary,
    });
    await store.close();

    const upgraded = new Database(path);
    expect(upgraded.prepare('SELECT version FROM cloudhop_schema_migrations ORDER BY version').all()).toEqual(
      [{ version: 1 }, { version: 2 }],
    );
    upgraded.close();
    // Opened again, nothing is left to migrate and the summary is still found.
    const reopened = sqliteStore({ path, driver: 'better-sqlite3' });
    expect((await reopened.load(key, { limit: 0 }))?.summary).toEqual(summary);
    await reopened.close();
  });

  it('reports store_unavailable when the file cannot be opened, and keeps trying on later calls', async () => {
    const store = sqliteStore({ path: join(dir, 'no-such-dir', 'x.db'), driver: 'better-sqlite3' });
    const key = { namespace: 'default', sessionId: 's' };
    const error = await rejection(store.load(key));
    expect(error).toBeInstanceOf(CloudhopError);
    expect(error.code).toBe('store_unavailable');
    expect(error.cause).toBeDefined();
    expect((await rejection(store.append(key, [], { expectedVersion: 0 }))).code).toBe('store_unavailable');
    await store.close();
  });

  it.skipIf(nodeSqliteAvailable)(
    'asking for node:sqlite on a Node without it is invalid_config naming the fix',
    async () => {
      const store = sqliteStore({ path: freshFile(), driver: 'node:sqlite' });
      const error = await rejection(store.load({ namespace: 'default', sessionId: 's' }));
      expect(error.code).toBe('invalid_config');
      expect(error.message).toContain('better-sqlite3');
    },
  );

  it('validates its options, naming the bad one', () => {
    expect(() => sqliteStore({} as never)).toThrow(expect.objectContaining({ code: 'invalid_config' }));
    expect(() => sqliteStore({} as never)).toThrow(/path/);
    expect(() => sqliteStore({ path: 'x.db', driver: 'sqlite3' as never })).toThrow(/driver/);
    expect(() => sqliteStore({ database: {} as never })).toThrow(/database/);
    expect(() => sqliteStore({ path: 'x.db', database: new Database(':memory:') as never })).toThrow(
      /exactly one/,
    );
  });
});
