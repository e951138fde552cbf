// One of two processes that submit the same turn (same idempotencyKey) to one SQLite session.
import { azureChat } from '../../../src/azure.js';
import { createAgent } from '../../../src/index.js';
import { sqliteStore } from '../../../src/stores/sqlite.js';

const [path, endpoint] = process.argv.slice(2) as [string, string];
const agent = createAgent({
  runtime: azureChat({ endpoint, deployment: 'gpt-4o', apiKey: 'emulator-key' }),
  store: sqliteStore({ path }),
});
const result = await agent.run('Hi, my name is Ada.', { session: 'double', idempotencyKey: 'client-turn-1' });
process.stdout.write(`${result.sessionVersion} ${result.text}\n`);
await agent.close();
