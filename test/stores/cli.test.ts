import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { runSessionsCommand } from '../../src/cli/sessions.js';
import type { Item } from '../../src/core/items.js';
import type { Binding, SessionStore } from '../../src/core/store.js';
import { postgresStore } from '../../src/stores/postgres.js';
import { redisStore } from '../../src/stores/redis.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import {
  closedPort,
  DATABASE_URL,
  postgresAvailable,
  REDIS_URL,
  redisAvailable,
  runTag,
} from './helpers/services.js';
import { message } from './helpers/store-kit.js';

const dir = mkdtempSync(join(tmpdir(), 'cloudhop-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = (ext = 'db') => join(dir, `f${++files}.${ext}`);

const binding: Binding = {
  runtimeId: 'openai-responses:gpt-4o',
  remote: { responseId: 'resp_1' },
  syncedVersion: 2,
};

/** A session that has been compacted: two messages, a summary of them, and a binding that knows its context size. */
const compacted: Item[] = [
  message('my name is Ada'),
  message('Nice to meet you, Ada.', 'assistant'),
  {
    type: 'summary',
    id: 's-1',
    text: 'Summary: the user said "my name is Ada". 2 lines summarized.',
    covers: { fromVersion: 0, toVersion: 2 },
    createdAt: '2025-01-01T00:00:00.000Z',
    runtimeId: 'azure-chat:gpt-4o',
  },
  message('What is my name?'),
];
const compactedBinding: Binding = { ...binding, syncedVersion: 4, contextTokens: 812 };

async function seedCompacted(store: SessionStore, namespace: string, sessionId: string): Promise<void> {
  await store.append({ namespace, sessionId }, compacted, { expectedVersion: 0, binding: compactedBinding });
}

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runSessionsCommand(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
  return {
    code,
    stdout: out.join(''),
    stderr: err.join(''),
    stderrLines: err.join('').trimEnd().split('\n'),
  };
}

async function seed(store: SessionStore, namespace: string, count: number): Promise<void> {
  for (let index = 0; index < count; index++) {
    const sessionId = `user-${index}`;
    await store.append(
      { namespace, sessionId },
      [message(`hi ${index}`), message(`hello ${index}`, 'assistant')],
      {
        expectedVersion: 0,
        binding,
      },
    );
  }
}

describe('cloudhop sessions', () => {
  it('exports a session to a file and imports it into another store, under another namespace', async () => {
    const from = freshPath();
    const to = freshPath();
    const store = sqliteStore({ path: from });
    await seed(store, 'tenant-a', 1);
    await store.close();
    const file = freshPath('json');

    const exported = await cli('export', `sqlite:${from}`, 'user-0', '-o', file, '--namespace', 'tenant-a');
    expect(exported.code).toBe(0);
    expect(exported.stderr).toContain('2 items');
    const transcript = JSON.parse(readFileSync(file, 'utf8'));
    expect(transcript).toMatchObject({
      format: 'cloudhop.transcript/v2',
      namespace: 'tenant-a',
      sessionId: 'user-0',
    });

    const imported = await cli('import', `sqlite:${to}`, file, '--namespace', 'tenant-b');
    expect(imported.code).toBe(0);
    const target = sqliteStore({ path: to });
    const snapshot = await target.load({ namespace: 'tenant-b', sessionId: 'user-0' });
    expect(snapshot?.items).toEqual([message('hi 0'), message('hello 0', 'assistant')]);
    expect(snapshot?.bindings).toEqual({ [binding.runtimeId]: binding });
    await target.close();
  });

  it('exports to stdout when no file is given, and imports into the file’s own namespace by default', async () => {
    const from = freshPath();
    const store = sqliteStore({ path: from });
    await seed(store, 'default', 1);
    await store.close();
    const exported = await cli('export', `sqlite:${from}`, 'user-0');
    expect(exported.code).toBe(0);
    expect(JSON.parse(exported.stdout).items).toHaveLength(2);

    const file = freshPath('json');
    writeFileSync(file, exported.stdout.replace('"namespace": "default"', '"namespace": "kept"'));
    const to = freshPath();
    expect((await cli('import', `sqlite://${to}`, file)).code).toBe(0);
    const target = sqliteStore({ path: to });
    expect((await target.list({ namespace: 'kept' })).ids).toEqual(['user-0']);
    await target.close();
  });

  it('refuses to import over an existing session (exit 1) and rejects a bad file', async () => {
    const path = freshPath();
    const store = sqliteStore({ path });
    await seed(store, 'default', 1);
    await store.close();
    const file = freshPath('json');
    expect((await cli('export', `sqlite:${path}`, 'user-0', '-o', file)).code).toBe(0);
    const again = await cli('import', `sqlite:${path}`, file);
    expect(again.code).toBe(1);
    expect(again.stderrLines).toHaveLength(1);

    writeFileSync(file, '{"format":"something/v9"}');
    const bad = await cli('import', `sqlite:${freshPath()}`, file);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('format');
  });

  it('migrates every session of a namespace, with progress, and a re-run skips what is already there', async () => {
    const from = freshPath();
    const to = freshPath();
    const store = sqliteStore({ path: from });
    await seed(store, 'tenant', 3);
    await seed(store, 'other', 2);
    await store.close();

    const migrated = await cli(
      'migrate',
      '--from',
      `sqlite:${from}`,
      '--to',
      `sqlite:${to}`,
      '--namespace',
      'tenant',
    );
    expect(migrated.code).toBe(0);
    expect(migrated.stderrLines).toEqual([
      `Migrating 3 sessions in namespace "tenant" from sqlite:${from} to sqlite:${to}.`,
      '[1/3] user-0: 2 items',
      '[2/3] user-1: 2 items',
      '[3/3] user-2: 2 items',
      'Migrated 3 sessions.',
    ]);
    const target = sqliteStore({ path: to });
    expect((await target.list({ namespace: 'tenant' })).ids).toEqual(['user-0', 'user-1', 'user-2']);
    expect((await target.list({ namespace: 'other' })).ids).toEqual([]);
    expect((await target.load({ namespace: 'tenant', sessionId: 'user-2' }))?.bindings).toEqual({
      [binding.runtimeId]: binding,
    });
    await target.close();

    const rerun = await cli(
      'migrate',
      '--from',
      `sqlite:${from}`,
      '--to',
      `sqlite:${to}`,
      '--namespace',
      'tenant',
    );
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).toContain('[3/3] user-2: already in the target, skipped');
  });

  it('imports a cloudhop.transcript/v1 file, items and bindings as they were', async () => {
    const file = freshPath('json');
    const v1 = {
      format: 'cloudhop.transcript/v1',
      namespace: 'legacy',
      sessionId: 'old-chat',
      exportedAt: '2024-06-01T00:00:00.000Z',
      items: [message('hi'), message('hello', 'assistant')],
      bindings: { [binding.runtimeId]: binding },
    };
    writeFileSync(file, JSON.stringify(v1, null, 2));
    const to = freshPath();

    const imported = await cli('import', `sqlite:${to}`, file);
    expect(imported.code).toBe(0);
    expect(imported.stderrLines).toEqual(['Imported session "old-chat" (namespace "legacy", 2 items).']);
    const target = sqliteStore({ path: to });
    const snapshot = await target.load({ namespace: 'legacy', sessionId: 'old-chat' });
    expect(snapshot?.items).toEqual(v1.items);
    expect(snapshot?.bindings).toEqual(v1.bindings);
    await target.close();

    // Exported again, the same session comes out in the current format.
    const exported = await cli('export', `sqlite:${to}`, 'old-chat', '--namespace', 'legacy');
    expect(JSON.parse(exported.stdout)).toMatchObject({ format: 'cloudhop.transcript/v2', items: v1.items });
  });

  it('exports a compacted session as v2 with its summary and contextTokens, and imports it back', async () => {
    const from = freshPath();
    const store = sqliteStore({ path: from });
    await seedCompacted(store, 'default', 'long');
    await store.close();
    const file = freshPath('json');

    expect((await cli('export', `sqlite:${from}`, 'long', '-o', file)).code).toBe(0);
    const transcript = JSON.parse(readFileSync(file, 'utf8'));
    expect(transcript.format).toBe('cloudhop.transcript/v2');
    expect(transcript.items).toEqual(compacted);
    expect(transcript.bindings).toEqual({ [binding.runtimeId]: compactedBinding });

    const to = freshPath();
    expect((await cli('import', `sqlite:${to}`, file)).code).toBe(0);
    const target = sqliteStore({ path: to });
    const snapshot = await target.load({ namespace: 'default', sessionId: 'long' });
    expect(snapshot?.items).toEqual(compacted);
    expect(snapshot?.bindings).toEqual({ [binding.runtimeId]: compactedBinding });
    await target.close();
  });

  it('refuses a v1 file that holds a summary item, naming the item and the format it needs', async () => {
    const file = freshPath('json');
    writeFileSync(
      file,
      JSON.stringify({
        format: 'cloudhop.transcript/v1',
        namespace: 'default',
        sessionId: 'mixed',
        exportedAt: '2025-01-01T00:00:00.000Z',
        items: compacted,
        bindings: {},
      }),
    );
    const to = freshPath();
    const result = await cli('import', `sqlite:${to}`, file);
    expect(result.code).toBe(1);
    expect(result.stderrLines).toHaveLength(1);
    expect(result.stderr).toContain('"cloudhop.transcript/v2"');
    expect(result.stderr).toContain('(at "items.2.type")');
    const target = sqliteStore({ path: to });
    expect((await target.list()).ids).toEqual([]);
    await target.close();
  });

  it('migrates compacted sessions with their summary items and contextTokens', async () => {
    const from = freshPath();
    const to = freshPath();
    const store = sqliteStore({ path: from });
    await seedCompacted(store, 'default', 'long');
    await seed(store, 'default', 1);
    await store.close();

    const migrated = await cli('migrate', '--from', `sqlite:${from}`, '--to', `sqlite:${to}`);
    expect(migrated.code).toBe(0);
    expect(migrated.stderrLines.slice(1)).toEqual([
      '[1/2] long: 4 items',
      '[2/2] user-0: 2 items',
      'Migrated 2 sessions.',
    ]);
    const target = sqliteStore({ path: to });
    const snapshot = await target.load({ namespace: 'default', sessionId: 'long' });
    expect(snapshot?.items).toEqual(compacted);
    expect(snapshot?.bindings).toEqual({ [binding.runtimeId]: compactedBinding });
    await target.close();
  });

  it('a bad store URL is one line on stderr and exit code 2', async () => {
    for (const url of ['mysql://localhost/db', 'sqlite:', 'not a url']) {
      const result = await cli('export', url, 'user-0');
      expect(result.code).toBe(2);
      expect(result.stderrLines).toHaveLength(1);
      expect(result.stdout).toBe('');
    }
  });

  it('an unreachable store is one line on stderr and exit code 2, without its password', async () => {
    const port = await closedPort();
    const targets = [
      `redis://:planted-cli-password@127.0.0.1:${port}`,
      `postgres://app:planted-cli-password@127.0.0.1:${port}/test`,
      `sqlite:${join(dir, 'missing-dir', 'x.db')}`,
    ];
    for (const url of targets) {
      const result = await cli('migrate', '--from', url, '--to', `sqlite:${freshPath()}`);
      expect(result.code).toBe(2);
      expect(result.stderrLines).toHaveLength(1);
      expect(result.stderr).not.toContain('planted-cli-password');
    }
  });

  it('a store URL that is not a valid URL is exit code 2, shown without its password', async () => {
    for (const url of [
      'redis://:planted-cli-password@cache host:6379',
      'postgres://app:planted-cli-password@db host/test',
      'mysql://app:planted-cli-password@db host/test',
    ]) {
      const result = await cli('export', url, 'user-0');
      expect(result.code).toBe(2);
      expect(result.stderrLines).toHaveLength(1);
      expect(result.stderr).toContain('***');
      expect(result.stderr).not.toContain('planted-cli-password');
    }
  });

  it('usage mistakes exit with code 2', async () => {
    expect((await cli()).code).toBe(2);
    expect((await cli('export', 'sqlite:x.db')).code).toBe(2);
    expect((await cli('migrate', '--from', 'sqlite:x.db')).code).toBe(2);
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('export', 'sqlite:x.db', 's', '--bogus')).code).toBe(2);
    expect((await cli('import', `sqlite:${freshPath()}`, join(dir, 'no-such-file.json'))).code).toBe(2);
  });

  it('exporting a session that does not exist fails with exit code 1', async () => {
    const result = await cli('export', `sqlite:${freshPath()}`, 'nobody');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('nobody');
  });
});

const servicesUp = (await redisAvailable()) && (await postgresAvailable());

describe.skipIf(!servicesUp)('cloudhop sessions migrate across store kinds', () => {
  const tag = runTag();
  const keyPrefix = `cloudhop-cli-${tag}:`;
  const schema = `cloudhop_cli_${tag}`;

  afterAll(async () => {
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });

  it('moves sessions sqlite → redis → postgres intact', async () => {
    const from = freshPath();
    const store = sqliteStore({ path: from });
    await seed(store, 'default', 4);
    await store.close();
    const redisUrl = `${REDIS_URL}?keyPrefix=${encodeURIComponent(keyPrefix)}`;
    const postgresUrl = `${DATABASE_URL}?schema=${schema}`;

    expect((await cli('migrate', '--from', `sqlite:${from}`, '--to', redisUrl)).code).toBe(0);
    expect((await cli('migrate', '--from', redisUrl, '--to', postgresUrl)).code).toBe(0);

    const redis = redisStore({ url: REDIS_URL, keyPrefix });
    const postgres = postgresStore({ connectionString: DATABASE_URL, schema });
    for (const target of [redis, postgres]) {
      expect((await target.list()).ids).toEqual(['user-0', 'user-1', 'user-2', 'user-3']);
      const snapshot = await target.load({ namespace: 'default', sessionId: 'user-3' });
      expect(snapshot?.items).toEqual([message('hi 3'), message('hello 3', 'assistant')]);
      expect(snapshot?.bindings).toEqual({ [binding.runtimeId]: binding });
      await target.close();
    }
  });

  it('moves a compacted session sqlite → postgres with its summary items', async () => {
    const from = freshPath();
    const store = sqliteStore({ path: from });
    await seedCompacted(store, 'compacted', 'long');
    await store.close();
    const postgresUrl = `${DATABASE_URL}?schema=${schema}`;

    const migrated = await cli(
      'migrate',
      '--from',
      `sqlite:${from}`,
      '--to',
      postgresUrl,
      '--namespace',
      'compacted',
    );
    expect(migrated.code).toBe(0);

    const postgres = postgresStore({ connectionString: DATABASE_URL, schema });
    const snapshot = await postgres.load({ namespace: 'compacted', sessionId: 'long' });
    expect(snapshot?.items).toEqual(compacted);
    expect(snapshot?.bindings).toEqual({ [binding.runtimeId]: compactedBinding });
    await postgres.close();
  });
});
