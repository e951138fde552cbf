import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { CloudhopError } from '../../src/core/errors.js';
import type { SummaryItem } from '../../src/core/items.js';
import { createAgent } from '../../src/index.js';
import { type SqliteDatabase, sqliteStore } from '../../src/stores/sqlite.js';
import { runStoreConformance, scriptedRuntime } from '../../src/testing/index.js';
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

/** Another process holding the file's write lock until `release()`. */
async function holdWriteLock(path: string): Promise<{ release(): Promise<void> }> {
  const holder = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'helpers', 'sqlite-write-lock.ts'), path],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => holder.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    holder.stdout.once('data', () => resolve());
    void exited.then(() => reject(new Error('the lock holder exited before taking the lock')));
  });
  return {
    release: () => {
      holder.stdin.end();
      return exited;
    },
  };
}

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

/**
 * Another process holds the file's write lock (better-sqlite3's and node:sqlite's own busy wait
 * would block this whole process): the store waits with the event loop free, and honours a signal.
 */
function lockedFileCases(driver: 'better-sqlite3' | 'node:sqlite'): void {
  it('waits for another process’s write lock without blocking the event loop, and writes once it is free', async () => {
    const path = freshFile();
    const store = sqliteStore({ path, driver });
    const key = { namespace: 'default', sessionId: 'waits' };
    await store.list(); // the file and its tables exist before the other process locks it
    const holder = await holdWriteLock(path);
    // A timer of this process keeps ticking while the store waits; its fifth tick frees the file.
    let ticks = 0;
    const timer = setInterval(() => {
      if (++ticks === 5) void holder.release();
    }, 10);
    try {
      expect(await store.append(key, [message('waited')], { expectedVersion: 0 })).toBe(1);
    } finally {
      clearInterval(timer);
      await holder.release();
    }
    expect(ticks).toBeGreaterThanOrEqual(5);
    expect((await store.load(key))?.items).toEqual([message('waited')]);
    await store.close();
  });

  it('stops waiting for a locked file once the signal fires, and writes nothing', async () => {
    const path = freshFile();
    const store = sqliteStore({ path, driver });
    const key = { namespace: 'default', sessionId: 'gives-up' };
    await store.list();
    const holder = await holdWriteLock(path);
    const waits: Array<(signal: AbortSignal) => Promise<unknown>> = [
      (signal) => store.append(key, [message('never')], { expectedVersion: 0, signal }),
      (signal) => store.lock(key, 60_000, { signal }),
    ];
    try {
      for (const wait of waits) {
        // The timer's fifth tick aborts: it can only tick while the store leaves the event loop free.
        const controller = new AbortController();
        let ticks = 0;
        const timer = setInterval(() => {
          if (++ticks === 5) controller.abort();
        }, 10);
        const error = await rejection(wait(controller.signal));
        clearInterval(timer);
        expect(error.code).toBe('aborted');
        expect(ticks).toBeGreaterThanOrEqual(5);
      }
    } finally {
      await holder.release();
    }
    expect(await store.load(key)).toBeUndefined();
    const lease = await store.lock(key, 60_000, { waitMs: 0 });
    expect(await store.append(key, [message('after')], { expectedVersion: 0, lease })).toBe(1);
    await lease.release();
    await store.close();
  });
}

describe.skipIf(!betterSqliteLoads)('better-sqlite3 driver', () => {
  const betterFile = freshFile();
  runStoreConformance(
    () => sqliteStore({ path: betterFile, driver: 'better-sqlite3' }),
    { describe, it, expect },
    { name: 'sqliteStore (better-sqlite3)' },
  );
  lockedFileCases('better-sqlite3');
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

  lockedFileCases('node:sqlite');

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

  it('reports a row changed outside cloudhop as transcript_invalid; turns work again once the row is mended', async () => {
    const path = freshFile();
    const store = sqliteStore({ path, driver: 'better-sqlite3' });
    const agent = createAgent({ runtime: scriptedRuntime(['Hello, Ada.', 'Still here.']), store });
    await agent.run('my name is Ada', { session: 'hand-edited' });

    // Valid JSON, but no longer an item: the answer lost its content.
    const db = new Database(path);
    const row = db.prepare("SELECT item FROM cloudhop_items WHERE session_id = 'hand-edited' AND seq = 2");
    const answer = (row.get() as { item: string }).item;
    const { content: _lost, ...withoutContent } = JSON.parse(answer);
    const update = db.prepare(
      "UPDATE cloudhop_items SET item = ? WHERE session_id = 'hand-edited' AND seq = 2",
    );
    update.run(JSON.stringify(withoutContent));

    for (const attempt of [1, 2]) {
      const error = await rejection(agent.run(`What is my name? (${attempt})`, { session: 'hand-edited' }));
      expect(error.code).toBe('transcript_invalid');
      expect(error.path).toBe('items.1.content');
      expect(error.message).toContain('session "hand-edited"');
      expect(error.message).toContain('position 1');
      expect(error.message).toContain('seq = 2');
    }

    update.run(answer);
    db.close();
    const mended = await agent.run('What is my name?', { session: 'hand-edited' });
    expect(mended.text).toBe('Still here.');
    expect(mended.sessionVersion).toBe(4);
    await agent.close();
    await store.close();
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
