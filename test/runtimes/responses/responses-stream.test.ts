import { http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudhopError } from '../../../src/core/errors.js';
import { lastAnswerText, textOf } from '../../../src/core/items.js';
import { openaiResponses } from '../../../src/runtimes/responses/openai-responses.js';
import { vendorText } from '../../helpers/fixtures.js';
import {
  OPENAI_URL,
  record,
  recordingContext,
  type SeenRequest,
  sse,
  stepRequest,
} from './responses-test-kit.js';

let streamText = '';
const seen: SeenRequest[] = [];
const server = setupServer(
  http.post(`${OPENAI_URL}/responses`, async ({ request }) => {
    await record(request, seen);
    return sse(streamText);
  }),
);

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());

const runtime = () => openaiResponses({ apiKey: 'sk-test-stream-mapping', model: 'gpt-5.4' });

async function streamStep(text: string) {
  streamText = text;
  seen.length = 0;
  const context = recordingContext();
  const result = await runtime().step(stepRequest({ stream: true }), context);
  return { result, context };
}

async function streamFailure(text: string): Promise<unknown> {
  streamText = text;
  return runtime()
    .step(stepRequest({ stream: true }), recordingContext())
    .catch((caught: unknown) => caught);
}

/** Rewrites the JSON of each `data:` line of an SSE fixture. */
function mapEvents(text: string, rewrite: (event: any) => any): string {
  return text.replace(
    /^data: (.*)$/gm,
    (_line, json: string) => `data: ${JSON.stringify(rewrite(JSON.parse(json)))}`,
  );
}

describe('Responses streaming', () => {
  it('emits text deltas as they arrive and returns the completed response', async () => {
    const { result, context } = await streamStep(vendorText('responses-stream.txt'));

    expect(seen[0]!.body.stream).toBe(true);
    expect(context.deltas()).toEqual(['Hi']);
    expect(result.finishReason).toBe('stop');
    expect(result.items).toEqual([
      expect.objectContaining({
        type: 'message',
        role: 'assistant',
        content: [{ type: 'text', text: 'Hi there! How can I assist you today?' }],
      }),
    ]);
    expect(result.remote).toEqual({ responseId: 'resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654' });
    expect(result.response).toEqual({
      id: 'resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654',
      model: 'gpt-5.4',
    });
    expect(result.usage).toMatchObject({ inputTokens: 37, outputTokens: 11, totalTokens: 48 });
    expect(result.usage.requestBytes).toBe(seen[0]!.bytes);
  });

  it('keeps each message item of a stream as an assistant message of its own, in order', async () => {
    const { result, context } = await streamStep(vendorText('responses-stream.recorded-openai-message.txt'));

    expect(context.deltas()).toEqual(['Got', ' it', 'Here are a', ' few **AI']);
    const texts = result.items.map((item) => (item.type === 'message' ? textOf(item) : item.type));
    expect(texts).toEqual([
      expect.stringMatching(/^Got it — I’ll quickly check .*\.$/),
      expect.stringMatching(/^Here are a few \*\*AI headlines/),
    ]);
    expect(lastAnswerText(result.items)).toBe(texts[1]);
    expect(result.usage).toMatchObject({ cachedInputTokens: 3072, reasoningTokens: 64, totalTokens: 7575 });
  });

  it('assembles a recorded function call whose arguments.done event has no name', async () => {
    const { result, context } = await streamStep(
      vendorText('responses-stream.recorded-openai-function-call.txt'),
    );

    expect(context.deltas()).toEqual([]);
    expect(result.finishReason).toBe('tool_calls');
    expect(result.items).toEqual([
      expect.objectContaining({
        type: 'tool_call',
        callId: 'call_Q7pq6EfVGRnauPLWSSYBGJ1l',
        name: 'get_weather',
        arguments: '{"location":"San Francisco, CA","unit":"fahrenheit"}',
      }),
    ]);
  });

  it('maps the recorded Azure function-call stream', async () => {
    const { result } = await streamStep(vendorText('responses-stream.recorded-azure-function-call.txt'));
    expect(result.items).toEqual([
      expect.objectContaining({
        type: 'tool_call',
        callId: 'call_H5DxLSFnsGhiROnUiDHmgyc8',
        name: 'weather',
        arguments: '{"location":"San Francisco"}',
      }),
    ]);
  });

  it('builds the call from the streamed events when the terminal event carries no output', async () => {
    const text = mapEvents(vendorText('responses-stream.recorded-openai-function-call.txt'), (event) => {
      if (event.type === 'response.output_item.done')
        return { ...event, item: { ...event.item, name: undefined } };
      if (event.type === 'response.completed')
        return { ...event, response: { ...event.response, output: [] } };
      return event;
    });
    const { result } = await streamStep(text);
    expect(result.items).toEqual([
      expect.objectContaining({
        callId: 'call_Q7pq6EfVGRnauPLWSSYBGJ1l',
        name: 'get_weather',
        arguments: '{"location":"San Francisco, CA","unit":"fahrenheit"}',
      }),
    ]);
  });

  it('turns the recorded failing stream (nested error event) into a typed error', async () => {
    const error = await streamFailure(vendorText('responses-stream.recorded-openai-error.txt'));

    expect(error).toBeInstanceOf(CloudhopError);
    expect(error).toMatchObject({ code: 'provider_error', retryable: false, runtimeId: expect.any(String) });
    expect((error as Error).message).toContain('You exceeded your current quota');
  });

  it('accepts the flat error event of the spec', async () => {
    const text = mapEvents(vendorText('responses-stream.recorded-openai-error.txt'), (event) =>
      event.type === 'error'
        ? {
            type: 'error',
            code: 'rate_limit_exceeded',
            message: 'Slow down.',
            param: null,
            sequence_number: 2,
          }
        : event,
    );
    const error = await streamFailure(text);
    expect(error).toMatchObject({ code: 'rate_limited', retryable: true });
  });

  it('maps response.failed when no error event precedes it', async () => {
    const text = vendorText('responses-stream.recorded-openai-error.txt').replace(
      /^event: error\ndata: .*\n\n/m,
      '',
    );
    const failed = mapEvents(text, (event) =>
      event.type === 'response.failed'
        ? {
            ...event,
            response: { ...event.response, error: { code: 'server_error', message: 'Try again.' } },
          }
        : event,
    );
    const error = await streamFailure(failed);
    expect(error).toMatchObject({ code: 'provider_unavailable', retryable: true });
  });

  it('treats a stream that ends before response.completed as a retryable failure', async () => {
    const cut = vendorText('responses-stream.txt').split('event: response.completed')[0]!;
    const error = await streamFailure(cut);
    expect(error).toMatchObject({ code: 'provider_unavailable', retryable: true });
  });
});
