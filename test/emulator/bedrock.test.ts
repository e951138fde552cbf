import {
  ConverseCommand,
  ConverseStreamCommand,
  type ConverseStreamOutput,
  type Message,
  type Tool,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { bedrockClient, weatherTool } from './helpers.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(() => emu.close());

const MODEL = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
const tools: Tool[] = [
  {
    toolSpec: {
      name: weatherTool.name,
      description: weatherTool.description,
      inputSchema: { json: weatherTool.parameters as never },
    },
  },
];

async function collect(
  stream: AsyncIterable<ConverseStreamOutput> | undefined,
): Promise<ConverseStreamOutput[]> {
  const events: ConverseStreamOutput[] = [];
  for await (const event of stream ?? []) events.push(event);
  return events;
}

function eventNames(events: ConverseStreamOutput[]): string[] {
  return events.map((event) => Object.keys(event).find((key) => key !== '$unknown')!);
}

describe.each([
  ['the default HTTP/2 handler', false],
  ['NodeHttpHandler (HTTP/1.1)', true],
])('Bedrock Converse with %s', (_label, http1) => {
  it('answers Converse with usage and metrics', async () => {
    const client = bedrockClient(emu, { http1 });
    const response = await client.send(
      new ConverseCommand({
        modelId: MODEL,
        system: [{ text: 'Be brief.' }],
        messages: [{ role: 'user', content: [{ text: 'Hello Bedrock' }] }],
      }),
    );
    expect(response.output?.message?.content?.[0]?.text).toBe('Echo: Hello Bedrock (context: 1 message)');
    expect(response.stopReason).toBe('end_turn');
    expect(response.usage?.inputTokens).toBeGreaterThan(0);
    expect(response.usage?.totalTokens).toBe(
      (response.usage?.inputTokens ?? 0) + (response.usage?.outputTokens ?? 0),
    );
    expect(response.metrics?.latencyMs).toBeGreaterThanOrEqual(0);
    client.destroy();
  });

  it('remembers a name from the messages the request carries', async () => {
    const client = bedrockClient(emu, { http1 });
    const messages: Message[] = [
      { role: 'user', content: [{ text: 'my name is Ada' }] },
      { role: 'assistant', content: [{ text: 'Hello Ada.' }] },
      { role: 'user', content: [{ text: 'What is my name?' }] },
    ];
    const response = await client.send(new ConverseCommand({ modelId: MODEL, messages }));
    expect(response.output?.message?.content?.[0]?.text).toBe('Your name is Ada.');
    client.destroy();
  });

  it('calls a named tool and answers from its toolResult', async () => {
    const client = bedrockClient(emu, { http1 });
    const question: Message = { role: 'user', content: [{ text: 'Use get_weather for Madrid.' }] };
    const first = await client.send(
      new ConverseCommand({ modelId: MODEL, messages: [question], toolConfig: { tools } }),
    );
    expect(first.stopReason).toBe('tool_use');
    const toolUse = first.output?.message?.content?.[0]?.toolUse;
    expect(toolUse?.toolUseId).toMatch(/^tooluse_[A-Za-z0-9]{22}$/);
    expect(toolUse?.input).toEqual({ city: 'Madrid', unit: 'celsius' });

    const second = await client.send(
      new ConverseCommand({
        modelId: MODEL,
        toolConfig: { tools },
        messages: [
          question,
          first.output!.message!,
          {
            role: 'user',
            content: [{ toolResult: { toolUseId: toolUse!.toolUseId!, content: [{ json: { tempC: 30 } }] } }],
          },
        ],
      }),
    );
    expect(second.output?.message?.content?.[0]?.text).toBe('The get_weather tool returned: {"tempC":30}');
    client.destroy();
  });

  it('answers a forced tool choice by calling that tool (structured output)', async () => {
    const client = bedrockClient(emu, { http1 });
    const response = await client.send(
      new ConverseCommand({
        modelId: MODEL,
        messages: [{ role: 'user', content: [{ text: 'Extract the city: I live in Porto.' }] }],
        toolConfig: {
          tools: [
            {
              toolSpec: {
                name: 'extract',
                inputSchema: {
                  json: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
                },
              },
            },
          ],
          toolChoice: { tool: { name: 'extract' } },
        },
      }),
    );
    expect(response.output?.message?.content?.[0]?.toolUse).toMatchObject({
      name: 'extract',
      input: { city: 'Porto' },
    });
    client.destroy();
  });

  it('streams text: messageStart, deltas without contentBlockStart, stop, messageStop, metadata last', async () => {
    const client = bedrockClient(emu, { http1 });
    const response = await client.send(
      new ConverseStreamCommand({
        modelId: MODEL,
        messages: [{ role: 'user', content: [{ text: 'Stream some words for me' }] }],
      }),
    );
    const events = await collect(response.stream);
    const names = eventNames(events);
    expect(names[0]).toBe('messageStart');
    expect(names).not.toContain('contentBlockStart');
    expect(names.slice(-3)).toEqual(['contentBlockStop', 'messageStop', 'metadata']);
    const deltas = events.flatMap((event) =>
      event.contentBlockDelta?.delta?.text ? [event.contentBlockDelta.delta.text] : [],
    );
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe('Echo: Stream some words for me (context: 1 message)');
    expect(events.at(-2)?.messageStop?.stopReason).toBe('end_turn');
    expect(events.at(-1)?.metadata?.usage?.totalTokens).toBeGreaterThan(0);
    expect(events.at(-1)?.metadata?.metrics?.latencyMs).toBeGreaterThanOrEqual(0);
    client.destroy();
  });

  it('streams tool use: contentBlockStart with the tool, then input as JSON string fragments', async () => {
    const client = bedrockClient(emu, { http1 });
    const response = await client.send(
      new ConverseStreamCommand({
        modelId: MODEL,
        messages: [{ role: 'user', content: [{ text: 'Use get_weather for Athens in fahrenheit.' }] }],
        toolConfig: { tools },
      }),
    );
    const events = await collect(response.stream);
    const start = events.find((event) => event.contentBlockStart)?.contentBlockStart;
    expect(start?.start?.toolUse?.name).toBe('get_weather');
    expect(start?.start?.toolUse?.toolUseId).toMatch(/^tooluse_/);
    const fragments = events.flatMap((event) =>
      event.contentBlockDelta?.delta?.toolUse?.input ? [event.contentBlockDelta.delta.toolUse.input] : [],
    );
    expect(fragments.length).toBeGreaterThan(1);
    expect(JSON.parse(fragments.join(''))).toEqual({ city: 'Athens', unit: 'fahrenheit' });
    expect(events.find((event) => event.messageStop)?.messageStop?.stopReason).toBe('tool_use');
    expect(eventNames(events).at(-1)).toBe('metadata');
    client.destroy();
  });

  it('rejects a conversation that does not alternate roles with a ValidationException', async () => {
    const client = bedrockClient(emu, { http1 });
    const error = await client
      .send(
        new ConverseCommand({
          modelId: MODEL,
          messages: [
            { role: 'user', content: [{ text: 'one' }] },
            { role: 'user', content: [{ text: 'two' }] },
          ],
        }),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationException);
    expect((error as ValidationException).message).toContain('alternate');
    expect((error as ValidationException).$metadata.httpStatusCode).toBe(400);
    client.destroy();
  });
});

describe('Bedrock request checks', () => {
  it('rejects tool blocks without a toolConfig, and toolUse left without a toolResult', async () => {
    const client = bedrockClient(emu);
    const toolUseTurn: Message = {
      role: 'assistant',
      content: [{ toolUse: { toolUseId: 'tooluse_abc', name: 'get_weather', input: {} } }],
    };
    const noConfig = await client
      .send(
        new ConverseCommand({
          modelId: MODEL,
          messages: [
            { role: 'user', content: [{ text: 'Use get_weather' }] },
            toolUseTurn,
            {
              role: 'user',
              content: [{ toolResult: { toolUseId: 'tooluse_abc', content: [{ text: 'sunny' }] } }],
            },
          ],
        }),
      )
      .catch((e: unknown) => e);
    expect((noConfig as Error).message).toContain('toolConfig');

    const missingResult = await client
      .send(
        new ConverseCommand({
          modelId: MODEL,
          toolConfig: { tools },
          messages: [
            { role: 'user', content: [{ text: 'Use get_weather' }] },
            toolUseTurn,
            { role: 'user', content: [{ text: 'never mind' }] },
          ],
        }),
      )
      .catch((e: unknown) => e);
    expect((missingResult as Error).message).toContain('tooluse_abc');
    client.destroy();
  });
});

describe('Bedrock tool names and ids in the history', () => {
  const history = (name: string, toolUseId = 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q'): Message[] => [
    { role: 'user', content: [{ text: 'What is the most popular song on WZPZ?' }] },
    { role: 'assistant', content: [{ toolUse: { toolUseId, name, input: { sign: 'WZPZ' } } }] },
    { role: 'user', content: [{ toolResult: { toolUseId, content: [{ text: 'Elemental Hotel' }] } }] },
  ];
  const topSong: Tool[] = [
    { toolSpec: { name: 'top_song', inputSchema: { json: { type: 'object' } as never } } },
  ];

  it.each([
    [
      'a name with a dot',
      'functions.lookup',
      'messages.1.content.0.toolUse.name',
      'regular expression pattern',
    ],
    [
      'a name over 64 characters',
      'x'.repeat(65),
      'messages.1.content.0.toolUse.name',
      'length less than or equal to 64',
    ],
  ])(
    'rejects a toolUse with %s, as Bedrock does, even when toolConfig is fine',
    async (_, name, where, rule) => {
      const client = bedrockClient(emu);
      const error = await client
        .send(
          new ConverseCommand({ modelId: MODEL, toolConfig: { tools: topSong }, messages: history(name) }),
        )
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationException);
      expect((error as ValidationException).message).toContain(where);
      expect((error as ValidationException).message).toContain(rule);
      client.destroy();
    },
  );

  it('rejects a toolUseId outside [a-zA-Z0-9_-], as the Smithy model does', async () => {
    const client = bedrockClient(emu);
    const error = await client
      .send(
        new ConverseCommand({
          modelId: MODEL,
          toolConfig: { tools: topSong },
          messages: history('top_song', 'functions.top_song:0'),
        }),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationException);
    expect((error as ValidationException).message).toContain('messages.1.content.0.toolUse.toolUseId');
    client.destroy();
  });

  it('accepts the AWS user-guide history with its tooluse_ id', async () => {
    const client = bedrockClient(emu);
    const answer = await client.send(
      new ConverseCommand({ modelId: MODEL, toolConfig: { tools: topSong }, messages: history('top_song') }),
    );
    expect(answer.stopReason).toBe('end_turn');
    client.destroy();
  });
});
