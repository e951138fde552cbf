// A long session: 10,000 items imported, compacted into a portable summary, then moved across the
// three clouds. Each turn sends a bounded context, and a fact from the session's start survives.
//
//   npx tsx examples/long-session.ts
//
// Offline: it starts the built-in emulator in-process, whose model summarizes deterministically
// and keeps the facts it remembers ("my name is …").
import { bedrockConverse, frontier } from '../src/aws.js';
import { azureChat } from '../src/azure.js';
import { startEmulator } from '../src/emulator/index.js';
import { createAgent, type Item, importSession, memoryStore, type Runtime } from '../src/index.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const emulator = await startEmulator({ port: 0 });
const fakeAws = { accessKeyId: 'AKIDEMULATOR00000000', secretAccessKey: 'emulator-secret-access-key' };
const clouds: Array<[string, Runtime]> = [
  [
    'Azure chat',
    azureChat({ endpoint: emulator.azureEndpoint, deployment: 'gpt-4o', apiKey: 'emulator-key' }),
  ],
  [
    'AWS frontier',
    frontier({
      region: 'us-east-1',
      model: 'openai.gpt-oss-120b',
      baseURL: emulator.openaiBaseURL,
      credentials: fakeAws,
    }),
  ],
  [
    'AWS Bedrock Converse',
    bedrockConverse({
      region: 'us-east-1',
      model: 'openai.gpt-oss-120b-1:0',
      endpoint: emulator.bedrockEndpoint,
      credentials: fakeAws,
    }),
  ],
];

/** A long history: the user's name first, then thousands of rounds about the weather. */
function history(count: number): Item[] {
  const createdAt = new Date().toISOString();
  const items: Item[] = [
    {
      type: 'message',
      id: 'intro',
      role: 'user',
      content: [{ type: 'text', text: 'Hi, my name is Ada.' }],
      createdAt,
    },
  ];
  for (let round = 0; items.length < count; round++) {
    const callId = `call_${round}`;
    items.push(
      {
        type: 'message',
        id: `q${round}`,
        role: 'user',
        content: [{ type: 'text', text: `Weather in city ${round}?` }],
        createdAt,
      },
      {
        type: 'tool_call',
        id: `c${round}`,
        callId,
        name: 'get_weather',
        arguments: `{"city":"City ${round}"}`,
        createdAt,
      },
      { type: 'tool_result', id: `r${round}`, callId, output: '{"tempC":21,"sky":"clear"}', createdAt },
      {
        type: 'message',
        id: `a${round}`,
        role: 'assistant',
        content: [{ type: 'text', text: `It is 21 °C and clear in City ${round}.` }],
        createdAt,
      },
    );
  }
  return items.slice(0, count);
}

const store = memoryStore();
const items = history(10_000);
await importSession(store, {
  format: 'cloudhop.transcript/v2',
  namespace: 'default',
  sessionId: 'long',
  exportedAt: new Date().toISOString(),
  items,
  bindings: {},
});
console.log(
  `Imported a session of ${items.length.toLocaleString('en-US')} items; the user gave their name in item 1.`,
);

const agent = createAgent({
  runtime: clouds[0]![1],
  store,
  instructions: 'You are a helpful assistant.',
  // Requests carry at most ~8,000 tokens; past 6,000 the oldest part is summarized, and the newest
  // ~1,500 tokens stay word for word.
  context: { maxInputTokens: 8_000, compaction: { triggerTokens: 6_000, keepRecentTokens: 1_500 } },
});

for (const [name, runtime] of clouds) {
  const stream = agent.withRuntime(runtime).stream('What is my name?', { session: 'long' });
  for await (const event of stream) {
    if (event.type === 'compacted') {
      console.log(
        `  compacted items ${event.fromVersion}–${event.toVersion - 1} into one summary (written by ${event.runtimeId})`,
      );
    }
  }
  const result = await stream.result;
  console.log(
    `${name.padEnd(21)} "${result.text}"  sent ${result.usage.requestBytes.toLocaleString('en-US')} B${result.items[0]?.type === 'summary' ? ' (the one-time summary of the old items included)' : ''}`,
  );
}

const session = agent.session('long');
const [summary] = await session.items({ fromVersion: items.length, limit: 1 });
if (summary?.type === 'summary') console.log(`The summary, stored in the session: ${summary.text}`);
const newest = await session.items({ limit: 2 });
console.log(
  `The session holds ${(await session.version()).toLocaleString('en-US')} items; the newest: ${newest
    .map((item) =>
      item.type === 'message' && item.content[0]?.type === 'text'
        ? `${item.role}: ${item.content[0].text}`
        : item.type,
    )
    .join(' / ')}`,
);

await agent.close();
await emulator.close();
