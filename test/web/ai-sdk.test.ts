// The UI message stream and toUIMessages, checked by the Vercel AI SDK itself rather than by a
// re-implementation: its SSE parser and chunk schema (what useChat's DefaultChatTransport uses),
// readUIMessageStream, validateUIMessages and convertToModelMessages, and useChat's own engine
// (AbstractChat) against the web-chat example. `ai` 7 needs Node 22: on Node 20 these tests are
// skipped with a printed reason; CI runs them on Node 22 and 24.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod/v4';
import { startWebChat, type WebChat } from '../../examples/web-chat/server.js';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import {
  CloudhopError,
  createAgent,
  memoryStore,
  type Runtime,
  tool,
  toUIMessages,
} from '../../src/index.js';
import { type Clouds, cloudsOn } from '../integration/helpers.js';
import { scriptedAgent, TOOL_SCRIPT, v1Transcript, v2Transcript, weather } from './helpers.js';

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
const aiRuns = NODE_MAJOR >= 22;
if (!aiRuns) {
  console.warn(
    `Skipping the AI SDK reader tests (test/web/ai-sdk.test.ts): the \`ai\` package (v7) needs Node 22 or later, and this is Node ${process.versions.node}. Run \`npx -y node@22 node_modules/vitest/vitest.mjs run test/web/ai-sdk.test.ts\`; CI runs them on Node 22 and 24.`,
  );
}

type AI = typeof import('ai');
let ai: AI;

/** The assistant message useChat would hold once the response is read: the last one read. */
async function readMessage(response: Response, onError?: (error: unknown) => void): Promise<any> {
  const chunks = ai
    .parseJsonEventStream({ stream: response.body!, schema: ai.uiMessageChunkSchema })
    .pipeThrough(
      new TransformStream<any, any>({
        transform(parsed, controller) {
          // A chunk outside the protocol fails the read, as it fails useChat's transport.
          if (!parsed.success) throw parsed.error;
          controller.enqueue(parsed.value);
        },
      }),
    );
  let message: any;
  for await (const snapshot of ai.readUIMessageStream({ stream: chunks, onError, terminateOnError: false })) {
    message = snapshot;
  }
  return message;
}

describe.skipIf(!aiRuns)('the AI SDK reads the UI message stream', () => {
  beforeAll(async () => {
    ai = await import('ai');
  });

  it('into one assistant message: text, the tool part with input and output, step boundaries, metadata', async () => {
    const { agent } = scriptedAgent(TOOL_SCRIPT);
    const stream = agent.stream('Weather in Paris?', { session: 'ai-1' });
    const message = await readMessage(stream.toUIMessageStreamResponse());
    const result = await stream.result;
    expect(message).toEqual({
      id: expect.any(String),
      role: 'assistant',
      metadata: { runtimeId: 'scripted', sessionVersion: result.sessionVersion, usage: result.usage },
      parts: [
        { type: 'step-start' },
        { type: 'text', text: 'Let me check.', state: 'done' },
        {
          type: 'tool-get_weather',
          toolCallId: 'call_1',
          state: 'output-available',
          input: { city: 'Paris' },
          output: { city: 'Paris', tempC: 21, sky: 'clear' },
        },
        { type: 'step-start' },
        { type: 'text', text: 'It is 21 degrees in Paris.', state: 'done' },
      ],
    });
  });

  it('with a tool that failed as an output-error part', async () => {
    const broken = tool({
      name: 'get_weather',
      input: z.object({ city: z.string() }),
      execute: async () => {
        throw new Error('weather service down');
      },
    });
    const { agent } = scriptedAgent(TOOL_SCRIPT, { tools: [broken] });
    const message = await readMessage(
      agent.stream('Weather?', { session: 'ai-tool-error' }).toUIMessageStreamResponse(),
    );
    expect(message.parts[2]).toEqual({
      type: 'tool-get_weather',
      toolCallId: 'call_1',
      state: 'output-error',
      input: { city: 'Paris' },
      errorText: 'Error: tool "get_weather" failed: weather service down',
    });
  });

  it('reporting a failed turn through its onError, keeping what was shown before', async () => {
    const { agent } = scriptedAgent([
      TOOL_SCRIPT[0]!,
      { error: new CloudhopError('provider_error', 'down') },
    ]);
    const errors: unknown[] = [];
    const message = await readMessage(
      agent.stream('Weather?', { session: 'ai-fail' }).toUIMessageStreamResponse(),
      (error) => errors.push(error),
    );
    expect(errors.map((error) => (error as Error).message)).toEqual(['An error occurred (provider_error).']);
    expect(message.parts.map((part: any) => part.type)).toEqual(['step-start', 'text', 'tool-get_weather']);
    expect(await agent.session('ai-fail').version()).toBe(0);
  });
});

describe.skipIf(!aiRuns)('one conversation over the clouds on the emulator, streamed and reloaded', () => {
  let emu: Emulator;
  let clouds: Clouds;
  beforeAll(async () => {
    ai = await import('ai');
    emu = await startEmulator();
    clouds = cloudsOn(emu);
  });
  afterAll(() => emu?.close());

  it('streams each turn as the message toUIMessages later rebuilds from the store', async () => {
    const store = memoryStore();
    const agentOn = (runtime: Runtime) => createAgent({ runtime, store, tools: [weather] });
    const plan: Array<[Runtime, string, RegExp]> = [
      [clouds.azureChat, 'Hi, my name is Ada.', /^Nice to meet you, Ada\./],
      [clouds.frontier, 'Use get_weather for Paris.', /^The get_weather tool returned: .*"tempC":21/],
      [clouds.bedrockConverse, 'What is my name?', /^Your name is Ada\.$/],
      [clouds.azureResponses, 'Use get_weather for Oslo.', /^The get_weather tool returned: .*Oslo/],
      [clouds.openaiChat, 'What is my name?', /^Your name is Ada\.$/],
    ];
    const streamed: any[] = [];
    for (const [runtime, input, answer] of plan) {
      const message = await readMessage(
        agentOn(runtime).stream(input, { session: 'travel' }).toUIMessageStreamResponse(),
      );
      const texts = message.parts.filter((part: any) => part.type === 'text').map((part: any) => part.text);
      expect(texts.at(-1)).toMatch(answer);
      expect(message.metadata.runtimeId).toBe(runtime.id);
      streamed.push(message);
    }
    expect(streamed[1].parts.find((part: any) => part.type === 'tool-get_weather')).toMatchObject({
      state: 'output-available',
      input: { city: 'Paris' },
      output: { city: 'Paris', tempC: 21, sky: 'clear' },
    });

    const reloaded = toUIMessages(await agentOn(clouds.azureChat).session('travel').items());
    expect(reloaded.map((message) => message.role)).toEqual(plan.flatMap(() => ['user', 'assistant']));
    const answers = reloaded.filter((message) => message.role === 'assistant');
    answers.forEach((answer, i) => {
      expect(answer.parts).toEqual(streamed[i].parts);
      expect(answer.metadata?.runtimeId).toBe(streamed[i].metadata.runtimeId);
    });
    expect(await ai.validateUIMessages({ messages: reloaded })).toHaveLength(plan.length * 2);
  });
});

describe.skipIf(!aiRuns)('toUIMessages', () => {
  beforeAll(async () => {
    ai = await import('ai');
  });

  for (const [name, transcript] of [
    ['v1', v1Transcript],
    ['v2', v2Transcript],
  ] as const) {
    it(`of a ${name} transcript with every item type: messages the AI SDK validates and converts for a model`, async () => {
      const messages = toUIMessages(transcript().items);
      expect(await ai.validateUIMessages({ messages })).toHaveLength(5);
      const model = await ai.convertToModelMessages(messages as any);
      expect(model.map((message) => message.role)).toEqual([
        'system',
        'user',
        'assistant',
        'tool',
        'assistant',
        'user',
        'assistant',
      ]);
      const results = model.find((message) => message.role === 'tool')!.content as any[];
      expect(results.map((part) => [part.toolCallId, part.output.type])).toEqual([
        ['call_a', 'json'],
        ['call_b', 'error-text'],
      ]);
      const user = model[1]!.content as any[];
      expect(user.map((part) => part.type)).toEqual(['text', 'file', 'file']);
    });
  }
});

describe.skipIf(!aiRuns)("useChat's engine against the web-chat example", () => {
  let chat: WebChat;
  beforeAll(async () => {
    ai = await import('ai');
    chat = await startWebChat();
  });
  afterAll(() => chat?.close());

  it('chats over three clouds, and the reloaded transcript is what it showed', async () => {
    class ArrayState {
      status: any = 'ready';
      error: Error | undefined = undefined;
      messages: any[] = [];
      pushMessage = (message: any) => {
        this.messages = [...this.messages, message];
      };
      popMessage = () => {
        this.messages = this.messages.slice(0, -1);
      };
      replaceMessage = (index: number, message: any) => {
        this.messages = this.messages.map((old, i) => (i === index ? message : old));
      };
      snapshot = <T>(value: T): T => structuredClone(value);
    }
    class Chat extends ai.AbstractChat<any> {
      constructor(id: string) {
        super({
          id,
          state: new ArrayState(),
          transport: new ai.DefaultChatTransport({ api: `${chat.url}/api/chat` }),
        });
      }
    }
    const session = new Chat('chat-ada');
    const lastText = () =>
      session.messages
        .at(-1)!
        .parts.filter((part: any) => part.type === 'text')
        .map((part: any) => part.text)
        .at(-1);

    await session.sendMessage({ text: 'Hi, my name is Ada.' }, { body: { cloud: 'azure' } });
    expect(session.status).toBe('ready');
    expect(lastText()).toMatch(/^Nice to meet you, Ada\./);
    await session.sendMessage({ text: 'Use get_weather for Paris.' }, { body: { cloud: 'frontier' } });
    expect(
      session.messages.at(-1)!.parts.find((part: any) => part.type === 'tool-get_weather'),
    ).toMatchObject({
      state: 'output-available',
      output: { city: 'Paris', tempC: 21 },
    });
    await session.sendMessage({ text: 'What is my name?' }, { body: { cloud: 'bedrock' } });
    expect(lastText()).toBe('Your name is Ada.');
    expect(session.messages.at(-1)!.metadata.runtimeId).toMatch(/^bedrock-converse:/);
    expect(session.error).toBeUndefined();

    const { messages } = (await (await fetch(`${chat.url}/api/chats/chat-ada`)).json()) as {
      messages: any[];
    };
    await ai.validateUIMessages({ messages });
    expect(messages.map((message) => message.role)).toEqual(
      session.messages.map((message: any) => message.role),
    );
    const partsOf = (list: any[]) => list.filter((m) => m.role === 'assistant').map((m) => m.parts);
    expect(partsOf(messages)).toEqual(partsOf(session.messages));
  });
});
