import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createAgent, memoryStore, type Runtime, type SessionKey, type SessionStore } from '../src/index.js';
import { openaiChat, openaiResponses } from '../src/openai.js';
import { postgresStore } from '../src/stores/postgres.js';
import { redisStore } from '../src/stores/redis.js';
import { sqliteStore } from '../src/stores/sqlite.js';
import { conversationItems, seedSession } from '../test/helpers/long-session.js';
import { dropSchema } from '../test/stores/helpers/services.js';
import { startServer } from './measure.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SIZES = [10, 1_000, 10_000, 100_000];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 60);
const WARMUP = 15;
const MAX_INPUT_TOKENS = 8_000;
const BUDGET = { statefulAt10k: 1.3, statelessFlat: 1.3, moveBytes: 1.25 };
const IDLE_SESSIONS = 5_000;
const IDLE_SESSION_ITEMS = 20;

const tag = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const namespace = `bench-sessions-${tag}`;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

interface StoreRow {
  store: string;
  skipped?: string;
  stateful?: number[];
  stateless?: number[];
}

async function timedTurn(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

async function measureStore(name: string, store: SessionStore, baseURL: string): Promise<StoreRow> {
  try {
    await store.list({ namespace, limit: 1 });
  } catch (error) {
    await store.close().catch(() => {});
    return { store: name, skipped: (error as Error).message };
  }
  const stateful = openaiResponses({ baseURL, model: 'gpt-5', apiKey: 'bench-key' });
  const stateless = openaiChat({ baseURL, model: 'gpt-4o-mini', apiKey: 'bench-key' });
  const onStateful = createAgent({ runtime: stateful, store, namespace });
  const onStateless = createAgent({
    runtime: stateless,
    store,
    namespace,
    context: { maxInputTokens: MAX_INPUT_TOKENS },
  });
  const sessions = { stateful: [] as string[], stateless: [] as string[] };
  for (const size of SIZES) {
    const items = conversationItems(size);
    for (const kind of ['stateful', 'stateless'] as const) {
      const key: SessionKey = { namespace, sessionId: `${kind}-${size}` };
      const version = await seedSession(store, key, items);
      if (kind === 'stateful') {
        // As if the last turn had run on this runtime: its handle is current.
        await store.append(key, [], {
          expectedVersion: version,
          binding: { runtimeId: stateful.id, remote: { responseId: 'resp_seed' }, syncedVersion: version },
        });
      }
      sessions[kind].push(key.sessionId);
    }
  }
  const samples = {
    stateful: SIZES.map(() => [] as number[]),
    stateless: SIZES.map(() => [] as number[]),
  };
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    for (const [index] of SIZES.entries()) {
      const a = await timedTurn(() => onStateful.run('Hello again', { session: sessions.stateful[index]! }));
      const b = await timedTurn(() =>
        onStateless.run('Hello again', { session: sessions.stateless[index]! }),
      );
      if (round >= WARMUP) {
        samples.stateful[index]!.push(a);
        samples.stateless[index]!.push(b);
      }
    }
  }
  for (const kind of ['stateful', 'stateless'] as const) {
    for (const sessionId of sessions[kind]) await store.delete({ namespace, sessionId });
  }
  await store.close();
  return { store: name, stateful: samples.stateful.map(median), stateless: samples.stateless.map(median) };
}

/** Request bytes of the first turn of a 10,000-item session: stateless, and stateful without a handle. */
async function moveBytes(baseURL: string): Promise<{ stateless: number; stateful: number }> {
  const store = memoryStore();
  const items = conversationItems(10_000);
  const context = { maxInputTokens: MAX_INPUT_TOKENS };
  const bytes = async (runtime: Runtime, sessionId: string) => {
    await seedSession(store, { namespace: 'default', sessionId }, items);
    return (await createAgent({ runtime, store, context }).run('Continue', { session: sessionId })).usage
      .requestBytes;
  };
  return {
    stateless: await bytes(openaiChat({ baseURL, model: 'gpt-4o-mini', apiKey: 'bench-key' }), 'chat'),
    stateful: await bytes(openaiResponses({ baseURL, model: 'gpt-5', apiKey: 'bench-key' }), 'moved'),
  };
}

/** Heap an idle session of IDLE_SESSION_ITEMS items holds in memoryStore (needs --expose-gc). */
async function idleSessionHeap(): Promise<number | undefined> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return undefined;
  const items = conversationItems(IDLE_SESSION_ITEMS);
  const store = memoryStore();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let index = 0; index < IDLE_SESSIONS; index++) {
    // Copies, as a real session's items would be its own objects.
    const own = JSON.parse(JSON.stringify(items));
    await store.append({ namespace: 'default', sessionId: `idle-${index}` }, own, { expectedVersion: 0 });
  }
  gc();
  const perSession = (process.memoryUsage().heapUsed - before) / IDLE_SESSIONS;
  await store.close();
  return perSession;
}

const server = await startServer();
const baseURL = `${server.url}/v1`;
const dir = mkdtempSync(join(tmpdir(), 'cloudhop-bench-sessions-'));
const schema = `cloudhop_bench_sessions_${tag}`;
const rows: StoreRow[] = [];
let move: { stateless: number; stateful: number };
let heap: number | undefined;
try {
  rows.push(await measureStore('memory', memoryStore(), baseURL));
  rows.push(await measureStore('sqlite', sqliteStore({ path: join(dir, 'bench.db') }), baseURL));
  rows.push(
    await measureStore('redis', redisStore({ url: REDIS_URL, keyPrefix: `cloudhop-bench-${tag}:` }), baseURL),
  );
  rows.push(
    await measureStore('postgres', postgresStore({ connectionString: DATABASE_URL, schema }), baseURL),
  );
  move = await moveBytes(baseURL);
  heap = await idleSessionHeap();
} finally {
  server.process.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
  if (rows.find((row) => row.store === 'postgres' && !row.skipped)) {
    await dropSchema(schema, DATABASE_URL);
  }
}

const failures: string[] = [];
function verdict(what: string, ratio: number, budget: number): string {
  if (ratio <= budget) return `ok (≤ ×${budget})`;
  failures.push(`${what}: ×${ratio.toFixed(2)} > ×${budget}`);
  return `MISSED (budget ×${budget})`;
}

const sizeLabel = (size: number) => size.toLocaleString('en-US');
console.log(
  `Turn time (median of ${ROUNDS} after ${WARMUP} warm-up rounds) by session length: ${SIZES.map(sizeLabel).join(' / ')} items`,
);
for (const row of rows) {
  if (row.skipped) {
    console.log(`  ${row.store.padEnd(9)} skipped: ${row.skipped}`);
    continue;
  }
  for (const kind of ['stateful', 'stateless'] as const) {
    const medians = row[kind]!;
    const ratios = medians.map((ms) => ms / medians[0]!);
    const check =
      kind === 'stateful'
        ? `10,000 vs 10: ${verdict(`${row.store} stateful at 10,000`, ratios[2]!, BUDGET.statefulAt10k)}`
        : `100,000 vs 1,000: ${verdict(`${row.store} stateless at 100,000`, medians[3]! / medians[1]!, BUDGET.statelessFlat)}`;
    console.log(
      `  ${row.store.padEnd(9)} ${kind.padEnd(9)} ${medians.map((ms) => `${ms.toFixed(2)} ms`).join(' / ')}   ratio to 10: ${ratios.map((r) => `×${r.toFixed(2)}`).join(' / ')}   ${check}`,
    );
  }
}
console.log(
  `First turn of a 10,000-item session, maxInputTokens ${MAX_INPUT_TOKENS}: stateless ${move!.stateless.toLocaleString('en-US')} B, stateful without a handle ${move!.stateful.toLocaleString('en-US')} B   ${verdict('move bytes vs stateless', move!.stateful / move!.stateless, BUDGET.moveBytes)}`,
);
console.log(
  heap === undefined
    ? 'Heap per idle session: run with node --expose-gc (npm run bench:sessions does) to measure it.'
    : `Heap per idle memoryStore session of ${IDLE_SESSION_ITEMS} items: ${(heap / 1024).toFixed(1)} KB (${(heap / IDLE_SESSION_ITEMS).toFixed(0)} B an item)`,
);
if (failures.length > 0) console.log(`Missed: ${failures.join('; ')}`);
process.exitCode = failures.length > 0 ? 1 : 0;
