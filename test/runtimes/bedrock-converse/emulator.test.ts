import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bedrockConverse } from '../../../src/aws.js';
import {
  createItem,
  type Item,
  type MessageItem,
  type ToolCallItem,
  type ToolResultItem,
  textOf,
} from '../../../src/core/items.js';
import { type Emulator, startEmulator } from '../../../src/emulator/index.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { CREDENTIALS, MODEL, REGION, stepContext, stepRequest, user } from './helpers.js';

const weatherTool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

let emu: Emulator;
let runtime: Runtime;
beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
  runtime = bedrockConverse({
    region: REGION,
    model: MODEL,
    endpoint: emu.bedrockEndpoint,
    credentials: CREDENTIALS,
  });
});
afterEach(() => emu.faults.clear());
afterAll(async () => {
  await runtime.close?.();
  await emu.close();
});

function answerText(items: Item[]): string {
  const message = items.find((item): item is MessageItem => item.type === 'message');
  return message ? textOf(message) : '';
}

describe.each([false, true])('bedrockConverse on the emulator (stream: %s)', (stream) => {
  it('carries the context: a name given earlier is remembered', async () => {
    const first = await runtime.step(stepRequest([user('My name is Ada.')], { stream }), stepContext());
    const items = [user('My name is Ada.'), ...first.items, user('What is my name?')];
    const context = stepContext();
    const second = await runtime.step(stepRequest(items, { stream }), context);
    expect(answerText(second.items)).toContain('Ada');
    expect(second.finishReason).toBe('stop');
    expect(second.usage.inputTokens).toBeGreaterThan(0);
    const deltas = context.events.flatMap((e) => (e.type === 'text-delta' ? [e.delta] : []));
    expect(deltas.join('')).toBe(stream ? answerText(second.items) : '');
  });

  it('runs a tool round trip: toolUse, then the toolResult in a user message, then the answer', async () => {
    const question = user('Use get_weather for Paris.');
    const call = await runtime.step(stepRequest([question], { stream, tools: [weatherTool] }), stepContext());
    expect(call.finishReason).toBe('tool_calls');
    const toolCall = call.items.find((item): item is ToolCallItem => item.type === 'tool_call')!;
    expect(toolCall.callId).toMatch(/^tooluse_/);
    expect(JSON.parse(toolCall.arguments)).toEqual({ city: 'Paris' });

    const result = createItem<ToolResultItem>({
      type: 'tool_result',
      callId: toolCall.callId,
      output: '{"tempC":21}',
    });
    const answer = await runtime.step(
      stepRequest([question, ...call.items, result], { stream, tools: [weatherTool] }),
      stepContext(),
    );
    expect(answer.finishReason).toBe('stop');
    expect(answerText(answer.items)).toContain('{"tempC":21}');
  });

  it('answers with JSON matching the output schema through the forced output tool', async () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const result = await runtime.step(
      stepRequest([user('Extract the city: I live in Paris.')], { stream, output: { name: 'city', schema } }),
      stepContext(),
    );
    expect(result.items.map((item) => item.type)).toEqual(['message']);
    expect(JSON.parse(answerText(result.items))).toEqual({ city: expect.any(String) });
  });

  it('reports requestBytes equal to the bytes the emulator received', async () => {
    const result = await runtime.step(
      stepRequest([user('Count my bytes, ünïcödé included.')], { stream }),
      stepContext(),
    );
    const [last] = emu.requests(1);
    expect(last!.route).toBe(stream ? 'converse-stream' : 'converse');
    expect(result.usage.requestBytes).toBe(last!.bytesIn);
  });

  it('maps an injected 429 with retry-after to rate_limited', async () => {
    emu.faults.set({
      route: stream ? 'converse-stream' : 'converse',
      status: 429,
      retryAfterMs: 1500,
      count: 1,
    });
    await expect(runtime.step(stepRequest([user('hi')], { stream }), stepContext())).rejects.toMatchObject({
      code: 'rate_limited',
      status: 429,
      retryAfterMs: 1500,
    });
  });
});

describe('bedrockConverse on the emulator, faults and clients', () => {
  it('fails with provider_unavailable when the stream is cut before messageStop', async () => {
    emu.faults.set({ route: 'converse-stream', cutAfterChunks: 2, count: 1 });
    await expect(
      runtime.step(stepRequest([user('Tell me a long story')], { stream: true }), stepContext()),
    ).rejects.toMatchObject({ code: 'provider_unavailable', retryable: true });
  });

  it("works with an injected client on the SDK's default HTTP/2 handler", async () => {
    const client = new BedrockRuntimeClient({
      region: REGION,
      endpoint: emu.bedrockEndpoint,
      credentials: CREDENTIALS,
      maxAttempts: 1,
    });
    try {
      const injected = bedrockConverse({ region: REGION, model: MODEL, client });
      const plain = await injected.step(stepRequest([user('My name is Grace.')]), stepContext());
      expect(answerText(plain.items)).toContain('Grace');
      const streamed = await injected.step(
        stepRequest([user('My name is Grace.')], { stream: true }),
        stepContext(),
      );
      expect(answerText(streamed.items)).toBe(answerText(plain.items));
    } finally {
      client.destroy();
    }
  });
});
