import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { CloudhopError } from '../../src/core/errors.js';
import { type SqliteDatabase, sqliteStore } from '../../src/stores/sqlite.js';
import { runStoreConformance } from '../../src/testing/index.js';
import { message, rejection } from './helpers/store-kit.js';

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
    expect(db.prepare('SELECT version FROM cloudhop_schema_migrations').all()).toEqual([{ version: 1 }]);
    db.close();
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
