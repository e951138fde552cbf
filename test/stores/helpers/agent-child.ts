// Run as a separate process: runs turns through the Agent on one shared session, so that two of
// these at once show whether turns from different processes interleave or get lost.
import * as z from 'zod/v4';
import type { Item } from '../../../src/core/items.js';
import type { SessionStore } from '../../../src/core/store.js';
import { createAgent, tool } from '../../../src/index.js';
import { postgresStore } from '../../../src/stores/postgres.js';
import { redisStore } from '../../../src/stores/redis.js';
import { sqliteStore } from '../../../src/stores/sqlite.js';
import { scriptedRuntime } from '../../../src/testing/index.js';
import { DATABASE_URL, REDIS_URL } from './services.js';

const [kind, target, worker, turns] = process.argv.slice(2) as [string, string, string, string];

function openStore(): SessionStore {
  if (kind === 'sqlite') return sqliteStore({ path: target });
  if (kind === 'redis') return redisStore({ url: REDIS_URL, keyPrefix: target });
  return postgresStore({ connectionString: DATABASE_URL, schema: target });
}

function lastUserText(items: Item[]): string {
  for (let index = items.length - 1; index >= 0; index--) {
    const item = items[index]!;
    if (item.type === 'message' && item.role === 'user' && item.content[0]?.type === 'text')
      return item.content[0].text;
  }
  throw new Error('no user message in the request');
}

const echo = tool({
  name: 'echo',
  description: 'Echoes the text back',
  input: z.object({ text: z.string() }),
  execute: async ({ text }) => ({ echoed: text }),
});

// Each turn is a tool round-trip: user message, tool call, tool result, answer — four items that
// must stay together. The small delays widen the window in which another process could butt in.
const runtime = scriptedRuntime((request) => {
  const input = lastUserText(request.items);
  const last = request.items[request.items.length - 1];
  return last?.type === 'tool_result'
    ? { text: `done ${input}`, delayMs: 2 }
    : { toolCalls: [{ name: 'echo', arguments: { text: input } }], delayMs: 2 };
});

const agent = createAgent({ runtime, store: openStore(), tools: [echo] });
for (let turn = 1; turn <= Number(turns); turn++) {
  await agent.run(`${worker}-${String(turn).padStart(3, '0')}`, { session: 'shared' });
}
await agent.close();
