// Run as a separate process: opens the SQLite file given on the command line (running the
// migrations like any process starting up) and appends one item to its own session.
import { sqliteStore } from '../../../src/stores/sqlite.js';

const [path, sessionId] = process.argv.slice(2);
const store = sqliteStore({ path: path! });
await store.append(
  { namespace: 'default', sessionId: sessionId! },
  [
    {
      type: 'message',
      id: sessionId!,
      role: 'user',
      content: [{ type: 'text', text: sessionId! }],
      createdAt: new Date().toISOString(),
    },
  ],
  { expectedVersion: 0 },
);
await store.close();
