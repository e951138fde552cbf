// Run as a separate process: one turn whose lease release keeps failing, then nothing. The process
// must exit by itself: the release retries left behind do not keep it alive.
import type { Lease, SessionStore } from '../../../src/core/store.js';
import { createAgent } from '../../../src/index.js';
import { sqliteStore } from '../../../src/stores/sqlite.js';
import { scriptedRuntime } from '../../../src/testing/index.js';

const [path] = process.argv.slice(2) as [string];
const inner = sqliteStore({ path });
const store = Object.assign(Object.create(inner) as SessionStore, {
  async lock(...args: Parameters<SessionStore['lock']>) {
    const lease = await inner.lock(...args);
    return Object.assign(Object.create(lease) as Lease, {
      release: async () => {
        process.stdout.write('RELEASE_FAILED\n');
        throw new Error('connection refused');
      },
    });
  },
});
const agent = createAgent({ runtime: scriptedRuntime(['done']), store, lockTtlMs: 600_000 });
const result = await agent.run('Hello', { session: 'exits' });
process.stdout.write(`${result.text}\n`);
