import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { Item } from '../../src/core/items.js';
import type { SessionStore } from '../../src/core/store.js';
import { postgresStore } from '../../src/stores/postgres.js';
import { redisStore } from '../../src/stores/redis.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import {
  DATABASE_URL,
  deleteRedisKeys,
  dropSchema,
  postgresAvailable,
  REDIS_URL,
  redisAvailable,
  runTag,
} from './helpers/services.js';

const TURNS_PER_PROCESS = 50;
const WORKERS = ['alpha', 'beta'];
const run = promisify(execFile);
const child = join(import.meta.dirname, 'helpers', 'agent-child.ts');
const tag = runTag();
const dir = mkdtempSync(join(tmpdir(), 'cloudhop-cross-'));
const redisUp = await redisAvailable();
const postgresUp = await postgresAvailable();

const text = (item: Item | undefined) =>
  item?.type === 'message' && item.content[0]?.type === 'text' ? item.content[0].text : undefined;

/** Forks the workers at once on one session, then checks the transcript turn by turn. */
async function twoProcessesOnOneSession(kind: string, target: string, store: SessionStore): Promise<void> {
  await Promise.all(
    WORKERS.map((worker) =>
      run(process.execPath, ['--import', 'tsx', child, kind, target, worker, String(TURNS_PER_PROCESS)], {
        timeout: 150_000,
      }),
    ),
  );
  const snapshot = await store.load({ namespace: 'default', sessionId: 'shared' });
  await store.close();
  const items = snapshot?.items ?? [];
  expect(items).toHaveLength(WORKERS.length * TURNS_PER_PROCESS * 4);
  expect(snapshot?.version).toBe(items.length);

  const inputs: string[] = [];
  for (let start = 0; start < items.length; start += 4) {
    const [user, call, result, answer] = items.slice(start, start + 4);
    const input = text(user);
    // A complete turn, not interleaved with another: its own call, result and answer, in place.
    expect({
      user: user?.type === 'message' && user.role,
      call: call?.type === 'tool_call' && JSON.parse(call.arguments).text,
      result: result?.type === 'tool_result' && call?.type === 'tool_call' && result.callId === call.callId,
      answer: answer?.type === 'message' && answer.role === 'assistant' && text(answer),
    }).toEqual({ user: 'user', call: input, result: true, answer: `done ${input}` });
    inputs.push(input!);
  }
  // None lost, none twice, and each process's turns in the order it ran them.
  for (const worker of WORKERS) {
    const expected = Array.from(
      { length: TURNS_PER_PROCESS },
      (_, i) => `${worker}-${String(i + 1).padStart(3, '0')}`,
    );
    expect(inputs.filter((input) => input.startsWith(`${worker}-`))).toEqual(expected);
  }
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('two processes running turns on one session', () => {
  it('sqlite: 100 complete turns, none interleaved, none lost', async () => {
    const path = join(dir, 'shared.db');
    await twoProcessesOnOneSession('sqlite', path, sqliteStore({ path }));
  }, 180_000);

  it.skipIf(!redisUp)(
    'redis: 100 complete turns, none interleaved, none lost',
    async () => {
      const keyPrefix = `cloudhop-cross-${tag}:`;
      try {
        await twoProcessesOnOneSession('redis', keyPrefix, redisStore({ url: REDIS_URL, keyPrefix }));
      } finally {
        await deleteRedisKeys(keyPrefix);
      }
    },
    180_000,
  );

  it.skipIf(!postgresUp)(
    'postgres: 100 complete turns, none interleaved, none lost',
    async () => {
      const schema = `cloudhop_cross_${tag}`;
      try {
        await twoProcessesOnOneSession(
          'postgres',
          schema,
          postgresStore({ connectionString: DATABASE_URL, schema }),
        );
      } finally {
        await dropSchema(schema);
      }
    },
    180_000,
  );
});
