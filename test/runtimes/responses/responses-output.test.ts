import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CloudhopError } from '../../../src/core/errors.js';
import { itemSchema } from '../../../src/core/items.js';
import { openaiResponses } from '../../../src/runtimes/responses/openai-responses.js';
import {
  FUNCTION_CALL_RESPONSE,
  MESSAGE_RESPONSE,
  OPENAI_URL,
  recordingContext,
  responseExample,
  stepRequest,
} from './responses-test-kit.js';

let body: Record<string, unknown> = {};
const server = setupServer(http.post(`${OPENAI_URL}/responses`, () => HttpResponse.json(body)));

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const runtime = () => openaiResponses({ apiKey: 'sk-test-output-mapping', model: 'gpt-5.4' });
const step = (response: Record<string, unknown>) => {
  body = response;
  return runtime().step(stepRequest(), recordingContext());
};

describe('Responses output mapping', () => {
  it('maps a function_call to a tool call keyed by call_id', async () => {
    const response = responseExample(FUNCTION_CALL_RESPONSE);
    const result = await step(response);

    expect(result.finishReason).toBe('tool_calls');
    expect(result.items).toHaveLength(1);
    expect(result.items[0]).toMatchObject({
      type: 'tool_call',
      callId: 'call_unLAR8MvFNptuiZK6K6HCy5k',
      name: 'get_current_weather',
      arguments: '{"location":"Boston, MA","unit":"celsius"}',
    });
    expect(result.items[0]!.id).not.toMatch(/^fc_/);
    expect(result.usage).toMatchObject({
      inputTokens: 291,
      outputTokens: 23,
      totalTokens: 314,
      reasoningTokens: 0,
    });
    expect(result.remote).toEqual({ responseId: response.id });
    expect(result.response).toEqual({ id: response.id, model: response.model });
  });

  it('maps a message to one assistant item with cloudhop ids and cached-token usage', async () => {
    const response = responseExample(MESSAGE_RESPONSE);
    const result = await step(response);

    expect(result.finishReason).toBe('stop');
    expect(result.items).toHaveLength(1);
    expect(result.items[0]).toMatchObject({
      type: 'message',
      role: 'assistant',
      content: [{ type: 'text', text: response.output[0].content[0].text }],
    });
    expect(result.items[0]!.id).not.toMatch(/^msg_/);
    expect(itemSchema.safeParse(result.items[0]).success).toBe(true);
    expect(result.usage).toMatchObject({
      inputTokens: 36,
      outputTokens: 87,
      totalTokens: 123,
      cachedInputTokens: 0,
      reasoningTokens: 0,
    });
  });

  it('maps the recorded Azure v1 function call the same way', async () => {
    const result = await step(responseExample('recorded-azure-function_call'));
    expect(result.finishReason).toBe('tool_calls');
    expect(result.items[0]).toMatchObject({
      type: 'tool_call',
      callId: 'call_YunNGbIwdVJ2i0y0Mybva4Pw',
      name: 'weather',
    });
  });

  it("keeps reasoning with what its family needs to replay it, and the server's order of items and parts", async () => {
    const response = responseExample(FUNCTION_CALL_RESPONSE);
    response.output = [
      {
        type: 'reasoning',
        id: 'rs_67ca09c5',
        summary: [{ type: 'summary_text', text: 'The user wants the weather.' }],
        encrypted_content: 'gAAAAABencrypted',
      },
      {
        type: 'message',
        id: 'msg_1',
        status: 'completed',
        role: 'assistant',
        content: [
          { type: 'output_text', text: 'Let me check.', annotations: [], logprobs: [] },
          { type: 'output_text', text: 'One moment.', annotations: [], logprobs: [] },
        ],
      },
      ...response.output,
      {
        type: 'message',
        id: 'msg_2',
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'refusal', refusal: 'I cannot book flights.' }],
      },
    ];
    const result = await step(response);

    expect(result.items.map((item) => item.type)).toEqual(['reasoning', 'message', 'tool_call', 'message']);
    expect(result.items[0]).toMatchObject({
      type: 'reasoning',
      summary: 'The user wants the weather.',
      provider: {
        family: 'openai',
        data: {
          id: 'rs_67ca09c5',
          encrypted_content: 'gAAAAABencrypted',
          summary: [{ type: 'summary_text', text: 'The user wants the weather.' }],
        },
      },
    });
    expect(result.items[1]).toMatchObject({
      content: [
        { type: 'text', text: 'Let me check.' },
        { type: 'text', text: 'One moment.' },
      ],
    });
    expect(result.items[2]).toMatchObject({ callId: 'call_unLAR8MvFNptuiZK6K6HCy5k' });
    expect(result.items[3]).toMatchObject({ content: [{ type: 'text', text: 'I cannot book flights.' }] });
    for (const item of result.items) expect(itemSchema.safeParse(item).success).toBe(true);
  });

  it('keeps reasoning that comes between tool calls where the server put it', async () => {
    const response = responseExample(FUNCTION_CALL_RESPONSE);
    const [call] = response.output;
    response.output = [
      call,
      { type: 'reasoning', id: 'rs_between', summary: [] },
      { ...call, id: 'fc_second', call_id: 'call_second' },
    ];
    const result = await step(response);
    expect(result.items.map((item) => (item.type === 'tool_call' ? item.callId : item.type))).toEqual([
      'call_unLAR8MvFNptuiZK6K6HCy5k',
      'reasoning',
      'call_second',
    ]);
  });

  it('gives a function_call without call_id an id of its own, so the transcript stays valid', async () => {
    const response = responseExample(FUNCTION_CALL_RESPONSE);
    const [call] = response.output;
    response.output = [
      { ...call, call_id: '' },
      { ...call, id: 'fc_without_call_id', call_id: undefined },
    ];
    const result = await step(response);

    const callIds = result.items.map((item) => (item.type === 'tool_call' ? item.callId : undefined));
    expect(callIds).toEqual([expect.stringMatching(/^call_./), expect.stringMatching(/^call_./)]);
    expect(new Set(callIds).size).toBe(2);
    for (const item of result.items) expect(itemSchema.safeParse(item).success).toBe(true);
  });

  it("reports 'length' for a response cut at max_output_tokens", async () => {
    const response = responseExample(MESSAGE_RESPONSE);
    response.status = 'incomplete';
    response.incomplete_details = { reason: 'max_output_tokens' };
    const result = await step(response);
    expect(result.finishReason).toBe('length');
    expect(result.items).toHaveLength(1);
  });

  it('throws content_filtered with the filtered categories when a filter cut the answer', async () => {
    const response = responseExample('recorded-azure-message');
    response.status = 'incomplete';
    response.incomplete_details = { reason: 'content_filter' };
    response.content_filters[1].blocked = true;
    response.content_filters[1].content_filter_results.violence = { filtered: true, severity: 'high' };

    const error = await step(response).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CloudhopError);
    expect(error).toMatchObject({ code: 'content_filtered', retryable: false, categories: ['violence'] });
  });

  it('throws the mapped error of a failed response', async () => {
    const response = responseExample(MESSAGE_RESPONSE);
    response.status = 'failed';
    response.error = { code: 'server_error', message: 'The server had an error.' };
    response.output = [];

    const error = await step(response).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'provider_unavailable', retryable: true });
  });
});
