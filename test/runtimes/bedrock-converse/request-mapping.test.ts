import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bedrockConverse } from '../../../src/aws.js';
import { createItem, type Item, type MessageItem, type ReasoningItem } from '../../../src/core/items.js';
import { byteLength } from '../../../src/core/usage.js';
import {
  assistant,
  converseBody,
  converseFixture,
  converseUrl,
  MODEL,
  REGION,
  stepContext,
  stepRequest,
  testClient,
  toolCall,
  toolResult,
  user,
} from './helpers.js';

interface Captured {
  url: string;
  body: any;
  rawBody: string;
}

const captured: Captured[] = [];
let reply: () => Record<string, unknown> = () => converseBody([{ text: 'ok' }]);

const server = setupServer(
  http.post(converseUrl(), async ({ request }) => {
    const rawBody = await request.text();
    captured.push({ url: request.url, body: JSON.parse(rawBody), rawBody });
    return HttpResponse.json(reply());
  }),
);

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  captured.length = 0;
  reply = () => converseBody([{ text: 'ok' }]);
});
afterAll(() => server.close());

const runtime = () => bedrockConverse({ region: REGION, model: MODEL, client: testClient() });

async function send(items: Item[], extra: Parameters<typeof stepRequest>[1] = {}) {
  const result = await runtime().step(stepRequest(items, extra), stepContext());
  return { result, sent: captured.at(-1)! };
}

const weatherTool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

describe('bedrockConverse request mapping', () => {
  it('sends instructions as system, tools as toolConfig with the JSON schema, and the model in the URL', async () => {
    const { sent } = await send([user('Weather in Paris?')], {
      instructions: 'You are a helpful assistant.',
      tools: [weatherTool],
    });
    expect(sent.url).toBe(converseUrl());
    expect(sent.body.system).toEqual([{ text: 'You are a helpful assistant.' }]);
    expect(sent.body.toolConfig).toEqual({
      tools: [
        {
          toolSpec: {
            name: 'get_weather',
            description: 'Current weather for a city',
            inputSchema: { json: weatherTool.parameters },
          },
        },
      ],
    });
    expect(sent.body.messages).toEqual([{ role: 'user', content: [{ text: 'Weather in Paris?' }] }]);
    expect(sent.body.modelId).toBeUndefined();
  });

  it('sends the AWS user-guide tool round trip: toolUse in the assistant turn, toolResult in a user turn', async () => {
    const guide = converseFixture('aws-userguide-tool-request');
    const toolUse = guide.output.message.content[0].toolUse;
    const { sent } = await send([
      user('What is the most popular song on WZPZ?'),
      toolCall(toolUse.toolUseId, toolUse.name, toolUse.input),
      toolResult(toolUse.toolUseId, 'Station WZPA not found.', true),
    ]);
    expect(sent.body.messages).toEqual([
      { role: 'user', content: [{ text: 'What is the most popular song on WZPZ?' }] },
      {
        role: 'assistant',
        content: [
          {
            toolUse: {
              toolUseId: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q',
              name: 'top_song',
              input: { sign: 'WZPZ' },
            },
          },
        ],
      },
      // The vendor's own error variant (Step 3 of the same guide).
      {
        role: 'user',
        content: [
          {
            toolResult: {
              toolUseId: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q',
              content: [{ text: 'Station WZPA not found.' }],
              status: 'error',
            },
          },
        ],
      },
    ]);
  });

  it('merges consecutive same-role items into one message, in order', async () => {
    const { sent } = await send([
      user('first'),
      user('second'),
      assistant('Let me check both.'),
      toolCall('tooluse_a', 'get_weather', { city: 'Paris' }),
      toolCall('tooluse_b', 'get_weather', { city: 'Oslo' }),
      toolResult('tooluse_a', '{"tempC":21}'),
      toolResult('tooluse_b', '{"tempC":3}'),
      user('and now?'),
    ]);
    expect(sent.body.messages.map((m: any) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(sent.body.messages[0].content).toEqual([{ text: 'first' }, { text: 'second' }]);
    expect(sent.body.messages[1].content).toEqual([
      { text: 'Let me check both.' },
      { toolUse: { toolUseId: 'tooluse_a', name: 'get_weather', input: { city: 'Paris' } } },
      { toolUse: { toolUseId: 'tooluse_b', name: 'get_weather', input: { city: 'Oslo' } } },
    ]);
    expect(sent.body.messages[2].content).toEqual([
      { toolResult: { toolUseId: 'tooluse_a', content: [{ text: '{"tempC":21}' }] } },
      { toolResult: { toolUseId: 'tooluse_b', content: [{ text: '{"tempC":3}' }] } },
      { text: 'and now?' },
    ]);
  });

  it('opens with a user message when the context starts with the assistant, keeping the assistant text', async () => {
    const { sent } = await send([assistant('Welcome back! Where were we?'), user('Paris.')]);
    expect(sent.body.messages).toEqual([
      { role: 'user', content: [{ text: '(earlier conversation omitted)' }] },
      { role: 'assistant', content: [{ text: 'Welcome back! Where were we?' }] },
      { role: 'user', content: [{ text: 'Paris.' }] },
    ]);
  });

  it('moves system messages of the transcript into system, after the instructions', async () => {
    const { sent } = await send(
      [
        createItem<MessageItem>({
          type: 'message',
          role: 'system',
          content: [{ type: 'text', text: 'Answer in French.' }],
        }),
        user('Hi'),
      ],
      { instructions: 'Be brief.' },
    );
    expect(sent.body.system).toEqual([{ text: 'Be brief.' }, { text: 'Answer in French.' }]);
    expect(sent.body.messages).toEqual([{ role: 'user', content: [{ text: 'Hi' }] }]);
  });

  it('sends foreign callIds Bedrock would refuse under a rewritten id, the same for the call and its result', async () => {
    const foreign = ['functions.get_weather:0', 'call/with spaces', 'x'.repeat(80)];
    const { sent } = await send([
      user('Weather?'),
      ...foreign.map((id) => toolCall(id, 'get_weather', { city: 'Paris' })),
      ...foreign.map((id) => toolResult(id, 'sunny')),
    ]);
    const useIds = sent.body.messages[1].content.map((b: any) => b.toolUse.toolUseId);
    const resultIds = sent.body.messages[2].content.map((b: any) => b.toolResult.toolUseId);
    expect(resultIds).toEqual(useIds);
    expect(new Set(useIds).size).toBe(3);
    for (const id of useIds) expect(id).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(useIds).not.toContain('functions.get_weather:0');
  });

  it("maps Bedrock's answer back to the original callId when it names one of the rewritten ids", async () => {
    const original = 'functions.get_weather:0';
    await send([
      user('Weather?'),
      toolCall(original, 'get_weather', { city: 'Paris' }),
      toolResult(original, 'sunny'),
    ]);
    const rewritten = captured[0]!.body.messages[1].content[0].toolUse.toolUseId;
    captured.length = 0;
    reply = () =>
      converseBody(
        [
          { toolUse: { toolUseId: rewritten, name: 'get_weather', input: { city: 'Paris' } } },
          {
            toolUse: {
              toolUseId: 'tooluse_fresh_from_bedrock',
              name: 'get_weather',
              input: { city: 'Oslo' },
            },
          },
        ],
        'tool_use',
      );
    const { result } = await send([
      user('Weather?'),
      toolCall(original, 'get_weather', { city: 'Paris' }),
      toolResult(original, 'sunny'),
      user('Again please'),
    ]);
    const callIds = result.items.filter((i) => i.type === 'tool_call').map((i) => (i as any).callId);
    expect(callIds).toEqual([original, 'tooluse_fresh_from_bedrock']);
  });

  it('sends base64 images as bytes, data: URLs as bytes, s3:// URLs as S3 locations', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]).toString('base64');
    const { sent } = await send([
      createItem<MessageItem>({
        type: 'message',
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these?' },
          { type: 'image', mediaType: 'image/png', data: png },
          { type: 'image', mediaType: 'image/jpeg', url: `data:image/jpeg;base64,${png}` },
          { type: 'image', mediaType: 'image/webp', url: 's3://my-bucket/cat.webp' },
        ],
      }),
    ]);
    expect(sent.body.messages[0].content).toEqual([
      { text: 'What is in these?' },
      { image: { format: 'png', source: { bytes: png } } },
      { image: { format: 'jpeg', source: { bytes: png } } },
      { image: { format: 'webp', source: { s3Location: { uri: 's3://my-bucket/cat.webp' } } } },
    ]);
  });

  it('replaces an http(s) image URL, which Converse cannot take, with a text note naming it', async () => {
    const { sent } = await send([
      createItem<MessageItem>({
        type: 'message',
        role: 'user',
        content: [
          { type: 'text', text: 'Describe it' },
          { type: 'image', mediaType: 'image/png', url: 'https://example.com/cat.png' },
        ],
      }),
    ]);
    const note = sent.body.messages[0].content[1];
    expect(note.image).toBeUndefined();
    expect(note.text).toContain('https://example.com/cat.png');
  });

  it('replays reasoning only to its own family and drops other families', async () => {
    const ownReasoning = createItem<ReasoningItem>({
      type: 'reasoning',
      summary: 'Counting letters',
      provider: {
        family: 'aws-bedrock-converse',
        data: { reasoningText: { text: 'Counting letters', signature: 'Ep0CCkgICxABGAIq' } },
      },
    });
    const ownRedacted = createItem<ReasoningItem>({
      type: 'reasoning',
      provider: { family: 'aws-bedrock-converse', data: { redactedContent: 'AAEC' } },
    });
    const openaiReasoning = createItem<ReasoningItem>({
      type: 'reasoning',
      summary: 'foreign',
      provider: { family: 'openai', data: { encrypted_content: 'gAAAA' } },
    });
    const { sent } = await send([
      user('How many r in strawberry?'),
      ownReasoning,
      ownRedacted,
      openaiReasoning,
      assistant('Three.'),
      user('Sure?'),
    ]);
    expect(sent.body.messages[1]).toEqual({
      role: 'assistant',
      content: [
        { reasoningContent: { reasoningText: { text: 'Counting letters', signature: 'Ep0CCkgICxABGAIq' } } },
        { reasoningContent: { redactedContent: 'AAEC' } },
        { text: 'Three.' },
      ],
    });
    expect(sent.rawBody).not.toContain('gAAAA');
  });

  it('declares the tools of the transcript when none are offered, since Bedrock refuses tool blocks without toolConfig', async () => {
    const { sent } = await send([
      user('Weather?'),
      toolCall('tooluse_a', 'get_weather', { city: 'Paris' }),
      toolResult('tooluse_a', 'sunny'),
      user('Thanks'),
    ]);
    expect(sent.body.toolConfig.tools.map((t: any) => t.toolSpec.name)).toEqual(['get_weather']);
    expect(sent.body.toolConfig.toolChoice).toBeUndefined();
  });

  it('sends a tool name another provider allowed (functions.lookup) under a name Bedrock accepts, the same in toolUse and toolSpec', async () => {
    const { sent } = await send([
      user('Look up Paris.'),
      toolCall('call_Q7pq6EfVGRnauPLWSSYBGJ1l', 'functions.lookup', { city: 'Paris' }),
      toolCall('call_8fJ2kLmN0pQrStUvWxYz1234', 'x'.repeat(70), {}),
      toolResult('call_Q7pq6EfVGRnauPLWSSYBGJ1l', 'sunny'),
      toolResult('call_8fJ2kLmN0pQrStUvWxYz1234', 'done'),
      user('Thanks'),
    ]);
    const used = sent.body.messages[1].content.map((block: any) => block.toolUse.name);
    const declared = sent.body.toolConfig.tools.map((tool: any) => tool.toolSpec.name);
    expect(declared).toEqual(used);
    expect(new Set(used).size).toBe(2);
    for (const name of used) expect(name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(used[0]).toMatch(/^functions_lookup__/);
  });

  it('offers a tool whose name Bedrock refuses under a rewritten name and stores the model’s call under the original', async () => {
    const lookupTool = { ...weatherTool, name: 'functions.lookup' };
    await send([user('Look up Paris.')], { tools: [lookupTool, weatherTool] });
    const offered = captured[0]!.body.toolConfig.tools.map((tool: any) => tool.toolSpec.name);
    expect(offered[1]).toBe('get_weather');
    expect(offered[0]).toMatch(/^functions_lookup__[0-9a-f]{16}$/);
    captured.length = 0;
    reply = () =>
      converseBody(
        [
          {
            toolUse: {
              toolUseId: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q',
              name: offered[0],
              input: { city: 'Paris' },
            },
          },
          {
            toolUse: {
              toolUseId: 'tooluse_2bZfT7oQmPxQ3yUrV9wLkA',
              name: 'get_weather',
              input: { city: 'Oslo' },
            },
          },
        ],
        'tool_use',
      );
    const { result } = await send([user('Look up Paris.')], { tools: [lookupTool, weatherTool] });
    const calls = result.items.filter((item) => item.type === 'tool_call').map((item) => (item as any).name);
    expect(calls).toEqual(['functions.lookup', 'get_weather']);
  });

  it('forces a tool named after the output schema for structured output', async () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const { sent } = await send([user('Extract the city: I live in Paris')], {
      output: { name: 'city info', schema },
    });
    expect(sent.body.toolConfig.tools).toHaveLength(1);
    expect(sent.body.toolConfig.tools[0].toolSpec.name).toBe('city_info');
    expect(sent.body.toolConfig.tools[0].toolSpec.inputSchema).toEqual({ json: schema });
    expect(sent.body.toolConfig.toolChoice).toEqual({ tool: { name: 'city_info' } });
  });

  it('lets the model use real tools before the structured answer (toolChoice any) and never shadows a tool name', async () => {
    const { sent } = await send([user('Weather as JSON')], {
      tools: [weatherTool],
      output: { name: 'get_weather', schema: { type: 'object' } },
    });
    const names = sent.body.toolConfig.tools.map((t: any) => t.toolSpec.name);
    expect(names).toEqual(['get_weather_2', 'get_weather']);
    expect(sent.body.toolConfig.toolChoice).toEqual({ any: {} });
  });

  it('passes inferenceConfig and additionalModelRequestFields through', async () => {
    const rt = bedrockConverse({
      region: REGION,
      model: MODEL,
      client: testClient(),
      inferenceConfig: { maxTokens: 256, temperature: 0.2, stopSequences: ['END'] },
      additionalModelRequestFields: { top_k: 50 },
    });
    await rt.step(stepRequest([user('Hi')]), stepContext());
    const body = captured.at(-1)!.body;
    expect(body.inferenceConfig).toEqual({ maxTokens: 256, temperature: 0.2, stopSequences: ['END'] });
    expect(body.additionalModelRequestFields).toEqual({ top_k: 50 });
  });

  it('reports requestBytes as the byte length of the JSON body on the wire, images included', async () => {
    const image = Buffer.alloc(3000, 7).toString('base64');
    const { result, sent } = await send(
      [
        createItem<MessageItem>({
          type: 'message',
          role: 'user',
          content: [
            { type: 'text', text: 'Ünïcödé and an image' },
            { type: 'image', mediaType: 'image/gif', data: image },
          ],
        }),
      ],
      { instructions: 'Be brief.', tools: [weatherTool] },
    );
    expect(result.usage.requestBytes).toBe(byteLength(sent.rawBody));
  });
});
