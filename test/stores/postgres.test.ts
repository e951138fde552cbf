import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { CloudhopError } from '../../src/core/errors.js';
import type { Item, SummaryItem } from '../../src/core/items.js';
import { postgresStore } from '../../src/stores/postgres.js';
import { runStoreConformance } from '../../src/testing/index.js';
import { closedPort, DATABASE_URL, postgresAvailable, runTag } from './helpers/services.js';
import { expectOutageRecovery, message, rejection } from './helpers/store-kit.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';

/** The tables as schema version 1 (the first release) created them, to test the upgrade from it. */
const schemaV1 = (s: string) => [
  `CREATE TABLE ${s}.cloudhop_schema_migrations (
    version integer PRIMARY KEY,
    description text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`,
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
];

const summaryOf = (fromVersion: number, toVersion: number): SummaryItem => ({
  type: 'summary',
  id: `summary-${fromVersion}-${toVersion}`,
  text: `What happened in items ${fromVersion} to ${toVersion}.`,
  covers: { fromVersion, toVersion },
  createdAt: '2025-01-01T00:00:00.000Z',
});

const available = await postgresAvailable();
const tag = runTag();
const schema = `cloudhop_test_${tag}`;
const schemasMade: string[] = [schema];
const freshSchema = () => {
  const name = `cloudhop_test_${tag}_${schemasMade.length}`;
  schemasMade.push(name);
  return name;
};

async function query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

describe.skipIf(!available)('postgresStore', () => {
  afterAll(async () => {
    for (const name of schemasMade) await query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  });

  runStoreConformance(
    () => postgresStore({ connectionString: DATABASE_URL, schema }),
    { describe, it, expect },
    {
      name: 'conformance',
    },
  );

  it('creates its schema and tables when missing, and records the migration once', async () => {
    const fresh = freshSchema();
    expect(await query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [fresh])).toHaveLength(0);
    const store = postgresStore({ connectionString: DATABASE_URL, schema: fresh });
    await store.append({ namespace: 'default', sessionId: 's' }, [message('x')], { expectedVersion: 0 });
    await store.close();
    const tables = await query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
      [fresh],
    );
    expect(tables.map((row) => row.table_name)).toEqual([
      'cloudhop_items',
      'cloudhop_leases',
      'cloudhop_schema_migrations',
      'cloudhop_sessions',
    ]);
    const items = await query<{ seq: string; item: Item }>(`SELECT seq, item FROM "${fresh}".cloudhop_items`);
    expect(items).toEqual([{ seq: '1', item: message('x') }]);
  });

  it('runs migrations safely when many stores start at once on a new schema, and again later', async () => {
    const fresh = freshSchema();
    const stores = Array.from({ length: 6 }, () =>
      postgresStore({ connectionString: DATABASE_URL, schema: fresh }),
    );
    const versions = await Promise.all(
      stores.map((store, index) =>
        store.append({ namespace: 'default', sessionId: `s${index}` }, [message(`${index}`)], {
          expectedVersion: 0,
        }),
      ),
    );
    expect(versions).toEqual([1, 1, 1, 1, 1, 1]);
    await Promise.all(stores.map((store) => store.close()));

    const again = postgresStore({ connectionString: DATABASE_URL, schema: fresh });
    expect((await again.list()).ids).toEqual(['s0', 's1', 's2', 's3', 's4', 's5']);
    await again.close();
    const applied = await query<{ version: number }>(
      `SELECT version FROM "${fresh}".cloudhop_schema_migrations ORDER BY version`,
    );
    expect(applied).toEqual([{ version: 1 }, { version: 2 }]);
  });

  it('upgrades a schema made by version 1 in place: its sessions load, window, and take summaries', async () => {
    const fresh = freshSchema();
    const s = `"${fresh}"`;
    const old = [message('one'), message('two', 'assistant'), message('three')];
    const binding = { runtimeId: 'rt', remote: { responseId: 'resp_1' }, syncedVersion: 3 };
    await query(`CREATE SCHEMA ${s}`);
    for (const sql of schemaV1(s)) await query(sql);
    await query(
      `INSERT INTO ${s}.cloudhop_schema_migrations (version, description) VALUES (1, 'sessions, items, leases')`,
    );
    await query(
      `INSERT INTO ${s}.cloudhop_sessions (namespace, session_id, version, bindings) VALUES ('default', 'old', 3, $1::jsonb)`,
      [JSON.stringify({ rt: binding })],
    );
    for (const [index, item] of old.entries()) {
      await query(
        `INSERT INTO ${s}.cloudhop_items (namespace, session_id, seq, item) VALUES ('default', 'old', $1, $2::json)`,
        [index + 1, JSON.stringify(item)],
      );
    }

    const store = postgresStore({ connectionString: DATABASE_URL, schema: fresh });
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

    expect(await query(`SELECT version FROM ${s}.cloudhop_schema_migrations ORDER BY version`)).toEqual([
      { version: 1 },
      { version: 2 },
    ]);
    // Opened again, nothing is left to migrate and the summary is still found.
    const reopened = postgresStore({ connectionString: DATABASE_URL, schema: fresh });
    expect((await reopened.load(key, { limit: 0 }))?.summary).toEqual(summary);
    await reopened.close();
  });

  it('reports a row changed outside cloudhop as transcript_invalid, naming its position and row', async () => {
    const store = postgresStore({ connectionString: DATABASE_URL, schema });
    const key = { namespace: `corrupt-${runTag()}`, sessionId: 'hand-edited' };
    const summary = summaryOf(0, 2);
    await store.append(key, [message('one'), message('two', 'assistant'), summary, message('three')], {
      expectedVersion: 0,
    });
    const { content: _lost, ...withoutContent } = message('two', 'assistant') as { content: unknown };
    await query(
      `UPDATE "${schema}".cloudhop_items SET item = $2::json WHERE namespace = $1 AND session_id = 'hand-edited' AND seq = 2`,
      [key.namespace, JSON.stringify(withoutContent)],
    );
    const error = await rejection(store.load(key));
    expect(error).toBeInstanceOf(CloudhopError);
    expect(error.code).toBe('transcript_invalid');
    expect(error.path).toBe('items.1.content');
    expect(error.message).toContain('session "hand-edited"');
    expect(error.message).toContain('position 1');
    expect(error.message).toContain('seq = 2');
    // A window past the bad row still reads, with its summary.
    expect(await store.load(key, { fromVersion: 3 })).toMatchObject({ items: [message('three')], summary });

    // The summary is checked where it is read, also outside the window.
    await query(
      `UPDATE "${schema}".cloudhop_items SET item = $2::json WHERE namespace = $1 AND session_id = 'hand-edited' AND seq = 3`,
      [key.namespace, JSON.stringify({ ...summary, covers: { fromVersion: 0 } })],
    );
    expect((await rejection(store.load(key, { fromVersion: 3 }))).path).toBe('items.2.covers.toVersion');
    await store.close();
  });

  it('does not end a pool it was given', async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL });
    const store = postgresStore({ pool, schema });
    const key = { namespace: `own-${runTag()}`, sessionId: 's' };
    await store.append(key, [message('x')], { expectedVersion: 0 });
    await store.close();
    const rows = await pool.query(`SELECT version FROM "${schema}".cloudhop_sessions WHERE namespace = $1`, [
      key.namespace,
    ]);
    expect(rows.rows).toEqual([{ version: '1' }]);
    await pool.end();
  });

  it('reports store_unavailable when nothing listens on the port, without leaking the password', async () => {
    const port = await closedPort();
    const store = postgresStore({
      connectionString: `postgres://app:planted-secret-password@127.0.0.1:${port}/test`,
    });
    const error = await rejection(store.load({ namespace: 'default', sessionId: 's' }));
    expect(error).toBeInstanceOf(CloudhopError);
    expect(error.code).toBe('store_unavailable');
    expect(error.cause).toBeDefined();
    expect(JSON.stringify(error)).not.toContain('planted-secret-password');
    expect(error.message).not.toContain('planted-secret-password');
    await store.close();
  });

  it('a server that goes away fails calls with store_unavailable, commits nothing, and works again when back', async () => {
    const { hostname, port } = new URL(DATABASE_URL);
    const proxy = await startTcpProxy(hostname, Number(port || 5432));
    const url = new URL(DATABASE_URL);
    url.host = `127.0.0.1:${proxy.port}`;
    const store = postgresStore({ connectionString: url.toString(), schema });
    const key = { namespace: `down-${runTag()}`, sessionId: 's' };
    try {
      await expectOutageRecovery(store, proxy, key);
    } finally {
      await store.close();
      await proxy.close();
    }
  });

  it('validates its options, naming the bad one', () => {
    expect(() => postgresStore({} as never)).toThrow(/connectionString/);
    expect(() => postgresStore({ connectionString: 'mysql://localhost/x' })).toThrow(
      /connectionString.*postgres:\/\//,
    );
    expect(() => postgresStore({ connectionString: DATABASE_URL, schema: 'x'.repeat(64) })).toThrow(/schema/);
    try {
      postgresStore({ connectionString: DATABASE_URL, schema: '' });
      expect.unreachable();
    } catch (error) {
      expect((error as CloudhopError).code).toBe('invalid_config');
    }
  });
});
