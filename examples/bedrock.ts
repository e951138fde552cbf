// AWS Bedrock through the Converse API: tools, streaming and structured output, offline on the emulator.
// Run: npx tsx examples/bedrock.ts
// On AWS, drop `endpoint` and `credentials` (the AWS credential chain is used) and pick a model
// your account has access to, e.g. bedrockConverse({ region: 'us-east-1', model: 'anthropic.claude-3-5-sonnet-20240620-v1:0' }).
import * as z from 'zod/v4';
import { bedrockConverse } from '../src/aws.js';
import { startEmulator } from '../src/emulator/index.js';
import { CloudhopError, createAgent, memoryStore, tool } from '../src/index.js';

const emu = await startEmulator({ port: 0 });

const weather = tool({
  name: 'get_weather',
  description: 'Current weather for a city',
  input: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, tempC: 21, sky: 'clear' }),
});

const runtime = bedrockConverse({
  region: 'us-east-1',
  model: 'anthropic.claude-3-5-sonnet-20240620-v1:0',
  endpoint: emu.bedrockEndpoint,
  // The emulator does not check signatures; any well-formed credentials do.
  credentials: { accessKeyId: 'AKIAEMULATOR', secretAccessKey: 'emulator-secret-access-key' },
  inferenceConfig: { maxTokens: 512 },
});

const agent = createAgent({
  runtime,
  store: memoryStore(),
  tools: [weather],
  instructions: 'You are a helpful assistant. Be brief.',
});

try {
  console.log(`runtime: ${runtime.id}`);
  const hello = await agent.run('Hi, my name is Ada.', { session: 'bedrock-demo' });
  console.log(`> ${hello.text}`);

  const stream = agent.stream('Use get_weather for Paris.', { session: 'bedrock-demo' });
  for await (const event of stream) {
    if (event.type === 'tool-call') console.log(`tool call   ${event.name}(${JSON.stringify(event.input)})`);
    if (event.type === 'tool-result') console.log(`tool result ${event.output}`);
    if (event.type === 'text-delta') process.stdout.write(event.delta);
  }
  const streamed = await stream.result;
  console.log(
    `\n(${streamed.usage.requestBytes} request bytes this turn: Converse resends the whole context)`,
  );

  const remembered = await agent.run('What is my name?', { session: 'bedrock-demo' });
  console.log(`> ${remembered.text}`);

  const typed = await agent.run('Extract the city: I live in Paris.', {
    session: 'bedrock-demo',
    output: z.object({ city: z.string() }),
  });
  console.log('structured output:', typed.output);

  // Throttling is an error the agent retries on its own; with retries spent it surfaces like this.
  emu.faults.set({ route: 'converse', status: 429, retryAfterMs: 10, count: 3 });
  try {
    await agent.run('Hello again', { session: 'bedrock-demo' });
  } catch (error) {
    if (!CloudhopError.is(error, 'rate_limited')) throw error;
    console.log(`after retries: ${error.code} (retryAfterMs ${error.retryAfterMs})`);
  }

  console.log('session length:', (await agent.session('bedrock-demo').items()).length, 'items');
} finally {
  await agent.close();
  await emu.close();
}
