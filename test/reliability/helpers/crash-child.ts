// Run as a separate process: starts a turn whose tool never finishes, says so on stdout, and waits
// to be killed. The parent SIGKILLs it mid-turn to see how long the session stays blocked.
import * as z from 'zod/v4';
import type { SessionStore } from '../../../src/core/store.js';
import { createAgent, tool } from '../../../src/index.js';
import { postgresStore } from '../../../src/stores/postgres.js';
import { redisStore } from '../../../src/stores/redis.js';
import { sqliteStore } from '../../../src/stores/sqlite.js';
import { scriptedRuntime } from '../../../src/testing/index.js';
import { DATABASE_URL, REDIS_URL } from '../../stores/helpers/services.js';

const [kind, target, session, lockTtlMs] = process.argv.slice(2) as [string, string, string, string];

function openStore(): SessionStore {
  if (kind === 'sqlite') return sqliteStore({ path: target });
  if (kind === 'redis') return redisStore({ url: REDIS_URL, keyPrefix: target });
  return postgresStore({ connectionString: DATABASE_URL, schema: target });
}

const stuck = tool({
  name: 'stuck',
  description: 'Never returns',
  input: z.object({}),
  execute: () => {
    process.stdout.write('TOOL_STARTED\n');
    // Like a tool waiting on a slow service: the process stays up until it is killed.
    setInterval(() => {}, 60_000);
    return new Promise(() => {});
  },
});

const agent = createAgent({
  runtime: scriptedRuntime([{ toolCalls: [{ name: 'stuck', arguments: {} }] }, 'never reached']),
  store: openStore(),
  tools: [stuck],
  lockTtlMs: Number(lockTtlMs),
});
await agent.run('Start the long job', { session });
