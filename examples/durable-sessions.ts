/**
 * A conversation that survives a restart: each turn below runs in its own process, and the second
 * process knows what was said in the first only because the store kept it.
 *
 *   npx tsx examples/durable-sessions.ts                          # SQLite in a temporary file
 *   npx tsx examples/durable-sessions.ts redis://127.0.0.1:6379    # or Redis
 *   CLOUDHOP_STORE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx examples/durable-sessions.ts
 *
 * Offline: the model is a scripted one that reads its context the way a real model would.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAgent, type Item, type SessionStore } from '../src/index.js';
import { postgresStore } from '../src/stores/postgres.js';
import { redisStore } from '../src/stores/redis.js';
import { sqliteStore } from '../src/stores/sqlite.js';
import { scriptedRuntime } from '../src/testing/index.js';

function openStore(url: string): SessionStore {
  if (url.startsWith('sqlite:')) return sqliteStore({ path: url.slice('sqlite:'.length) });
  if (/^rediss?:\/\//.test(url)) return redisStore({ url });
  if (/^postgres(ql)?:\/\//.test(url)) return postgresStore({ connectionString: url });
  throw new Error(`Unsupported store URL "${url}": use sqlite:PATH, redis://… or postgres://…`);
}

const userTexts = (items: Item[]) =>
  items.flatMap((item) =>
    item.type === 'message' && item.role === 'user'
      ? item.content.flatMap((part) => (part.type === 'text' ? [part.text] : []))
      : [],
  );

/** Answers from whatever history the agent sends it: nothing is remembered in the runtime itself. */
const model = scriptedRuntime((request) => {
  const said = userTexts(request.items);
  const name = said
    .map((text) => /my name is (\w+)/i.exec(text)?.[1])
    .filter(Boolean)
    .pop();
  const question = said[said.length - 1] ?? '';
  if (/what is my name/i.test(question))
    return name ? `Your name is ${name}.` : 'You have not told me your name.';
  return name ? `Nice to meet you, ${name}!` : 'Hello!';
});

/** One process's life: open the store, run one turn, close everything. */
async function runOneTurn(storeUrl: string, session: string, input: string): Promise<void> {
  const agent = createAgent({ runtime: model, store: openStore(storeUrl) });
  const result = await agent.run(input, { session });
  console.log(`  [pid ${process.pid}] you: ${input}`);
  console.log(`  [pid ${process.pid}] agent: ${result.text}   (session version ${result.sessionVersion})`);
  await agent.close();
}

const [first, ...rest] = process.argv.slice(2);
if (first === '--turn') {
  const [storeUrl, session, input] = rest as [string, string, string];
  await runOneTurn(storeUrl, session, input);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'cloudhop-durable-'));
  const storeUrl = first ?? process.env.CLOUDHOP_STORE_URL ?? `sqlite:${join(dir, 'sessions.db')}`;
  const session = `durable-demo-${Date.now()}`;
  console.log(`Store: ${storeUrl.replace(/\/\/[^@/]*@/, '//***@')}   session: ${session}`);
  try {
    for (const input of ['Hi! My name is Ada.', 'What is my name?']) {
      // A fresh process per turn: the only memory between them is the store.
      execFileSync(
        process.execPath,
        [...process.execArgv, fileURLToPath(import.meta.url), '--turn', storeUrl, session, input],
        {
          stdio: 'inherit',
        },
      );
    }
  } finally {
    const store = openStore(storeUrl);
    await store.delete({ namespace: 'default', sessionId: session });
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
