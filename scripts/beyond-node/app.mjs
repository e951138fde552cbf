// The app the beyond-Node tests run (test/beyond-node/): it imports `cloudhop`, `cloudhop/openai`
// and `cloudhop/azure` as a user's app does, and talks to the emulator over HTTP with the
// runtime's own fetch. The Edge VM and workerd run it bundled with esbuild; Node and Bun import
// the built files as they are.
import { createAgent, memoryStore, tool } from 'cloudhop';
import { azureChat, azureResponses } from 'cloudhop/azure';
import { openaiChat, openaiResponses } from 'cloudhop/openai';
import * as z from 'zod/v4';

// Multi-byte text in the tool's output (2-, 3- and 4-byte UTF-8), so the request bodies that carry
// it back to the model are counted by the runtime's own byte counting.
const weather = tool({
  name: 'get_weather',
  description: 'Current weather for a city',
  input: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, sky: 'clear 🌤', temperature: '21 °C', note: '晴れ' }),
});

const tick = tool({
  name: 'tick',
  description: 'Counts one',
  input: z.object({ n: z.number() }),
  execute: ({ n }) => `tick ${n}`,
});

/**
 * On each of the four OpenAI-protocol runtimes: a turn with a tool call, then a streamed turn on
 * the same session that needs the first one's history. Then one long turn (the emulator's
 * "Count to N with tick." calls the tick tool N times). Returns a JSON-safe report.
 * @param {{ openaiBaseURL: string; azureEndpoint: string }} emulator
 */
export async function converse({ openaiBaseURL, azureEndpoint }) {
  const runtimes = {
    openaiChat: openaiChat({ baseURL: openaiBaseURL, model: 'gpt-4o', apiKey: 'sk-beyond-node' }),
    openaiResponses: openaiResponses({ baseURL: openaiBaseURL, model: 'gpt-5', apiKey: 'sk-beyond-node' }),
    azureChat: azureChat({ endpoint: azureEndpoint, deployment: 'gpt-4o', apiKey: 'azure-beyond-node' }),
    azureResponses: azureResponses({ endpoint: azureEndpoint, model: 'gpt-5', apiKey: 'azure-beyond-node' }),
  };
  const store = memoryStore();
  const report = { runtimes: {} };
  for (const [name, runtime] of Object.entries(runtimes)) {
    const agent = createAgent({ runtime, store, tools: [weather] });
    const session = `beyond-node-${name}`;
    const first = await agent.run('My name is Ada. Use get_weather for Paris.', { session });
    const stream = agent.stream('What is my name?', { session });
    let streamed = '';
    for await (const event of stream) if (event.type === 'text-delta') streamed += event.delta;
    const second = await stream.result;
    report.runtimes[name] = {
      runtimeId: first.runtimeId,
      answers: [first.text, second.text],
      streamed,
      toolCalls: first.items.filter((item) => item.type === 'tool_call').map((item) => item.name),
      requestBytes: first.usage.requestBytes + second.usage.requestBytes,
    };
  }
  // With a signal (a server passes its request's), each request of the turn watches it.
  const counter = createAgent({ runtime: runtimes.openaiChat, store, tools: [tick], maxSteps: 50 });
  const long = await counter.run('Count to 12 with tick.', {
    session: 'beyond-node-long',
    signal: new AbortController().signal,
  });
  report.long = {
    text: long.text,
    ticks: long.items.filter((item) => item.type === 'tool_call').length,
    requestBytes: long.usage.requestBytes,
  };
  return report;
}

/** What constructing each runtime without endpoint or key says: they fall back to the environment, where there is one. */
export function missingCredentials() {
  const attempts = {
    openaiChat: () => openaiChat({ model: 'gpt-4o' }),
    openaiResponses: () => openaiResponses({ model: 'gpt-5' }),
    azureChat: () => azureChat({ deployment: 'gpt-4o' }),
    azureChatKey: () => azureChat({ endpoint: 'https://example.openai.azure.com', deployment: 'gpt-4o' }),
  };
  return Object.fromEntries(
    Object.entries(attempts).map(([name, attempt]) => {
      try {
        return [name, `constructed ${attempt().id}`];
      } catch (error) {
        return [name, `${error.code ?? error.name}: ${error.message}`];
      }
    }),
  );
}
