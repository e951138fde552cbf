// The main demo (`npm run demo`): one conversation moves Azure → AWS (stateful) → AWS Bedrock
// Converse → Azure, with a tool call on the way, and nothing is lost.
//
// Offline by default: it starts the built-in emulator in-process. Set these to use real clouds
// instead (each runtime independently):
//   AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY, AZURE_OPENAI_DEPLOYMENT   → azureChat
//   FRONTIER_REGION, FRONTIER_MODEL (+ the AWS credential chain, or AWS_BEARER_TOKEN_BEDROCK) → frontier
//   BEDROCK_REGION, BEDROCK_MODEL (+ the AWS credential chain)             → bedrockConverse
import * as z from 'zod/v4';
import { bedrockConverse, frontier } from '../src/aws.js';
import { azureChat } from '../src/azure.js';
import { startEmulator } from '../src/emulator/index.js';
import { createAgent, memoryStore, type Runtime, tool } from '../src/index.js';

// The AWS SDK warns about Node 20 at first use; the demo's output is about the conversation.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const env = process.env;
const emulator = await startEmulator({ port: 0 });
// The emulator accepts any credentials; these fake ones make the AWS runtimes sign with SigV4.
const fakeAws = { accessKeyId: 'AKIDEMULATOR00000000', secretAccessKey: 'emulator-secret-access-key' };

const onAzure: Runtime = env.AZURE_OPENAI_ENDPOINT
  ? azureChat({
      endpoint: env.AZURE_OPENAI_ENDPOINT,
      deployment: env.AZURE_OPENAI_DEPLOYMENT ?? 'gpt-4o',
      apiKey: env.AZURE_OPENAI_API_KEY ?? '',
    })
  : azureChat({ endpoint: emulator.azureEndpoint, deployment: 'gpt-4o', apiKey: 'emulator-key' });

const onFrontier: Runtime = env.FRONTIER_MODEL
  ? frontier({
      region: env.FRONTIER_REGION ?? 'us-east-1',
      model: env.FRONTIER_MODEL,
      ...(env.AWS_BEARER_TOKEN_BEDROCK ? { auth: { apiKey: env.AWS_BEARER_TOKEN_BEDROCK } } : {}),
    })
  : frontier({
      region: 'us-east-1',
      model: 'openai.gpt-oss-120b',
      baseURL: emulator.openaiBaseURL,
      credentials: fakeAws,
    });

const onBedrock: Runtime = env.BEDROCK_MODEL
  ? bedrockConverse({ region: env.BEDROCK_REGION ?? 'us-east-1', model: env.BEDROCK_MODEL })
  : bedrockConverse({
      region: 'us-east-1',
      model: 'openai.gpt-oss-120b-1:0',
      endpoint: emulator.bedrockEndpoint,
      credentials: fakeAws,
    });

const weather = tool({
  name: 'get_weather',
  description: 'Current weather for a city',
  input: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, tempC: 21, sky: 'clear' }),
});

const store = memoryStore();
const agent = createAgent({
  runtime: onAzure,
  store,
  tools: [weather],
  instructions: 'You are a helpful assistant.',
});

const plan: Array<[Runtime, string]> = [
  [onAzure, 'Hi, my name is Ada.'],
  [onAzure, 'Use get_weather for Paris.'],
  [onFrontier, 'What is my name?'],
  [onFrontier, 'Use get_weather for Oslo.'],
  [onBedrock, 'What is my name?'],
  [onAzure, 'What is my name?'],
];

console.log(
  `cloudhop demo — ${env.AZURE_OPENAI_ENDPOINT || env.FRONTIER_MODEL || env.BEDROCK_MODEL ? 'real endpoints where configured, emulator elsewhere' : `offline, emulator at ${emulator.url}`}\n`,
);
for (const [runtime, input] of plan) {
  const stream = agent.withRuntime(runtime).stream(input, { session: 'demo-user' });
  const tools: string[] = [];
  for await (const event of stream) {
    if (event.type === 'tool-call') tools.push(`${event.name}(${JSON.stringify(event.input)})`);
    if (event.type === 'session-reseeded') tools.push(`reseeded: ${event.reason}`);
  }
  const result = await stream.result;
  console.log(`[${runtime.kind.padEnd(9)}] ${runtime.id}`);
  console.log(`  you:   ${input}`);
  if (tools.length) console.log(`  tools: ${tools.join(', ')}`);
  console.log(`  model: ${result.text}`);
  console.log(
    `  sent ${result.usage.requestBytes} request bytes; session at version ${result.sessionVersion}\n`,
  );
}

const items = await agent.session('demo-user').items();
const count = (type: string) => items.filter((item) => item.type === type).length;
console.log(
  `transcript: ${items.length} items (${count('message')} messages, ${count('tool_call')} tool calls, ${count('tool_result')} tool results), one store, three clouds.`,
);
await agent.close();
await emulator.close();
