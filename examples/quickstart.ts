// The smallest cloudhop program: one agent, one tool, one structured output, no network.
// Run: npx tsx examples/quickstart.ts
import * as z from 'zod/v4';
import { createAgent, memoryStore, tool } from '../src/index.js';
import { scriptedRuntime } from '../src/testing/index.js';

const weather = tool({
  name: 'get_weather',
  description: 'Current weather for a city',
  input: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, tempC: 21, sky: 'clear' }),
});

// A scripted runtime stands in for a cloud so this runs offline; swap in azureChat(...) or frontier(...).
const runtime = scriptedRuntime((request, step) => {
  if (step === 0) return { toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] };
  if (step === 1) {
    const result = request.items.findLast((item) => item.type === 'tool_result');
    return `Paris: ${result?.type === 'tool_result' ? result.output : 'unknown'}`;
  }
  return '{"city":"Paris","country":"France"}';
});

const agent = createAgent({ runtime, store: memoryStore(), tools: [weather], instructions: 'Be brief.' });

const stream = agent.stream('What is the weather in Paris?', { session: 'quickstart' });
for await (const event of stream) {
  if (event.type === 'tool-call') console.log(`tool call  ${event.name}(${JSON.stringify(event.input)})`);
  if (event.type === 'tool-result') console.log(`tool result ${event.output}`);
  if (event.type === 'text-delta') process.stdout.write(event.delta);
}
console.log();

const typed = await agent.run('Where is that? Answer as JSON.', {
  session: 'quickstart',
  output: z.object({ city: z.string(), country: z.string() }),
});
console.log('structured output:', typed.output);
console.log('session length:', (await agent.session('quickstart').items()).length, 'items');
await agent.close();
