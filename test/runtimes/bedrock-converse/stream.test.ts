import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bedrockConverse } from '../../../src/aws.js';
import type { MessageItem, ReasoningItem, ToolCallItem } from '../../../src/core/items.js';
import { textOf } from '../../../src/core/items.js';
import {
  CREDENTIALS,
  converseStreamUrl,
  eventFrame,
  eventStreamResponse,
  exceptionFrame,
  MODEL,
  REGION,
  type StreamEvent,
  stepContext,
  stepRequest,
  streamFixture,
  testClient,
  user,
} from './helpers.js';

const ENDPOINT = 'http://bedrock.test:8080';

let frames: () => Uint8Array[];
const requestBodies: string[] = [];
const server = setupServer(
  ...[converseStreamUrl(), converseStreamUrl(MODEL, ENDPOINT)].map((url) =>
    http.post(url, async ({ request }) => {
      requestBodies.push(await request.text());
      return eventStreamResponse(frames());
    }),
  ),
);
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  requestBodies.length = 0;
});
afterAll(() => server.close());

const serve = (events: StreamEvent[], ...extra: Uint8Array[]) => {
  frames = () => [...events.map(eventFrame), ...extra];
};

async function streamStep(extra: Parameters<typeof stepRequest>[1] = {}, runtime = injected()) {
  const context = stepContext();
  const result = await runtime.step(stepRequest([user('question')], { stream: true, ...extra }), context);
  const deltas = context.events.flatMap((e) => (e.type === 'text-delta' ? [e.delta] : []));
  return { result, deltas };
}

function injected() {
  return bedrockConverse({ region: REGION, model: MODEL, client: testClient() });
}

describe('bedrockConverse streaming (ConverseStream, real event-stream framing)', () => {
  it('emits each text delta as it arrives and returns the whole answer with usage from metadata', async () => {
    const events = streamFixture('recorded-text-stream');
    serve(events);
    const { result, deltas } = await streamStep();
    const expectedDeltas = events.flatMap((e) => {
      const text = (e.contentBlockDelta as any)?.delta?.text;
      return text ? [text] : [];
    });
    expect(deltas).toEqual(expectedDeltas);
    expect(result.finishReason).toBe('stop');
    expect(result.items).toHaveLength(1);
    expect(textOf(result.items[0] as MessageItem)).toBe(expectedDeltas.join(''));
    expect(result.usage).toMatchObject({ inputTokens: 22, outputTokens: 55, totalTokens: 77 });
  });

  it('works the same on a client cloudhop builds itself for an http:// endpoint', async () => {
    serve(streamFixture('recorded-text-stream'));
    const own = bedrockConverse({
      region: REGION,
      model: MODEL,
      endpoint: ENDPOINT,
      credentials: CREDENTIALS,
    });
    const { result, deltas } = await streamStep({}, own);
    expect(deltas.join('')).toBe(textOf(result.items[0] as MessageItem));
    expect(result.usage.totalTokens).toBe(77);
    await own.close?.();
  });

  it('collects reasoning deltas and their signature into a reasoning item before the answer', async () => {
    serve(streamFixture('recorded-reasoning-stream'));
    const { result, deltas } = await streamStep();
    expect(result.items.map((i) => i.type)).toEqual(['reasoning', 'message']);
    const reasoning = result.items[0] as ReasoningItem;
    expect(reasoning.summary).toMatch(/^Let me count the r's in "strawberry":/);
    expect((reasoning.provider!.data as any).reasoningText.signature).toMatch(/^Ep0CCkgICxAB/);
    expect(deltas.join('')).toBe(textOf(result.items[1] as MessageItem));
    expect(deltas.join('')).not.toContain('Let me count');
  });

  it('concatenates tool input fragments per block, with usage arriving before messageStop', async () => {
    serve(streamFixture('fixture-tooluse-stream'));
    const { result, deltas } = await streamStep();
    expect(deltas).toEqual([]);
    expect(result.finishReason).toBe('tool_calls');
    const call = result.items[0] as ToolCallItem;
    expect(call).toMatchObject({ callId: 'toolu_01PQjhxo3eirCdKNvCJrKc8f', name: 'get-weather' });
    expect(JSON.parse(call.arguments)).toEqual({ location: 'San Francisco' });
    expect(result.usage).toMatchObject({ inputTokens: 843, outputTokens: 28, totalTokens: 871 });
  });

  it('takes usage from metadata after messageStop as well (the recorded order)', async () => {
    const events = streamFixture('fixture-tooluse-stream');
    const metadata = events.splice(
      events.findIndex((e) => e.metadata),
      1,
    );
    serve([{ messageStart: { role: 'assistant' } }, ...events, ...metadata]);
    const { result } = await streamStep();
    expect(result.usage).toMatchObject({ inputTokens: 843, outputTokens: 28, totalTokens: 871 });
    expect(result.items[0]).toMatchObject({ type: 'tool_call', callId: 'toolu_01PQjhxo3eirCdKNvCJrKc8f' });
  });

  it('keeps interleaved text and several tool calls apart by contentBlockIndex', async () => {
    serve([
      { messageStart: { role: 'assistant' } },
      { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Two cities.' } } },
      { contentBlockStop: { contentBlockIndex: 0 } },
      {
        contentBlockStart: {
          contentBlockIndex: 1,
          start: { toolUse: { toolUseId: 'tooluse_a', name: 'w' } },
        },
      },
      {
        contentBlockStart: {
          contentBlockIndex: 2,
          start: { toolUse: { toolUseId: 'tooluse_b', name: 'w' } },
        },
      },
      { contentBlockDelta: { contentBlockIndex: 2, delta: { toolUse: { input: '{"city":' } } } },
      { contentBlockDelta: { contentBlockIndex: 1, delta: { toolUse: { input: '{"city":"Paris"}' } } } },
      { contentBlockDelta: { contentBlockIndex: 2, delta: { toolUse: { input: '"Oslo"}' } } } },
      { contentBlockStop: { contentBlockIndex: 1 } },
      { contentBlockStop: { contentBlockIndex: 2 } },
      { messageStop: { stopReason: 'tool_use' } },
      { metadata: { usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 }, metrics: { latencyMs: 5 } } },
    ]);
    const { result } = await streamStep();
    expect(result.items.map((i) => i.type)).toEqual(['message', 'tool_call', 'tool_call']);
    expect((result.items.slice(1) as ToolCallItem[]).map((c) => [c.callId, JSON.parse(c.arguments)])).toEqual(
      [
        ['tooluse_a', { city: 'Paris' }],
        ['tooluse_b', { city: 'Oslo' }],
      ],
    );
  });

  it('streams a structured-output answer as text deltas and returns it as the message', async () => {
    serve([
      { messageStart: { role: 'assistant' } },
      {
        contentBlockStart: {
          contentBlockIndex: 0,
          start: { toolUse: { toolUseId: 'tooluse_o', name: 'city_info' } },
        },
      },
      { contentBlockDelta: { contentBlockIndex: 0, delta: { toolUse: { input: '{"city"' } } } },
      { contentBlockDelta: { contentBlockIndex: 0, delta: { toolUse: { input: ':"Paris"}' } } } },
      { contentBlockStop: { contentBlockIndex: 0 } },
      { messageStop: { stopReason: 'tool_use' } },
      { metadata: { usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 }, metrics: { latencyMs: 5 } } },
    ]);
    const { result, deltas } = await streamStep({
      output: { name: 'city_info', schema: { type: 'object' } },
    });
    expect(deltas.join('')).toBe('{"city":"Paris"}');
    expect(result.finishReason).toBe('stop');
    expect(result.items).toHaveLength(1);
    expect(JSON.parse(textOf(result.items[0] as MessageItem))).toEqual({ city: 'Paris' });
    expect(JSON.parse(requestBodies[0]!).toolConfig.toolChoice).toEqual({ tool: { name: 'city_info' } });
  });

  it.each([
    ['throttlingException', 'rate_limited', true],
    ['serviceUnavailableException', 'provider_unavailable', true],
    ['internalServerException', 'provider_unavailable', true],
    ['modelStreamErrorException', 'provider_unavailable', true],
    ['validationException', 'provider_error', false],
  ])(
    'maps a mid-stream %s frame to %s after the deltas already sent',
    async (exceptionType, code, retryable) => {
      const events = streamFixture('recorded-text-stream').slice(0, 4);
      serve(
        events,
        exceptionFrame(exceptionType, { message: 'Too many tokens, please wait before trying again.' }),
      );
      const context = stepContext();
      const error = await injected()
        .step(stepRequest([user('q')], { stream: true }), context)
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'CloudhopError', code, retryable });
      expect((error as Error).message).toContain('Too many tokens');
      expect(context.events.filter((e) => e.type === 'text-delta')).toHaveLength(3);
    },
  );

  it('maps a mid-stream validationException about input length to context_length_exceeded', async () => {
    serve(
      [{ messageStart: { role: 'assistant' } }],
      exceptionFrame('validationException', { message: 'Input is too long for requested model.' }),
    );
    await expect(streamStep()).rejects.toMatchObject({ code: 'context_length_exceeded' });
  });

  it('fails with provider_unavailable when the stream ends before messageStop', async () => {
    serve(streamFixture('recorded-text-stream').slice(0, 5));
    await expect(streamStep()).rejects.toMatchObject({ code: 'provider_unavailable', retryable: true });
  });

  it('fails with content_filtered when a guardrail stops the stream', async () => {
    serve([
      { messageStart: { role: 'assistant' } },
      { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Sorry.' } } },
      { messageStop: { stopReason: 'guardrail_intervened' } },
      { metadata: { usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 }, metrics: { latencyMs: 5 } } },
    ]);
    await expect(streamStep()).rejects.toMatchObject({
      code: 'content_filtered',
      categories: ['guardrail_intervened'],
    });
  });

  it('stops reading a stalled stream when the step signal aborts', async () => {
    const firstEvents = streamFixture('recorded-text-stream').slice(0, 2);
    server.use(
      http.post(converseStreamUrl(), () => {
        const stalled = new ReadableStream<Uint8Array>({
          start(controller) {
            for (const event of firstEvents) controller.enqueue(eventFrame(event));
          },
        });
        return new HttpResponse(stalled, {
          headers: { 'content-type': 'application/vnd.amazon.eventstream' },
        });
      }),
    );
    const controller = new AbortController();
    const context = stepContext(controller.signal);
    const pending = injected()
      .step(stepRequest([user('q')], { stream: true }), {
        ...context,
        emit: (event) => {
          context.emit(event);
          controller.abort();
        },
      })
      .catch((e: unknown) => e);
    expect(await pending).toMatchObject({ name: 'CloudhopError', code: 'aborted' });
    expect(context.events).toEqual([{ type: 'text-delta', delta: 'Let' }]);
    server.resetHandlers();
  });

  it('maps an HTTP error on the ConverseStream request like a Converse one', async () => {
    server.use(
      http.post(converseStreamUrl(), () =>
        HttpResponse.json(
          { message: 'Too many requests, please wait before trying again.' },
          { status: 429, headers: { 'x-amzn-ErrorType': 'ThrottlingException', 'retry-after': '2' } },
        ),
      ),
    );
    await expect(streamStep()).rejects.toMatchObject({
      code: 'rate_limited',
      status: 429,
      retryAfterMs: 2000,
    });
    server.resetHandlers();
  });
});
