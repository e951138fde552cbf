import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bedrockConverse } from '../../../src/aws.js';
import { CloudhopError } from '../../../src/core/errors.js';
import {
  itemSchema,
  type MessageItem,
  type ReasoningItem,
  type ToolCallItem,
} from '../../../src/core/items.js';
import {
  converseBody,
  converseFixture,
  converseUrl,
  MODEL,
  REGION,
  stepContext,
  stepRequest,
  testClient,
  user,
} from './helpers.js';

let reply: () => Record<string, unknown>;
const server = setupServer(http.post(converseUrl(), () => HttpResponse.json(reply())));
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const runtime = () => bedrockConverse({ region: REGION, model: MODEL, client: testClient() });
const step = (extra: Parameters<typeof stepRequest>[1] = {}) =>
  runtime().step(stepRequest([user('question')], extra), stepContext());

describe('bedrockConverse response mapping', () => {
  it("turns the user guide's toolUse answer into one tool_call keeping Bedrock's toolUseId", async () => {
    reply = () => converseFixture('aws-userguide-tool-request');
    const result = await step();
    expect(result.finishReason).toBe('tool_calls');
    expect(result.items).toHaveLength(1);
    const call = result.items[0] as ToolCallItem;
    expect(call).toMatchObject({
      type: 'tool_call',
      callId: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q',
      name: 'top_song',
    });
    expect(JSON.parse(call.arguments)).toEqual({ sign: 'WZPZ' });
    expect(call.id).not.toBe(call.callId);
    for (const item of result.items) expect(itemSchema.safeParse(item).success).toBe(true);
  });

  it('keeps an Anthropic-style toolUseId and a hyphenated tool name as they are', async () => {
    reply = () => converseFixture('fixture-tooluse-with-anthropic-style-id');
    const result = await step();
    expect(result.items[0]).toMatchObject({ callId: 'toolu_01PQjhxo3eirCdKNvCJrKc8f', name: 'get-weather' });
    expect(result.usage).toEqual({
      inputTokens: 843,
      outputTokens: 28,
      totalTokens: 871,
      requestBytes: expect.any(Number),
    });
  });

  it('maps the recorded text answer to one assistant message, ignoring unknown usage keys', async () => {
    const recorded = converseFixture('recorded-text-response');
    reply = () => recorded;
    const result = await step();
    expect(result.finishReason).toBe('stop');
    expect(result.items).toHaveLength(1);
    const message = result.items[0] as MessageItem;
    expect(message.role).toBe('assistant');
    expect(message.content).toEqual([{ type: 'text', text: recorded.output.message.content[0].text }]);
    expect(result.usage).toMatchObject({
      inputTokens: 22,
      outputTokens: 57,
      totalTokens: 79,
      cachedInputTokens: 0,
    });
    expect(result.usage.requestBytes).toBeGreaterThan(0);
  });

  it('counts prompt-cache reads and writes as input tokens, with the reads as cachedInputTokens', async () => {
    reply = () =>
      converseBody([{ text: 'hi' }], 'end_turn', {
        inputTokens: 10,
        cacheReadInputTokens: 100,
        cacheWriteInputTokens: 20,
        outputTokens: 5,
        totalTokens: 135,
      });
    const { usage } = await step();
    expect(usage).toMatchObject({
      inputTokens: 130,
      cachedInputTokens: 100,
      outputTokens: 5,
      totalTokens: 135,
    });
  });

  it('returns text and tool calls of one answer as a message followed by the calls', async () => {
    reply = () =>
      converseBody(
        [
          { text: 'Checking the station.' },
          { toolUse: { toolUseId: 'tooluse_1', name: 'top_song', input: { sign: 'WZPZ' } } },
          { toolUse: { toolUseId: 'tooluse_2', name: 'top_song', input: {} } },
        ],
        'tool_use',
      );
    const result = await step();
    expect(result.items.map((i) => i.type)).toEqual(['message', 'tool_call', 'tool_call']);
    expect((result.items[2] as ToolCallItem).arguments).toBe('{}');
  });

  it('keeps reasoning as items the same family can replay, redacted reasoning as base64', async () => {
    reply = () =>
      converseBody([
        { reasoningContent: { reasoningText: { text: 'Count the r letters.', signature: 'sig-123' } } },
        { reasoningContent: { redactedContent: Buffer.from([0, 1, 2]).toString('base64') } },
        { text: 'Three.' },
      ]);
    const result = await step();
    expect(result.items.map((i) => i.type)).toEqual(['reasoning', 'reasoning', 'message']);
    const [text, redacted] = result.items as ReasoningItem[];
    expect(text).toMatchObject({
      summary: 'Count the r letters.',
      provider: {
        family: 'aws-bedrock-converse',
        data: { reasoningText: { text: 'Count the r letters.', signature: 'sig-123' } },
      },
    });
    expect(redacted!.provider).toEqual({ family: 'aws-bedrock-converse', data: { redactedContent: 'AAEC' } });
    // Stored data must survive a JSON round trip (stores serialize items).
    expect(JSON.parse(JSON.stringify(result.items))).toEqual(result.items);
  });

  it('returns a structured-output answer as the assistant text, not as a tool call', async () => {
    reply = () =>
      converseBody(
        [{ toolUse: { toolUseId: 'tooluse_x', name: 'city_info', input: { city: 'Paris' } } }],
        'tool_use',
      );
    const result = await step({ output: { name: 'city_info', schema: { type: 'object' } } });
    expect(result.finishReason).toBe('stop');
    expect(result.items).toHaveLength(1);
    const message = result.items[0] as MessageItem;
    expect(message.type).toBe('message');
    expect(JSON.parse((message.content[0] as { text: string }).text)).toEqual({ city: 'Paris' });
  });

  it('maps max_tokens to length and stop_sequence to stop', async () => {
    reply = () => converseBody([{ text: 'cut' }], 'max_tokens');
    expect((await step()).finishReason).toBe('length');
    reply = () => converseBody([{ text: 'done' }], 'stop_sequence');
    expect((await step()).finishReason).toBe('stop');
  });

  it.each(['guardrail_intervened', 'content_filtered'])(
    'fails with content_filtered on stopReason %s',
    async (stopReason) => {
      reply = () => converseBody([{ text: 'Sorry, the model cannot answer this question.' }], stopReason);
      const error = await step().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CloudhopError);
      expect(error).toMatchObject({ code: 'content_filtered', retryable: false, categories: [stopReason] });
    },
  );

  it('fails with context_length_exceeded on stopReason model_context_window_exceeded', async () => {
    reply = () => converseBody([{ text: 'partial' }], 'model_context_window_exceeded');
    await expect(step()).rejects.toMatchObject({ code: 'context_length_exceeded', retryable: false });
  });
});
