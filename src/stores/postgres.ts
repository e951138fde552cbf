import type { Pool, PoolClient, PoolConfig } from 'pg';
import * as z from 'zod/v4';
import { CloudhopError, storeUnavailable } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { objectWithMethods, parseOptions } from '../core/options.js';
import { registerSecret } from '../core/secrets.js';
import {
  type AppendOptions,
  type Binding,
  DEFAULT_LOCK_WAIT_MS,
  type Lease,
  type ListOptions,
  type SessionKey,
  type SessionSnapshot,
  type SessionStore,
} from '../core/store.js';
import {
  defineMigrations,
  MIGRATIONS_TABLE,
  type Migration,
  pendingMigrations,
  quoteIdentifier,
} from './sql-migrations.js';
import {
  assertLeaseTtl,
  assertLeaseWait,
  leaseConflict,
  sessionLabel,
  throwIfAborted,
  versionConflict,
} from './store-errors.js';
import {
  bindingsToWrite,
  exactlyOneOf,
  lastSummaryIndex,
  onceUntilSuccess,
  pageOf,
  parseListOptions,
  parseLoadOptions,
  storedItem,
  storedSummary,
  waitForLease,
} from './store-kit.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:5432/db`; the store makes a pool and ends it on close(). */
  connectionString?: string;
  /** A pg `Pool` you own: the store never ends it. */
  pool?: Pool;
  /** The schema holding cloudhop's tables, created when missing; default "public". */
  schema?: string;
}

const optionsSchema = exactlyOneOf(
  z
    .object({
      connectionString: z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
        .optional(),
      pool: objectWithMethods<Pool>(['connect', 'query'], 'must be a pg Pool (new Pool(...))').optional(),
      schema: z.string().min(1).max(63, 'must be at most 63 characters (a Postgres identifier)').optional(),
    })
    .strict(),
  'connectionString',
  'pool',
  'give exactly one of `connectionString` (the store connects) or `pool` (a pg Pool you own)',
);

/** For the pool the store creates: a database that is down fails a call within seconds, never hangs it. */
const OWN_POOL_OPTIONS: PoolConfig = {
  connectionTimeoutMillis: 5_000,
  idleTimeoutMillis: 10_000,
  keepAlive: true,
  max: 10,
};

/**
 * Tables, in `schema`:
 *   cloudhop_sessions  (namespace, session_id) → version, bindings (jsonb keyed by runtime id), timestamps,
 *                      summary_seq (the seq of the latest summary item, NULL when there is none)
 *   cloudhop_items     (namespace, session_id, seq) → item (json, kept exactly as written)
 *   cloudhop_leases    (namespace, session_id) → token, expires_at (database clock)
 * Keys use the "C" collation: ids compare byte by byte, so no two different ids are ever equal
 * and list() orders them the same way on every server.
 */
function migrationsFor(schema: string): readonly Migration[] {
  const s = quoteIdentifier(schema);
  return defineMigrations([
    {
      version: 1,
      description: 'sessions, items, leases',
      statements: [
        `CREATE TABLE ${s}.cloudhop_sessions (
          namespace text COLLATE "C" NOT NULL,
          session_id text COLLATE "C" NOT NULL,
          version bigint NOT NULL,
          bindings jsonb NOT NULL DEFAULT '{}'::jsonb,
          created_at timestamptz NOT NULL DEFAULT now(),
          updated_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (namespace, session_id)
        )`,
        `CREATE TABLE ${s}.cloudhop_items (
          namespace text COLLATE "C" NOT NULL,
          session_id text COLLATE "C" NOT NULL,
          seq bigint NOT NULL,
          item json NOT NULL,
          PRIMARY KEY (namespace, session_id, seq),
          FOREIGN KEY (namespace, session_id) REFERENCES ${s}.cloudhop_sessions (namespace, session_id) ON DELETE CASCADE
        )`,
        `CREATE TABLE ${s}.cloudhop_leases (
          namespace text COLLATE "C" NOT NULL,
          session_id text COLLATE "C" NOT NULL,
          token text NOT NULL,
          expires_at timestamptz NOT NULL,
          PRIMARY KEY (namespace, session_id)
        )`,
      ],
    },
    {
      version: 2,
      description: 'the latest summary item of each session',
      statements: [`ALTER TABLE ${s}.cloudhop_sessions ADD COLUMN summary_seq bigint`],
    },
  ]);
}

function registerConnectionCredentials(connectionString: string): void {
  try {
    const parsed = new URL(connectionString);
    if (parsed.password) {
      registerSecret(parsed.password);
      registerSecret(decodeURIComponent(parsed.password));
    }
    const queryPassword = parsed.searchParams.get('password');
    if (queryPassword) registerSecret(queryPassword);
  } catch {
    // Not a URL pg can use either; it will fail to connect, and there is no credential to find.
  }
}

/**
 * Sessions in Postgres: one row per item ordered by `seq`, a compare-and-set append in one
 * transaction, leases as rows timed by the database's clock, schema and tables created on first
 * use under an advisory lock.
 */
export function postgresStore(options: PostgresStoreOptions): SessionStore {
  const config = parseOptions(optionsSchema, options, 'postgresStore');
  if (config.connectionString) registerConnectionCredentials(config.connectionString);
  const schema = config.schema ?? 'public';
  const s = quoteIdentifier(schema);
  const tables = {
    sessions: `${s}.cloudhop_sessions`,
    items: `${s}.cloudhop_items`,
    leases: `${s}.cloudhop_leases`,
  };
  let ownPool: Pool | undefined;
  let closed = false;

  const createPool = onceUntilSuccess(async () => {
    let PoolClass: typeof Pool;
    try {
      const pg = await import('pg');
      PoolClass = pg.Pool ?? pg.default.Pool;
    } catch (error) {
      throw new CloudhopError(
        'invalid_config',
        'postgresStore: the pg package is not installed. Run `npm install pg`.',
        {
          cause: error,
        },
      );
    }
    const pool = new PoolClass({ ...OWN_POOL_OPTIONS, connectionString: config.connectionString });
    // An idle connection that dies would otherwise be an unhandled 'error' event; the next call
    // gets a fresh connection or reports store_unavailable.
    pool.on('error', () => {});
    ownPool = pool;
    return pool;
  });

  const migrate = onceUntilSuccess(async () => {
    const pool = config.pool ?? (await createPool());
    await inTransaction(pool, async (client) => {
      // Serializes concurrent starters (several processes, one schema) around the DDL below.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`cloudhop:migrate:${schema}`]);
      const found = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      if (found.rowCount === 0) await client.query(`CREATE SCHEMA ${s}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${s}.${MIGRATIONS_TABLE} (
          version integer PRIMARY KEY,
          description text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`,
      );
      const applied = await client.query<{ version: number }>(`SELECT version FROM ${s}.${MIGRATIONS_TABLE}`);
      for (const migration of pendingMigrations(
        migrationsFor(schema),
        applied.rows.map((row) => row.version),
      )) {
        for (const sql of migration.statements) await client.query(sql);
        await client.query(`INSERT INTO ${s}.${MIGRATIONS_TABLE} (version, description) VALUES ($1, $2)`, [
          migration.version,
          migration.description,
        ]);
      }
    });
    return pool;
  });

  async function run<T>(what: string, work: (pool: Pool) => Promise<T>): Promise<T> {
    if (closed)
      throw new CloudhopError('store_unavailable', 'This postgresStore was closed; create a new one.');
    try {
      return await work(await migrate());
    } catch (error) {
      throw storeUnavailable(error, what);
    }
  }

  /** Where a stored item is, for the error that names a row changed outside cloudhop. */
  const itemRow = (key: SessionKey, position: number) => ({
    position,
    row: `the row of ${tables.items} with namespace = '${key.namespace}', session_id = '${key.sessionId}' and seq = ${position + 1}`,
  });

  return {
    appendsBindings: true,
    async load(key, loadOptions) {
      const { fromVersion, limit } = parseLoadOptions(loadOptions);
      return run('loading a session', async (pool): Promise<SessionSnapshot | undefined> => {
        // One statement, one snapshot: the window and the summary always match the version beside
        // them. seq is position + 1, so the window is a primary-key range; LIMIT NULL is no limit.
        const result = await pool.query<{
          version: string;
          bindings: Record<string, Binding>;
          created_at: Date;
          updated_at: Date;
          items: unknown[];
          summary: unknown;
          summary_seq: string | null;
        }>(
          `SELECT s.version, s.bindings, s.created_at, s.updated_at, s.summary_seq,
             (SELECT coalesce(json_agg(w.item ORDER BY w.seq), '[]'::json) FROM (
                SELECT i.seq, i.item FROM ${tables.items} i
                WHERE i.namespace = $1 AND i.session_id = $2 AND i.seq > $3::bigint
                ORDER BY i.seq LIMIT $4::bigint) w) AS items,
             (SELECT i.item FROM ${tables.items} i
               WHERE i.namespace = $1 AND i.session_id = $2 AND i.seq = s.summary_seq) AS summary
           FROM ${tables.sessions} s WHERE s.namespace = $1 AND s.session_id = $2`,
          [key.namespace, key.sessionId, fromVersion, limit ?? null],
        );
        const row = result.rows[0];
        if (!row) return undefined;
        const version = Number(row.version);
        const from = Math.min(fromVersion, version);
        const snapshot: SessionSnapshot = {
          items: row.items.map((item, index) => storedItem(item, key, itemRow(key, from + index))),
          version,
          bindings: row.bindings,
          meta: { createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString() },
          fromVersion: from,
        };
        if (row.summary_seq !== null) {
          snapshot.summary = storedSummary(row.summary, key, itemRow(key, Number(row.summary_seq) - 1));
        }
        return snapshot;
      });
    },

    async append(key, items, appendOptions: AppendOptions) {
      const serialized = items.map((item) => JSON.stringify(item));
      const { expectedVersion, lease, signal } = appendOptions;
      // One jsonb object of every binding, merged over the stored ones ('{}' when there are none);
      // for one runtime id the last binding given wins, as in a JSON object.
      const bindings = JSON.stringify(
        Object.fromEntries(bindingsToWrite(appendOptions).map((binding) => [binding.runtimeId, binding])),
      );
      const what = `appending to ${sessionLabel(key)}`;
      throwIfAborted(signal, what);
      return run('appending to a session', (pool) =>
        inTransaction(pool, async (client) => {
          if (lease) {
            // FOR SHARE holds off a takeover of this lease until the append has committed.
            const held = await client.query(
              `SELECT 1 FROM ${tables.leases}
               WHERE namespace = $1 AND session_id = $2 AND token = $3 AND expires_at > clock_timestamp() FOR SHARE`,
              [key.namespace, key.sessionId, lease.token],
            );
            if (held.rowCount === 0) throw leaseConflict(key);
          }
          const next = expectedVersion + serialized.length;
          const summaryIndex = lastSummaryIndex(items);
          const summarySeq = summaryIndex < 0 ? null : expectedVersion + summaryIndex + 1;
          // The row lock taken here queues concurrent appenders; each then re-checks the version.
          const updated = await client.query(
            `UPDATE ${tables.sessions}
             SET version = $4, updated_at = now(), summary_seq = coalesce($6::bigint, summary_seq),
                 bindings = bindings || $5::jsonb
             WHERE namespace = $1 AND session_id = $2 AND version = $3`,
            [key.namespace, key.sessionId, expectedVersion, next, bindings, summarySeq],
          );
          if (updated.rowCount === 0) {
            const created =
              expectedVersion === 0 &&
              (
                await client.query(
                  `INSERT INTO ${tables.sessions} (namespace, session_id, version, bindings, summary_seq)
                   VALUES ($1, $2, $3, $4::jsonb, $5::bigint)
                   ON CONFLICT (namespace, session_id) DO NOTHING`,
                  [key.namespace, key.sessionId, next, bindings, summarySeq],
                )
              ).rowCount === 1;
            if (!created) {
              const current = await client.query<{ version: string }>(
                `SELECT version FROM ${tables.sessions} WHERE namespace = $1 AND session_id = $2`,
                [key.namespace, key.sessionId],
              );
              throw versionConflict(key, expectedVersion, Number(current.rows[0]?.version ?? 0));
            }
          }
          if (serialized.length > 0) {
            await client.query(
              `INSERT INTO ${tables.items} (namespace, session_id, seq, item)
               SELECT $1, $2, $3::bigint + t.ord, t.item::json FROM unnest($4::text[]) WITH ORDINALITY AS t(item, ord)`,
              [key.namespace, key.sessionId, expectedVersion, serialized],
            );
          }
          // Until COMMIT nothing is visible: a signal that fired meanwhile still rolls it all back.
          throwIfAborted(signal, what);
          return next;
        }),
      );
    },

    async lock(key, ttlMs, lockOptions = {}) {
      const waitMs = assertLeaseWait(ttlMs, lockOptions.waitMs ?? DEFAULT_LOCK_WAIT_MS);
      const token = newId();
      const lease: Lease = {
        token,
        release: async () => {
          await run('releasing a lease', (pool) =>
            pool.query(
              `DELETE FROM ${tables.leases} WHERE namespace = $1 AND session_id = $2 AND token = $3`,
              [key.namespace, key.sessionId, token],
            ),
          );
        },
        renew: async (renewTtlMs) => {
          assertLeaseTtl(renewTtlMs, 'renew');
          // Only a live lease is extended, by the database's clock like the lock itself.
          const renewed = await run('renewing a lease', (pool) =>
            pool.query(
              `UPDATE ${tables.leases}
               SET expires_at = clock_timestamp() + make_interval(secs => $4::double precision / 1000)
               WHERE namespace = $1 AND session_id = $2 AND token = $3 AND expires_at > clock_timestamp()`,
              [key.namespace, key.sessionId, token, renewTtlMs],
            ),
          );
          if (renewed.rowCount !== 1) throw leaseConflict(key);
        },
      };
      return waitForLease(key, waitMs, lockOptions.signal, async () => {
        // Takes the lease when there is none or it has expired, by the database's clock.
        const taken = await run('taking a lease', (pool) =>
          pool.query(
            `INSERT INTO ${tables.leases} AS l (namespace, session_id, token, expires_at)
             VALUES ($1, $2, $3, clock_timestamp() + make_interval(secs => $4::double precision / 1000))
             ON CONFLICT (namespace, session_id) DO UPDATE SET token = EXCLUDED.token, expires_at = EXCLUDED.expires_at
             WHERE l.expires_at <= clock_timestamp()`,
            [key.namespace, key.sessionId, token, ttlMs],
          ),
        );
        return taken.rowCount === 1 ? lease : undefined;
      });
    },

    async delete(key) {
      await run('deleting a session', (pool) =>
        // One statement: the items go with their session row (ON DELETE CASCADE), the lease with it.
        pool.query(
          `WITH gone_lease AS (DELETE FROM ${tables.leases} WHERE namespace = $1 AND session_id = $2)
           DELETE FROM ${tables.sessions} WHERE namespace = $1 AND session_id = $2`,
          [key.namespace, key.sessionId],
        ),
      );
    },

    async list(listOptions: ListOptions = {}) {
      const { namespace, limit, cursor } = parseListOptions(listOptions);
      return run('listing sessions', async (pool) => {
        const result = await pool.query<{ session_id: string }>(
          `SELECT session_id FROM ${tables.sessions}
           WHERE namespace = $1 AND session_id > $2 ORDER BY session_id LIMIT $3`,
          [namespace, cursor, limit + 1],
        );
        return pageOf(
          result.rows.map((row) => row.session_id),
          limit,
        );
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      // Only the pool this store made is ended; a pool passed in belongs to the caller.
      if (ownPool) {
        const pool = ownPool;
        ownPool = undefined;
        try {
          await pool.end();
        } catch (error) {
          throw storeUnavailable(error, 'closing the connection pool');
        }
      }
    },
  };
}

/**
 * Runs `work` in a transaction on one pooled connection. A connection that failed mid-way is
 * destroyed rather than returned to the pool, so the next call starts on a healthy one.
 */
async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A connection lost while checked out is reported as an 'error' event too (besides failing
  // the query in flight); unheard, that event would crash the process.
  const onError = (error: Error) => {
    broken = error;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      broken = rollbackError as Error;
    }
    throw error;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}
