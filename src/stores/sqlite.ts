import * as z from 'zod/v4';
import { CloudhopError, storeUnavailable } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { objectWithMethods, parseOptions } from '../core/options.js';
import {
  type AppendOptions,
  type Binding,
  DEFAULT_LOCK_WAIT_MS,
  type Lease,
  type ListOptions,
  type ListResult,
  type SessionKey,
  type SessionSnapshot,
  type SessionStore,
} from '../core/store.js';
import { defineMigrations, MIGRATIONS_TABLE, type Migration, pendingMigrations } from './sql-migrations.js';
import {
  assertLeaseTtl,
  assertLeaseWait,
  leaseConflict,
  throwIfAborted,
  versionConflict,
} from './store-errors.js';
import {
  bindingsToWrite,
  delay,
  exactlyOneOf,
  lastSummaryIndex,
  onceUntilSuccess,
  pageOf,
  parseListOptions,
  parseLoadOptions,
  parseStoredItem,
  parseStoredSummary,
  pause,
  waitForLease,
} from './store-kit.js';

type SqlValue = string | number | null;

/** What cloudhop uses of a synchronous SQLite handle: better-sqlite3's `Database` and node:sqlite's `DatabaseSync` both fit. */
export interface SqliteDatabase {
  exec(sql: string): unknown;
  prepare(sql: string): SqliteStatement;
  close(): unknown;
}

export interface SqliteStatement {
  run(...params: SqlValue[]): unknown;
  get(...params: SqlValue[]): unknown;
  all(...params: SqlValue[]): unknown[];
}

export type SqliteDriver = 'auto' | 'better-sqlite3' | 'node:sqlite';

export interface SqliteStoreOptions {
  /** A database file (created when missing), or ':memory:'. The store opens it, and closes it on close(). */
  path?: string;
  /** An already-open better-sqlite3 `Database` or node:sqlite `DatabaseSync` that you own and close yourself. */
  database?: SqliteDatabase;
  /** With `path`: which driver opens the file. 'auto' (default) uses node:sqlite where Node has it (22.13+), else better-sqlite3. */
  driver?: SqliteDriver;
}

const optionsSchema = exactlyOneOf(
  z
    .object({
      path: z.string().min(1, 'must be a file path or ":memory:"').optional(),
      database: objectWithMethods<SqliteDatabase>(
        ['prepare', 'exec'],
        'must be an open better-sqlite3 Database or node:sqlite DatabaseSync',
      ).optional(),
      driver: z.enum(['auto', 'better-sqlite3', 'node:sqlite']).optional(),
    })
    .strict(),
  'path',
  'database',
  'give exactly one of `path` (a file the store opens) or `database` (a handle you opened)',
);

/**
 * SQLite's own wait for another connection's lock (busy_timeout) blocks the whole process, every
 * session and timer with it; it is kept this short on files the store opens, and longer waits
 * happen between attempts, asynchronously.
 */
const BLOCKING_BUSY_TIMEOUT_MS = 5;
/** How long a call waits, in all, for another process's write transaction before giving up with store_unavailable. */
const BUSY_WAIT_MS = 10_000;
/** The longest pause between two attempts on a locked file. */
const BUSY_POLL_MAX_MS = 50;

/** Whether SQLite refused because another connection holds a lock (SQLITE_BUSY and its extended codes). */
function isBusy(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code, errcode } = error as { code?: unknown; errcode?: unknown };
  // better-sqlite3 names the code (SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT, …); node:sqlite gives the
  // number, whose low byte is the primary code (5).
  if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) return true;
  if (typeof errcode === 'number') return (errcode & 0xff) === 5;
  return /database is locked/i.test(error.message);
}

const MIGRATIONS: readonly Migration[] = defineMigrations([
  {
    version: 1,
    description: 'sessions, items, leases',
    statements: [
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
    ],
  },
  {
    version: 2,
    description: 'the latest summary item of each session',
    // The seq of the session's latest summary item (NULL: none), so a load finds it by primary key.
    statements: ['ALTER TABLE cloudhop_sessions ADD COLUMN summary_seq INTEGER'],
  },
]);

/**
 * A durable store in one SQLite file: the embedded default. One row per item, ordered by `seq`;
 * an append is one IMMEDIATE transaction, so processes sharing the file never interleave writes.
 */
export function sqliteStore(options: SqliteStoreOptions): SessionStore {
  const config = parseOptions(optionsSchema, options, 'sqliteStore');
  const ownsDatabase = config.database === undefined;
  let closed = false;
  let opened: SqliteDatabase | undefined;
  const statements = new Map<string, SqliteStatement>();

  const connect = onceUntilSuccess(async () => {
    const db = config.database ?? (await openDatabase(config.path!, config.driver ?? 'auto'));
    try {
      migrate(db);
    } catch (error) {
      if (ownsDatabase) db.close();
      throw error;
    }
    opened = db;
    return db;
  });

  /**
   * Runs `work` against the open database, mapping anything the driver throws to store_unavailable.
   * While another process holds the file's lock, `work` (a transaction that wrote nothing) is tried
   * again after a pause, for up to BUSY_WAIT_MS, unless `signal` fires first.
   */
  async function withDatabase<T>(
    what: string,
    work: (db: SqliteDatabase) => T,
    signal?: AbortSignal,
  ): Promise<T> {
    const deadline = Date.now() + BUSY_WAIT_MS;
    for (let attempt = 0; ; attempt++) {
      if (closed)
        throw new CloudhopError('store_unavailable', 'This sqliteStore was closed; create a new one.');
      throwIfAborted(signal, what);
      try {
        return work(await connect());
      } catch (error) {
        if (!isBusy(error)) throw storeUnavailable(error, what);
        if (Date.now() >= deadline) {
          throw storeUnavailable(
            new Error(`another connection held the SQLite file locked for ${BUSY_WAIT_MS} ms`, {
              cause: error,
            }),
            what,
          );
        }
      }
      // Full jitter, so processes that met at a lock do not meet again at the next attempt.
      await pause(Math.max(1, Math.random() * Math.min(BUSY_POLL_MAX_MS, 2 ** attempt)), signal, what);
    }
  }

  /** Where a stored item is, for the error that names a row changed outside cloudhop. */
  const itemRow = (key: SessionKey, position: number) => ({
    position,
    row: `the row of cloudhop_items with namespace = '${key.namespace}', session_id = '${key.sessionId}' and seq = ${position + 1}`,
  });

  function statement(db: SqliteDatabase, sql: string): SqliteStatement {
    let prepared = statements.get(sql);
    if (!prepared) {
      prepared = db.prepare(sql);
      statements.set(sql, prepared);
    }
    return prepared;
  }

  /** BEGIN IMMEDIATE takes the write lock up front, so a read-check-write never races another process. */
  function transaction<T>(db: SqliteDatabase, mode: 'IMMEDIATE' | 'DEFERRED', work: () => T): T {
    db.exec(`BEGIN ${mode}`);
    try {
      const result = work();
      db.exec('COMMIT');
      return result;
    } catch (error) {
      try {
        db.exec('ROLLBACK');
      } catch {
        // The transaction is already gone (SQLite rolls back by itself after some errors).
      }
      throw error;
    }
  }

  function leaseHolds(db: SqliteDatabase, key: SessionKey, token: string): boolean {
    const row = statement(
      db,
      'SELECT expires_at FROM cloudhop_leases WHERE namespace = ? AND session_id = ? AND token = ?',
    ).get(key.namespace, key.sessionId, token) as { expires_at: number } | undefined;
    return row !== undefined && Number(row.expires_at) > Date.now();
  }

  /** Takes the lease when it is free or expired; returns whether it did. */
  function tryLock(db: SqliteDatabase, key: SessionKey, token: string, ttlMs: number): boolean {
    return transaction(db, 'IMMEDIATE', () => {
      const now = Date.now();
      const held = statement(
        db,
        'SELECT expires_at FROM cloudhop_leases WHERE namespace = ? AND session_id = ?',
      ).get(key.namespace, key.sessionId) as { expires_at: number } | undefined;
      if (held && Number(held.expires_at) > now) return false;
      statement(
        db,
        `INSERT INTO cloudhop_leases (namespace, session_id, token, expires_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (namespace, session_id) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at`,
      ).run(key.namespace, key.sessionId, token, now + ttlMs);
      return true;
    });
  }

  return {
    appendsBindings: true,
    async load(key, loadOptions) {
      const { fromVersion, limit } = parseLoadOptions(loadOptions);
      return withDatabase(
        'loading a session',
        (db) =>
          transaction(db, 'DEFERRED', (): SessionSnapshot | undefined => {
            const session = statement(
              db,
              'SELECT version, bindings, created_at, updated_at, summary_seq FROM cloudhop_sessions WHERE namespace = ? AND session_id = ?',
            ).get(key.namespace, key.sessionId) as
              | {
                  version: number;
                  bindings: string;
                  created_at: string;
                  updated_at: string;
                  summary_seq: number | null;
                }
              | undefined;
            if (!session) return undefined;
            const version = Number(session.version);
            const from = Math.min(fromVersion, version);
            // seq is position + 1, so the window is a primary-key range; SQLite reads LIMIT -1 as no limit.
            const rows =
              limit === 0
                ? []
                : (statement(
                    db,
                    'SELECT item FROM cloudhop_items WHERE namespace = ? AND session_id = ? AND seq > ? ORDER BY seq LIMIT ?',
                  ).all(key.namespace, key.sessionId, from, limit ?? -1) as Array<{ item: string }>);
            const snapshot: SessionSnapshot = {
              items: rows.map((row, index) => parseStoredItem(row.item, key, itemRow(key, from + index))),
              version,
              bindings: JSON.parse(session.bindings) as Record<string, Binding>,
              meta: { createdAt: session.created_at, updatedAt: session.updated_at },
              fromVersion: from,
            };
            if (session.summary_seq !== null) {
              const summary = statement(
                db,
                'SELECT item FROM cloudhop_items WHERE namespace = ? AND session_id = ? AND seq = ?',
              ).get(key.namespace, key.sessionId, session.summary_seq) as { item: string } | undefined;
              snapshot.summary = parseStoredSummary(
                summary?.item ?? 'null',
                key,
                itemRow(key, Number(session.summary_seq) - 1),
              );
            }
            return snapshot;
          }),
        loadOptions?.signal,
      );
    },

    async append(key, items, appendOptions: AppendOptions) {
      const serialized = items.map((item) => JSON.stringify(item));
      const written = bindingsToWrite(appendOptions);
      return withDatabase(
        'appending to a session',
        (db) =>
          transaction(db, 'IMMEDIATE', () => {
            if (appendOptions.lease && !leaseHolds(db, key, appendOptions.lease.token))
              throw leaseConflict(key);
            const session = statement(
              db,
              'SELECT version, bindings FROM cloudhop_sessions WHERE namespace = ? AND session_id = ?',
            ).get(key.namespace, key.sessionId) as { version: number; bindings: string } | undefined;
            const version = session ? Number(session.version) : 0;
            if (version !== appendOptions.expectedVersion) {
              throw versionConflict(key, appendOptions.expectedVersion, version);
            }
            const bindings = session ? (JSON.parse(session.bindings) as Record<string, Binding>) : {};
            for (const binding of written) bindings[binding.runtimeId] = binding;
            const next = version + serialized.length;
            const summaryIndex = lastSummaryIndex(items);
            const summarySeq = summaryIndex < 0 ? null : version + summaryIndex + 1;
            const now = new Date().toISOString();
            if (session) {
              statement(
                db,
                'UPDATE cloudhop_sessions SET version = ?, bindings = ?, updated_at = ?, summary_seq = coalesce(?, summary_seq) WHERE namespace = ? AND session_id = ?',
              ).run(next, JSON.stringify(bindings), now, summarySeq, key.namespace, key.sessionId);
            } else {
              statement(
                db,
                'INSERT INTO cloudhop_sessions (namespace, session_id, version, bindings, created_at, updated_at, summary_seq) VALUES (?, ?, ?, ?, ?, ?, ?)',
              ).run(key.namespace, key.sessionId, next, JSON.stringify(bindings), now, now, summarySeq);
            }
            const insert = statement(
              db,
              'INSERT INTO cloudhop_items (namespace, session_id, seq, item) VALUES (?, ?, ?, ?)',
            );
            serialized.forEach((item, index) => {
              insert.run(key.namespace, key.sessionId, version + index + 1, item);
            });
            return next;
          }),
        appendOptions.signal,
      );
    },

    async lock(key, ttlMs, lockOptions = {}) {
      const waitMs = assertLeaseWait(ttlMs, lockOptions.waitMs ?? DEFAULT_LOCK_WAIT_MS);
      const { signal } = lockOptions;
      const token = newId();
      const lease: Lease = {
        token,
        release: () =>
          withDatabase('releasing a lease', (db) => {
            statement(
              db,
              'DELETE FROM cloudhop_leases WHERE namespace = ? AND session_id = ? AND token = ?',
            ).run(key.namespace, key.sessionId, token);
          }),
        renew: async (renewTtlMs) => {
          assertLeaseTtl(renewTtlMs, 'renew');
          const renewed = await withDatabase('renewing a lease', (db) => {
            const now = Date.now();
            const result = statement(
              db,
              'UPDATE cloudhop_leases SET expires_at = ? WHERE namespace = ? AND session_id = ? AND token = ? AND expires_at > ?',
            ).run(now + renewTtlMs, key.namespace, key.sessionId, token, now) as {
              changes: number | bigint;
            };
            return Number(result.changes) === 1;
          });
          if (!renewed) throw leaseConflict(key);
        },
      };
      return waitForLease(key, waitMs, signal, async () =>
        (await withDatabase('taking a lease', (db) => tryLock(db, key, token, ttlMs), signal))
          ? lease
          : undefined,
      );
    },

    async delete(key) {
      return withDatabase('deleting a session', (db) =>
        transaction(db, 'IMMEDIATE', () => {
          for (const table of ['cloudhop_items', 'cloudhop_sessions', 'cloudhop_leases']) {
            statement(db, `DELETE FROM ${table} WHERE namespace = ? AND session_id = ?`).run(
              key.namespace,
              key.sessionId,
            );
          }
        }),
      );
    },

    async list(listOptions: ListOptions = {}) {
      const { namespace, limit, cursor } = parseListOptions(listOptions);
      return withDatabase('listing sessions', (db): ListResult => {
        const rows = statement(
          db,
          'SELECT session_id FROM cloudhop_sessions WHERE namespace = ? AND session_id > ? ORDER BY session_id LIMIT ?',
        ).all(namespace, cursor, limit + 1) as Array<{ session_id: string }>;
        return pageOf(
          rows.map((row) => row.session_id),
          limit,
        );
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      statements.clear();
      if (ownsDatabase && opened) {
        try {
          opened.close();
        } catch (error) {
          throw storeUnavailable(error, 'closing the database');
        }
      }
    },
  };
}

/** Applies pending migrations under SQLite's write lock, so processes opening the file at once agree. */
function migrate(db: SqliteDatabase): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)`,
    );
    const applied = (
      db.prepare(`SELECT version FROM ${MIGRATIONS_TABLE}`).all() as Array<{ version: number }>
    ).map((row) => Number(row.version));
    const record = db.prepare(
      `INSERT INTO ${MIGRATIONS_TABLE} (version, description, applied_at) VALUES (?, ?, ?)`,
    );
    for (const migration of pendingMigrations(MIGRATIONS, applied)) {
      for (const sql of migration.statements) db.exec(sql);
      record.run(migration.version, migration.description, new Date().toISOString());
    }
    db.exec('COMMIT');
  } catch (error) {
    try {
      db.exec('ROLLBACK');
    } catch {
      // Nothing left to roll back.
    }
    throw error;
  }
}

/** Imported through a variable so that type-checking on Node versions without node:sqlite still works. */
const NODE_SQLITE = 'node:sqlite';

async function openDatabase(path: string, driver: SqliteDriver): Promise<SqliteDatabase> {
  const db = await openWith(path, driver);
  try {
    db.exec(`PRAGMA busy_timeout = ${BLOCKING_BUSY_TIMEOUT_MS}`);
    await switchToWal(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/**
 * Switching a new file to WAL needs it to itself for a moment. When several processes open the
 * same new file at once, SQLite can refuse the switch at once (SQLITE_BUSY, without waiting, to
 * avoid a deadlock between readers that both want to write), so it is retried for a while.
 */
async function switchToWal(db: SqliteDatabase): Promise<void> {
  const deadline = Date.now() + BUSY_WAIT_MS;
  for (;;) {
    try {
      db.exec('PRAGMA journal_mode = WAL');
      return;
    } catch (error) {
      const busy =
        error instanceof Error &&
        /database is locked|SQLITE_BUSY/i.test(`${error.message} ${(error as { code?: string }).code}`);
      if (!busy || Date.now() >= deadline) throw error;
      await delay(5 + Math.random() * 20);
    }
  }
}

async function openWith(path: string, driver: SqliteDriver): Promise<SqliteDatabase> {
  if (driver !== 'better-sqlite3') {
    let nodeSqlite: { DatabaseSync: new (path: string) => SqliteDatabase } | undefined;
    try {
      nodeSqlite = await import(NODE_SQLITE);
    } catch {
      if (driver === 'node:sqlite') {
        throw new CloudhopError(
          'invalid_config',
          `sqliteStore: driver "node:sqlite" needs Node 22.13 or later (this is Node ${process.versions.node}). Use driver "better-sqlite3" (npm install better-sqlite3) or "auto".`,
        );
      }
    }
    if (nodeSqlite) return new nodeSqlite.DatabaseSync(path);
  }
  let BetterSqlite: typeof import('better-sqlite3');
  try {
    BetterSqlite = (await import('better-sqlite3')).default;
  } catch (error) {
    throw new CloudhopError(
      'invalid_config',
      `sqliteStore: the better-sqlite3 package is not installed. Run \`npm install better-sqlite3\`${driver === 'auto' ? ', or use Node 22.13 or later, which has node:sqlite built in' : ''}.`,
      { cause: error },
    );
  }
  return new BetterSqlite(path) as unknown as SqliteDatabase;
}
