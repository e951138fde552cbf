import { inspect } from 'node:util';
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/v4';
import { aiSdkRuntime } from '../../../src/ai-sdk.js';
import { CloudhopError, createAgent, memoryStore, tool } from '../../../src/index.js';
import { recordingContext, stepRequest } from '../../helpers/runtime-kit.js';
import {
  aiSdkRuns,
  errorResponse,
  fixtureJson,
  fixtureText,
  geminiSse,
  importWhereSupported,
  providerServer,
  warnIfSkipped,
} from './ai-sdk-test-kit.js';

warnIfSkipped('cloudhop/ai-sdk with @ai-sdk/google');
const google = await importWhereSupported(() => import('@ai-sdk/google'));

const API_KEY = 'AIzaSyD-gemini-test-key-0123456789abcdef';
const BASE = 'https://generativelanguage.googleapis.com/v1beta';
const GENERATE = /^https:\/\/generativelanguage\.googleapis\.com\/v1beta\/models\/[^/:]+:generateContent$/;
const STREAM =
  /^https:\/\/generativelanguage\.googleapis\.com\/v1beta\/models\/[^/:]+:streamGenerateContent$/;
const INSTRUCTIONS = 'You are a helpful assistant.';

const server = providerServer();

function gemini(modelId = 'gemini-3-pro-preview') {
  return aiSdkRuntime(google.createGoogleGenerativeAI({ apiKey: API_KEY })(modelId));
}

/** Answers generateContent (and streamGenerateContent) with one response per request, in order. */
function answerWith(...responses: Array<() => Response>) {
  let next = 0;
  const respond = () => {
    const make = responses[Math.min(next, responses.length - 1)]!;
    next += 1;
    return make();
  };
  server.use(http.post(GENERATE, server.recorded(respond)), http.post(STREAM, server.recorded(respond)));
}

const weather = tool({
  name: 'weather',
  description: 'Current weather at a location',
  input: z.object({ location: z.string() }),
  execute: async ({ location }) => ({ location, tempC: 18, sky: 'fog' }),
});

async function stepError(promise: Promise<unknown>): Promise<CloudhopError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(CloudhopError);
  return error as CloudhopError;
}

function expectNoKey(error: CloudhopError): void {
  for (const text of [
    error.message,
    JSON.stringify(error),
    inspect(error, { depth: 10 }),
    inspect(error.cause, { depth: 10 }),
  ]) {
    expect(text).not.toContain(API_KEY);
  }
}

describe.skipIf(!aiSdkRuns)('aiSdkRuntime(@ai-sdk/google): Gemini answers', () => {
  it('sends the key, instructions and prompt as Gemini takes them, and reads text, usage and response id back', async () => {
    answerWith(() => HttpResponse.json(fixtureJson('google-text.json')));
    const runtime = gemini();
    expect(runtime).toMatchObject({
      id: 'ai-sdk:google.generative-ai/gemini-3-pro-preview',
      family: 'google.generative-ai',
      provider: 'gcp.gemini',
    });
    const result = await runtime.step(stepRequest({ instructions: INSTRUCTIONS }), recordingContext());

    const [request] = server.seen;
    expect(request!.url.href).toBe(`${BASE}/models/gemini-3-pro-preview:generateContent`);
    expect(request!.headers.get('x-goog-api-key')).toBe(API_KEY);
    expect(request!.body.systemInstruction).toEqual({ parts: [{ text: INSTRUCTIONS }] });
    expect(request!.body.contents).toEqual([{ role: 'user', parts: [{ text: 'Hello' }] }]);

    const message = result.items.find((item) => item.type === 'message');
    expect(message).toMatchObject({
      role: 'assistant',
      content: [
        {
          type: 'text',
          text: "There are **3** r's in strawberry.\n\nHere is the breakdown: st**r**awbe**rr**y.",
        },
      ],
    });
    expect(result.finishReason).toBe('stop');
    // promptTokenCount 9; candidatesTokenCount 28 + thoughtsTokenCount 244 are output.
    expect(result.usage).toMatchObject({
      inputTokens: 9,
      outputTokens: 272,
      totalTokens: 281,
      reasoningTokens: 244,
    });
    expect(result.usage.requestBytes).toBe(request!.bytes);
    expect(result.response).toEqual({ id: 'Un6LacrVMcjUxs0PmJfWoQc' });
  });

  it('streams the text of streamGenerateContent as deltas, keeping the signature Gemini sends after it', async () => {
    answerWith(() => geminiSse(fixtureText('google-text.chunks.txt')));
    const context = recordingContext();
    const result = await gemini().step(stepRequest({ stream: true }), context);
    expect(server.seen[0]!.url.pathname).toBe('/v1beta/models/gemini-3-pro-preview:streamGenerateContent');
    expect(server.seen[0]!.url.searchParams.get('alt')).toBe('sse');
    expect(context.deltas()).toEqual(['There are **3**', ' "r"s in strawberry.\n\nst**r**awbe**rr**y']);
    const message = result.items.find((item) => item.type === 'message');
    expect(message).toMatchObject({
      content: [{ type: 'text', text: 'There are **3** "r"s in strawberry.\n\nst**r**awbe**rr**y' }],
    });
    const [chunks] = fixtureText('google-text.chunks.txt').trim().split('\n').slice(-1);
    const signature = JSON.parse(chunks!).candidates[0].content.parts[0].thoughtSignature;
    expect(result.items.filter((item) => item.type === 'reasoning')).toMatchObject([
      {
        provider: {
          family: 'google.generative-ai',
          data: { part: 'text', providerOptions: { google: { thoughtSignature: signature } } },
        },
      },
    ]);
    expect(result.response).toEqual({ id: 'bH6LaZW8Fp_3nsEPqtaSwQ4' });
    expect(result.usage).toMatchObject({ inputTokens: 9, outputTokens: 23 + 185 });
  });

  it.each([
    ['generateContent', false, () => HttpResponse.json(fixtureJson('google-tool-call-gemini3.json'))],
    ['streamGenerateContent', true, () => geminiSse(fixtureText('google-tool-call-gemini3.chunks.txt'))],
  ])(
    'runs the tool Gemini calls (%s) and sends the call back with its thoughtSignature',
    async (_, streamed, toolCall) => {
      answerWith(toolCall, () =>
        streamed
          ? geminiSse(fixtureText('google-text.chunks.txt'))
          : HttpResponse.json(fixtureJson('google-text.json')),
      );
      const store = memoryStore();
      const agent = createAgent({ runtime: gemini(), store, tools: [weather], instructions: INSTRUCTIONS });
      if (streamed) {
        const stream = agent.stream('What is the weather in San Francisco?', { session: 'sf' });
        for await (const _event of stream);
        await stream.result;
      } else {
        await agent.run('What is the weather in San Francisco?', { session: 'sf' });
      }

      const items = await agent.session('sf').items();
      const call = items.find((item) => item.type === 'tool_call');
      expect(call).toMatchObject({ name: 'weather', arguments: '{"location":"San Francisco"}' });
      expect(call!.callId).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(items.find((item) => item.type === 'tool_result')).toMatchObject({
        callId: call!.callId,
        output: '{"location":"San Francisco","tempC":18,"sky":"fog"}',
      });

      const source = streamed
        ? JSON.parse(fixtureText('google-tool-call-gemini3.chunks.txt').split('\n')[0]!)
        : fixtureJson('google-tool-call-gemini3.json');
      const signature = source.candidates[0].content.parts[0].thoughtSignature;
      expect(server.seen).toHaveLength(2);
      const contents = server.seen[1]!.body.contents;
      expect(contents[0]).toEqual({
        role: 'user',
        parts: [{ text: 'What is the weather in San Francisco?' }],
      });
      expect(contents[1].role).toBe('model');
      expect(contents[1].parts[0]).toMatchObject({
        functionCall: { name: 'weather', args: { location: 'San Francisco' } },
        thoughtSignature: signature,
      });
      expect(contents[2]).toMatchObject({
        role: 'user',
        parts: [{ functionResponse: { name: 'weather', response: { name: 'weather' } } }],
      });
      expect(JSON.stringify(contents[2])).toContain('fog');
    },
  );

  it('keeps thought summaries as reasoning items, with their cached tokens', async () => {
    answerWith(() => HttpResponse.json(fixtureJson('google-thought-summary.json')));
    const runtime = aiSdkRuntime(google.createGoogleGenerativeAI({ apiKey: API_KEY })('gemini-2.5-flash'), {
      providerOptions: { google: { thinkingConfig: { includeThoughts: true } } },
    });
    const result = await runtime.step(
      stepRequest({
        tools: [
          { name: 'weather', parameters: { type: 'object', properties: { location: { type: 'string' } } } },
        ],
      }),
      recordingContext(),
    );
    expect(server.seen[0]!.body.generationConfig.thinkingConfig).toEqual({ includeThoughts: true });
    expect(result.items.map((item) => item.type)).toEqual(['reasoning', 'reasoning', 'tool_call']);
    expect(result.items[0]).toMatchObject({
      summary: expect.stringContaining('Looking up the weather'),
      provider: { family: 'google.generative-ai', data: { part: 'reasoning' } },
    });
    expect(result.usage).toMatchObject({
      inputTokens: 57,
      outputTokens: 16 + 118,
      cachedInputTokens: 32,
      reasoningTokens: 118,
    });
  });
});

describe.skipIf(!aiSdkRuns)('aiSdkRuntime(@ai-sdk/google): Gemini errors', () => {
  it("reads a 429's delay from Gemini's RetryInfo when there is no retry-after header", async () => {
    answerWith(() => HttpResponse.json(fixtureJson('google-429-retry-info.json'), { status: 429 }));
    const error = await stepError(gemini().step(stepRequest(), recordingContext()));
    expect(error).toMatchObject({ code: 'rate_limited', retryable: true, status: 429, retryAfterMs: 34_400 });
    expect(error.message).toContain('You exceeded your current quota');
    expectNoKey(error);
  });

  it('prefers the retry-after header when a 429 has one', async () => {
    answerWith(() =>
      HttpResponse.json(fixtureJson('google-429-retry-info.json'), {
        status: 429,
        headers: { 'retry-after': '5' },
      }),
    );
    const error = await stepError(gemini().step(stepRequest({ stream: true }), recordingContext()));
    expect(error).toMatchObject({ code: 'rate_limited', retryAfterMs: 5_000 });
  });

  it.each([
    ['an invalid API key (400 API_KEY_INVALID)', '400-api-key-invalid', 'auth_failed', false],
    ['401 UNAUTHENTICATED', '401-unauthenticated', 'auth_failed', false],
    ['503 overloaded', '503-overloaded', 'provider_unavailable', true],
    ['400 over the token limit', '400-token-limit', 'context_length_exceeded', false],
  ])('maps %s', async (_, example, code, retryable) => {
    answerWith(() => errorResponse('google-errors.json', example));
    const error = await stepError(gemini().step(stepRequest(), recordingContext()));
    expect(error).toMatchObject({ code, retryable });
    expectNoKey(error);
  });

  it('keeps the API key out of an error whose body echoes it (a proxy in between)', async () => {
    server.use(
      http.post(GENERATE, ({ request }) =>
        HttpResponse.json(
          {
            error: {
              code: 401,
              message: `Key ${request.headers.get('x-goog-api-key')} is revoked`,
              status: 'UNAUTHENTICATED',
            },
          },
          { status: 401 },
        ),
      ),
    );
    const error = await stepError(gemini().step(stepRequest(), recordingContext()));
    expect(error.code).toBe('auth_failed');
    expect(error.message).toContain('is revoked');
    expectNoKey(error);
  });
});
