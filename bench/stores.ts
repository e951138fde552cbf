/**
 * `npm run bench:stores`: how an append's cost grows with the session. Per store, the median time
 * of a one-item append to a session holding 10 items and to one holding 10,000; the budget is a
 * ratio of at most 2 (an append is O(items appended), never a rewrite of the session).
 * Redis and Postgres come from REDIS_URL / DATABASE_URL (defaults: local servers); a store that
 * cannot be reached is skipped with the reason.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Item } from '../src/core/items.js';
import type { SessionKey, SessionStore } from '../src/core/store.js';
import { postgresStore } from '../src/stores/postgres.js';
import { redisStore } from '../src/stores/redis.js';
import { sqliteStore } from '../src/stores/sqlite.js';
import { dropSchema } from '../test/stores/helpers/services.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SMALL = 10;
const LARGE = 10_000;
const SAMPLES = 41;
const BUDGET = 2;

const tag = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const namespace = `bench-${tag}`;

function item(n: number): Item {
  return {
    type: 'message',
    id: `bench-${n}`,
    role: n % 2 === 0 ? 'user' : 'assistant',
    content: [
      { type: 'text', text: `Message number ${n}: a sentence of ordinary length for a chat transcript.` },
    ],
    createdAt: new Date().toISOString(),
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function fill(store: SessionStore, key: SessionKey, count: number): Promise<number> {
  let version = 0;
  while (version < count) {
    const size = Math.min(500, count - version);
    version = await store.append(
      key,
      Array.from({ length: size }, (_, i) => item(version + i)),
      {
        expectedVersion: version,
      },
    );
  }
  return version;
}

async function timedAppend(store: SessionStore, key: SessionKey, version: number): Promise<number> {
  const started = performance.now();
  await store.append(key, [item(version)], { expectedVersion: version });
  return performance.now() - started;
}

interface Row {
  store: string;
  smallMs?: number;
  largeMs?: number;
  ratio?: number;
  skipped?: string;
}

async function measure(name: string, store: SessionStore): Promise<Row> {
  try {
    await store.list({ namespace, limit: 1 });
  } catch (error) {
    await store.close().catch(() => {});
    return { store: name, skipped: (error as Error).message };
  }
  const large = { namespace, sessionId: 'large' };
  let largeVersion = await fill(store, large, LARGE);
  const smallKeys = Array.from({ length: SAMPLES + 3 }, (_, i) => ({ namespace, sessionId: `small-${i}` }));
  for (const key of smallKeys) await fill(store, key, SMALL);

  // Warm connections and caches, then alternate the two cases so drift in the machine hits both alike.
  for (const key of smallKeys.slice(SAMPLES)) await timedAppend(store, key, SMALL);
  const small: number[] = [];
  const big: number[] = [];
  for (let sample = 0; sample < SAMPLES; sample++) {
    small.push(await timedAppend(store, smallKeys[sample]!, SMALL));
    big.push(await timedAppend(store, large, largeVersion));
    largeVersion += 1;
  }
  for (const key of [large, ...smallKeys]) await store.delete(key);
  await store.close();
  const smallMs = median(small);
  const largeMs = median(big);
  return { store: name, smallMs, largeMs, ratio: largeMs / smallMs };
}

const dir = mkdtempSync(join(tmpdir(), 'cloudhop-bench-'));
const schema = `cloudhop_bench_${tag}`;
const rows: Row[] = [];
try {
  rows.push(await measure('sqlite', sqliteStore({ path: join(dir, 'bench.db') })));
  rows.push(await measure('redis', redisStore({ url: REDIS_URL, keyPrefix: `cloudhop-bench-${tag}:` })));
  rows.push(await measure('postgres', postgresStore({ connectionString: DATABASE_URL, schema })));
} finally {
  rmSync(dir, { recursive: true, force: true });
  if (rows.find((row) => row.store === 'postgres' && !row.skipped)) {
    await dropSchema(schema, DATABASE_URL);
  }
}

console.log(
  `Append of one item: median of ${SAMPLES} at item ${SMALL} vs at item ${LARGE} (budget: ratio ≤ ${BUDGET})`,
);
let overBudget = false;
for (const row of rows) {
  if (row.skipped) {
    console.log(`  ${row.store.padEnd(9)} skipped: ${row.skipped}`);
    continue;
  }
  const over = row.ratio! > BUDGET;
  overBudget ||= over;
  console.log(
    `  ${row.store.padEnd(9)} at ${SMALL}: ${row.smallMs!.toFixed(3)} ms   at ${LARGE}: ${row.largeMs!.toFixed(3)} ms   ratio ${row.ratio!.toFixed(2)}${over ? '  OVER BUDGET' : ''}`,
  );
}
process.exitCode = overBudget ? 1 : 0;
