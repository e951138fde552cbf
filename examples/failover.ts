// A turn survives an outage of the first cloud: Azure starts failing, the turn moves to AWS with the
// whole conversation, and once Azure is back the next turns return to it.
// Run: npx tsx examples/failover.ts   (offline, on the emulator)
import { frontier } from '../src/aws.js';
import { azureChat } from '../src/azure.js';
import { startEmulator } from '../src/emulator/index.js';
import { createAgent, failover, memoryStore } from '../src/index.js';

const emu = await startEmulator({ port: 0 });
const agent = createAgent({
  runtime: failover(
    [
      azureChat({ endpoint: emu.azureEndpoint, deployment: 'gpt-4o', apiKey: 'emulator-key' }),
      frontier({
        region: 'us-east-1',
        model: 'openai.gpt-oss-120b',
        baseURL: emu.openaiBaseURL,
        auth: { apiKey: 'emulator-key' },
      }),
    ],
    { cooldownMs: 1_000, failureThreshold: 1 },
  ),
  store: memoryStore(),
  retry: { maxRetries: 1, initialDelayMs: 50 },
});

async function turn(input: string): Promise<void> {
  const stream = agent.stream(input, { session: 'failover-demo' });
  for await (const event of stream) {
    if (event.type === 'retry')
      console.log(`  retry ${event.attempt} in ${event.delayMs} ms after ${event.error.code}`);
    if (event.type === 'failover')
      console.log(`  failover ${event.from} -> ${event.to} (${event.error.code})`);
  }
  const result = await stream.result;
  console.log(`you: ${input}\n  ${result.runtimeId} answered: ${result.text}\n`);
}

await turn('Hi, my name is Ada.');
console.log('-- Azure starts answering 503 --');
emu.faults.set({ route: 'chat', status: 503 });
await turn('What is my name?');
console.log('-- Azure recovers; after the cooldown the next turn goes back to it --');
emu.faults.clear();
await new Promise((resolve) => setTimeout(resolve, 1_100));
await turn('What is my name?');
console.log(`transcript: ${(await agent.session('failover-demo').items()).length} items, nothing lost.`);
await agent.close();
await emu.close();
