import { inspect } from 'node:util';
import type { LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/v4';
import { aiSdkRuntime } from '../../../src/ai-sdk.js';
import {
  createItem,
  type Item,
  type MessageItem,
  type ToolCallItem,
  type ToolResultItem,
} from '../../../src/core/items.js';
import { CloudhopError, createAgent, memoryStore, tool } from '../../../src/index.js';
import { recordingContext, stepRequest, user } from '../../helpers/runtime-kit.js';
import { aiSdkRuns, importWhereSupported, warnIfSkipped } from './ai-sdk-test-kit.js';

warnIfSkipped('cloudhop/ai-sdk mock language model');
const aiTest = await importWhereSupported(() => import('ai/test'));
const provider = await importWhereSupported(() => import('@ai-sdk/provider'));

type MockV4 = InstanceType<typeof import('ai/test')['MockLanguageModelV4']>;
type GenerateResult = Awaited<ReturnType<MockV4['doGenerate']>>;
type StreamPart = LanguageModelV4StreamPart;

const INSTRUCTIONS = 'You are a helpful assistant.';

function usage(input: number, output: number, extra: { cacheRead?: number; reasoning?: number } = {}) {
  return {
    inputTokens: {
      total: input,
      noCache: input - (extra.cacheRead ?? 0),
      cacheRead: extra.cacheRead,
      cacheWrite: undefined,
    },
    outputTokens: { total: output, text: output - (extra.reasoning ?? 0), reasoning: extra.reasoning },
  };
}

function answer(content: GenerateResult['content'], extra: Partial<GenerateResult> = {}): GenerateResult {
  const calls = content.some((part) => part.type === 'tool-call' && !part.providerExecuted);
  return {
    content,
    finishReason: { unified: calls ? 'tool-calls' : 'stop', raw: calls ? 'tool_use' : 'end_turn' },
    usage: usage(10, 5),
    warnings: [],
    ...extra,
  };
}

function textAnswer(text: string): GenerateResult {
  return answer([{ type: 'text', text }]);
}

function mockModel(options: ConstructorParameters<typeof import('ai/test')['MockLanguageModelV4']>[0] = {}) {
  return new aiTest.MockLanguageModelV4({
    provider: 'google.generative-ai',
    modelId: 'gemini-2.5-flash',
    ...options,
  });
}

function streamOf(parts: StreamPart[]) {
  return { stream: aiTest.convertArrayToReadableStream(parts) };
}

async function stepError(promise: Promise<unknown>): Promise<CloudhopError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(CloudhopError);
  return error as CloudhopError;
}

function toolCall(callId: string, name: string, args: unknown): ToolCallItem {
  return createItem<ToolCallItem>({ type: 'tool_call', callId, name, arguments: JSON.stringify(args) });
}

function toolResult(callId: string, output: string, isError?: boolean): ToolResultItem {
  return createItem<ToolResultItem>({ type: 'tool_result', callId, output, ...(isError ? { isError } : {}) });
}

function assistant(text: string): MessageItem {
  return createItem<MessageItem>({ type: 'message', role: 'assistant', content: [{ type: 'text', text }] });
}

const weatherTool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

describe.skipIf(!aiSdkRuns)('aiSdkRuntime: identity and options', () => {
  it('names provider and model in its id, and takes its family and GenAI provider name from the model', () => {
    const gemini = aiSdkRuntime(mockModel());
    expect(gemini).toMatchObject({
      id: 'ai-sdk:google.generative-ai/gemini-2.5-flash',
      kind: 'stateless',
      family: 'google.generative-ai',
      provider: 'gcp.gemini',
      model: 'gemini-2.5-flash',
    });
    const claude = aiSdkRuntime(mockModel({ provider: 'anthropic.messages', modelId: 'claude-sonnet-4-5' }));
    expect(claude).toMatchObject({ family: 'anthropic.messages', provider: 'anthropic' });
    const other = aiSdkRuntime(mockModel({ provider: 'acme.chat', modelId: 'acme-1' }));
    expect(other).toMatchObject({
      id: 'ai-sdk:acme.chat/acme-1',
      family: 'acme.chat',
      provider: 'acme.chat',
    });
    expect(aiSdkRuntime(mockModel(), { family: 'gemini' }).family).toBe('gemini');
  });

  it.each([
    ['a model id string', 'gemini-2.5-flash', /model id strings/],
    ['null', null, /got null/],
    ['a plain object', { provider: 'x', modelId: 'y' }, /without doGenerate and doStream/],
    [
      'a provider instead of one of its models',
      Object.assign(() => undefined, { languageModel: () => undefined }),
      /got a provider/,
    ],
    [
      'a model of an unknown specification version',
      {
        specificationVersion: 'v1',
        provider: 'openai.chat',
        modelId: 'gpt-4o',
        doGenerate() {},
        doStream() {},
      },
      /specification version "v1"/,
    ],
  ])('refuses %s with invalid_config naming the model', (_, value, message) => {
    let thrown: unknown;
    try {
      aiSdkRuntime(value as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CloudhopError);
    expect(thrown).toMatchObject({ code: 'invalid_config', path: 'model' });
    expect((thrown as Error).message).toMatch(/^aiSdkRuntime: option "model"/);
    expect((thrown as Error).message).toMatch(message);
  });

  it.each([
    ['family', { family: '' }],
    ['maxOutputTokens', { maxOutputTokens: 0 }],
    ['temperature', { temperature: 'hot' }],
    ['providerOptions.google', { providerOptions: { google: 1 } }],
    ['unknownOption', { unknownOption: true }],
  ])('refuses a bad option %s with invalid_config naming it', (path, options) => {
    let thrown: unknown;
    try {
      aiSdkRuntime(mockModel(), options as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'invalid_config' });
    expect((thrown as Error).message).toContain(path === 'unknownOption' ? 'unknownOption' : `"${path}"`);
  });
});

describe.skipIf(!aiSdkRuns)('aiSdkRuntime: a step on the mock language model', () => {
  it('sends instructions, the transcript with its tool calls and results, tools and options as the AI SDK prompt', async () => {
    const model = mockModel({ doGenerate: textAnswer('It is sunny.') });
    const runtime = aiSdkRuntime(model, {
      maxOutputTokens: 256,
      temperature: 0.2,
      providerOptions: { google: { thinkingConfig: { includeThoughts: true } } },
    });
    const items: Item[] = [
      user('Weather in Paris and Oslo?'),
      assistant('Let me check.'),
      toolCall('call_abc', 'get_weather', { city: 'Paris' }),
      toolCall('call_def', 'get_weather', { city: 'Oslo' }),
      toolResult('call_abc', '{"tempC":21}'),
      toolResult('call_def', 'Oslo is not covered', true),
    ];
    const context = recordingContext();
    await runtime.step(stepRequest({ instructions: INSTRUCTIONS, items, tools: [weatherTool] }), context);

    const [call] = model.doGenerateCalls;
    expect(call!.prompt).toEqual([
      { role: 'system', content: INSTRUCTIONS },
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Oslo?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Let me check.' },
          { type: 'tool-call', toolCallId: 'call_abc', toolName: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool-call', toolCallId: 'call_def', toolName: 'get_weather', input: { city: 'Oslo' } },
        ],
      },
      {
        role: 'tool',
        content: [
          {
            type: 'tool-result',
            toolCallId: 'call_abc',
            toolName: 'get_weather',
            output: { type: 'text', value: '{"tempC":21}' },
          },
          {
            type: 'tool-result',
            toolCallId: 'call_def',
            toolName: 'get_weather',
            output: { type: 'error-text', value: 'Oslo is not covered' },
          },
        ],
      },
    ]);
    expect(call!.tools).toEqual([
      {
        type: 'function',
        name: 'get_weather',
        description: 'Current weather for a city',
        inputSchema: weatherTool.parameters,
      },
    ]);
    expect(call).toMatchObject({
      maxOutputTokens: 256,
      temperature: 0.2,
      providerOptions: { google: { thinkingConfig: { includeThoughts: true } } },
    });
    expect(call!.abortSignal).toBe(context.signal);
    expect(call!.responseFormat).toBeUndefined();
  });

  it('sends no empty assistant message for an assistant item without text', async () => {
    const model = mockModel({ doGenerate: textAnswer('Hi.') });
    const items: Item[] = [user('Hello'), assistant(''), user('Anyone there?')];
    await aiSdkRuntime(model).step(stepRequest({ items }), recordingContext());
    expect(model.doGenerateCalls[0]!.prompt.map((message) => message.role)).toEqual(['user', 'user']);
  });

  it('rewrites a call id or tool name another cloud issued that providers refuse, the same way in call and result', async () => {
    const model = mockModel({ doGenerate: textAnswer('ok') });
    const items: Item[] = [
      user('Look it up.'),
      toolCall('call:1/abc', 'functions.lookup', { q: 'x' }),
      toolResult('call:1/abc', 'found'),
    ];
    await aiSdkRuntime(model).step(stepRequest({ items }), recordingContext());
    const [, calls, results] = model.doGenerateCalls[0]!.prompt as any[];
    const sentCall = calls.content[0];
    const sentResult = results.content[0];
    expect(sentCall.toolCallId).toMatch(/^cloudhop_[A-Za-z0-9_-]{43}$/);
    expect(sentResult.toolCallId).toBe(sentCall.toolCallId);
    expect(sentCall.toolName).toMatch(/^functions_lookup__[0-9a-f]{16}$/);
    expect(sentResult.toolName).toBe(sentCall.toolName);
  });

  it("reads text, tool calls with the model's ids, finish reason, usage and response metadata from doGenerate", async () => {
    const model = mockModel({
      doGenerate: answer(
        [
          { type: 'text', text: 'Checking ' },
          { type: 'text', text: 'Lyon.' },
          { type: 'tool-call', toolCallId: 'toolu_01AbC', toolName: 'get_weather', input: '{"city":"Lyon"}' },
        ],
        {
          usage: usage(120, 30, { cacheRead: 100, reasoning: 12 }),
          response: { id: 'resp_123', modelId: 'gemini-2.5-flash-001' },
        },
      ),
    });
    const result = await aiSdkRuntime(model).step(stepRequest({ tools: [weatherTool] }), recordingContext());
    expect(result.items).toMatchObject([
      { type: 'message', role: 'assistant', content: [{ type: 'text', text: 'Checking Lyon.' }] },
      { type: 'tool_call', callId: 'toolu_01AbC', name: 'get_weather', arguments: '{"city":"Lyon"}' },
    ]);
    expect(result.finishReason).toBe('tool_calls');
    expect(result.usage).toMatchObject({
      inputTokens: 120,
      outputTokens: 30,
      totalTokens: 150,
      cachedInputTokens: 100,
      reasoningTokens: 12,
    });
    expect(result.usage.requestBytes).toBeGreaterThan(0);
    expect(result.response).toEqual({ id: 'resp_123', model: 'gemini-2.5-flash-001' });
  });

  it('leaves tools the provider ran itself to the provider: no tool call for the agent to run', async () => {
    const model = mockModel({
      doGenerate: answer([
        {
          type: 'tool-call',
          toolCallId: 'srv_1',
          toolName: 'google_search',
          input: '{"q":"news"}',
          providerExecuted: true,
        },
        { type: 'tool-result', toolCallId: 'srv_1', toolName: 'google_search', result: { hits: 3 } },
        { type: 'text', text: 'Three hits.' },
      ]),
    });
    const result = await aiSdkRuntime(model).step(stepRequest(), recordingContext());
    expect(result.items.map((item) => item.type)).toEqual(['message']);
    expect(result.finishReason).toBe('stop');
  });

  it('streams text deltas through emit as they arrive, and assembles the same items', async () => {
    const model = mockModel({
      doStream: streamOf([
        { type: 'stream-start', warnings: [] },
        { type: 'response-metadata', id: 'resp_9', modelId: 'gemini-2.5-flash-002' },
        { type: 'text-start', id: 't1' },
        { type: 'text-delta', id: 't1', delta: 'Hel' },
        { type: 'text-delta', id: 't1', delta: 'lo' },
        { type: 'text-delta', id: 't1', delta: ' there' },
        { type: 'text-end', id: 't1' },
        { type: 'tool-input-start', id: 'call_7', toolName: 'get_weather' },
        { type: 'tool-input-delta', id: 'call_7', delta: '{"city":' },
        { type: 'tool-input-delta', id: 'call_7', delta: '"Rome"}' },
        { type: 'tool-input-end', id: 'call_7' },
        { type: 'tool-call', toolCallId: 'call_7', toolName: 'get_weather', input: '{"city":"Rome"}' },
        { type: 'finish', finishReason: { unified: 'tool-calls', raw: 'STOP' }, usage: usage(40, 9) },
      ]),
    });
    const context = recordingContext();
    const result = await aiSdkRuntime(model).step(
      stepRequest({ stream: true, tools: [weatherTool] }),
      context,
    );
    expect(context.deltas()).toEqual(['Hel', 'lo', ' there']);
    expect(model.doStreamCalls).toHaveLength(1);
    expect(model.doGenerateCalls).toHaveLength(0);
    expect(result.items).toMatchObject([
      { type: 'message', content: [{ type: 'text', text: 'Hello there' }] },
      { type: 'tool_call', callId: 'call_7', name: 'get_weather', arguments: '{"city":"Rome"}' },
    ]);
    expect(result.finishReason).toBe('tool_calls');
    expect(result.usage).toMatchObject({ inputTokens: 40, outputTokens: 9, totalTokens: 49 });
    expect(result.response).toEqual({ id: 'resp_9', model: 'gemini-2.5-flash-002' });
  });

  it('asks for JSON that fits the schema when the turn has an output schema, and the agent returns it typed', async () => {
    const model = mockModel({ doGenerate: textAnswer('{"city":"Lisbon","days":3}') });
    const agent = createAgent({ runtime: aiSdkRuntime(model), instructions: INSTRUCTIONS });
    const result = await agent.run('Plan three days in Lisbon.', {
      session: 'structured',
      output: z.object({ city: z.string(), days: z.number() }),
    });
    expect(result.output).toEqual({ city: 'Lisbon', days: 3 });
    const format = model.doGenerateCalls[0]!.responseFormat as any;
    expect(format.type).toBe('json');
    expect(format.schema).toMatchObject({
      type: 'object',
      properties: { city: { type: 'string' }, days: { type: 'number' } },
      required: ['city', 'days'],
    });
  });

  it("sends images in the form of the model's specification version, and a note for a URL the model does not fetch", async () => {
    const image: Item = createItem<MessageItem>({
      type: 'message',
      role: 'user',
      content: [
        { type: 'text', text: 'What is in these?' },
        { type: 'image', mediaType: 'image/png', data: 'aGVsbG8=' },
        { type: 'image', mediaType: 'image/jpeg', url: 'https://cdn.example.com/cat.jpg' },
        { type: 'image', mediaType: 'image/jpeg', url: 'https://other.example.org/dog.jpg' },
      ],
    });
    const supportedUrls = { 'image/*': [/^https:\/\/cdn\.example\.com\//] };
    const v4 = mockModel({ doGenerate: textAnswer('A cat.'), supportedUrls });
    await aiSdkRuntime(v4).step(stepRequest({ items: [image] }), recordingContext());
    const v4Parts = (v4.doGenerateCalls[0]!.prompt[0] as any).content;
    expect(v4Parts[1]).toEqual({
      type: 'file',
      mediaType: 'image/png',
      data: { type: 'data', data: 'aGVsbG8=' },
    });
    expect(v4Parts[2]).toEqual({
      type: 'file',
      mediaType: 'image/jpeg',
      data: { type: 'url', url: new URL('https://cdn.example.com/cat.jpg') },
    });
    expect(v4Parts[3]).toEqual({
      type: 'text',
      text: '[image (image/jpeg) at https://other.example.org/dog.jpg not attached: this model does not fetch images by URL]',
    });

    const v3 = new aiTest.MockLanguageModelV3({
      provider: 'google.generative-ai',
      modelId: 'gemini-2.0-flash',
      supportedUrls,
      doGenerate: {
        content: [{ type: 'text', text: 'A cat.' }],
        finishReason: { unified: 'stop', raw: 'STOP' },
        usage: usage(8, 2),
        warnings: [],
      },
    });
    const result = await aiSdkRuntime(v3).step(stepRequest({ items: [image] }), recordingContext());
    const v3Parts = (v3.doGenerateCalls[0]!.prompt[0] as any).content;
    expect(v3Parts[1]).toEqual({ type: 'file', mediaType: 'image/png', data: 'aGVsbG8=' });
    expect(v3Parts[2]).toEqual({
      type: 'file',
      mediaType: 'image/jpeg',
      data: new URL('https://cdn.example.com/cat.jpg'),
    });
    expect(result.items).toMatchObject([{ type: 'message', content: [{ type: 'text', text: 'A cat.' }] }]);
  });

  it('takes a v2 model (AI SDK 5): flat usage and a string finish reason', async () => {
    const calls: unknown[] = [];
    const v2 = {
      specificationVersion: 'v2' as const,
      provider: 'mistral.chat',
      modelId: 'mistral-large-latest',
      supportedUrls: {},
      async doGenerate(options: unknown) {
        calls.push(options);
        return {
          content: [
            { type: 'tool-call', toolCallId: 'AbC123xyz', toolName: 'get_weather', input: '{"city":"Nice"}' },
          ],
          finishReason: 'tool-calls',
          usage: { inputTokens: 33, outputTokens: 7, totalTokens: 40, cachedInputTokens: 11 },
          warnings: [],
        };
      },
      async doStream() {
        throw new Error('not used');
      },
    };
    const runtime = aiSdkRuntime(v2);
    expect(runtime).toMatchObject({ provider: 'mistral_ai', family: 'mistral.chat' });
    const result = await runtime.step(stepRequest({ tools: [weatherTool] }), recordingContext());
    expect(calls).toHaveLength(1);
    expect(result.items).toMatchObject([
      { type: 'tool_call', callId: 'AbC123xyz', arguments: '{"city":"Nice"}' },
    ]);
    expect(result.finishReason).toBe('tool_calls');
    expect(result.usage).toMatchObject({
      inputTokens: 33,
      outputTokens: 7,
      totalTokens: 40,
      cachedInputTokens: 11,
    });
  });

  it('stops at once when the turn is aborted mid-stream, even when the model ignores the signal', async () => {
    const controller = new AbortController();
    let cancelled = false;
    const model = mockModel({
      doStream: async () => ({
        stream: new ReadableStream<StreamPart>({
          start(stream) {
            stream.enqueue({ type: 'text-start', id: 't' });
            stream.enqueue({ type: 'text-delta', id: 't', delta: 'Once upon' });
          },
          cancel() {
            cancelled = true;
          },
        }),
      }),
    });
    const context = recordingContext(controller.signal);
    const origin = context.emit;
    context.emit = (event) => {
      origin(event);
      // Once the runtime waits for the next part, which never comes.
      setTimeout(() => controller.abort());
    };
    const error = await stepError(aiSdkRuntime(model).step(stepRequest({ stream: true }), context));
    expect(error.code).toBe('aborted');
    expect(cancelled).toBe(true);
  });

  it('stops at once when the turn is aborted while the model has not answered', async () => {
    const controller = new AbortController();
    const model = mockModel({
      doGenerate: () => {
        controller.abort();
        return new Promise<never>(() => {});
      },
    });
    const error = await stepError(
      aiSdkRuntime(model).step(stepRequest(), recordingContext(controller.signal)),
    );
    expect(error.code).toBe('aborted');
  });

  it('keeps the API key of the model out of its errors', async () => {
    const key = 'acme-secret-key-0123456789abcdef';
    const model = mockModel({
      doGenerate: async () => {
        throw new provider.APICallError({
          message: `Unauthorized: key ${key} is not valid`,
          url: 'https://api.acme.example/v1/chat',
          requestBodyValues: {},
          statusCode: 401,
          responseHeaders: {},
          responseBody: JSON.stringify({ error: { message: `invalid api key ${key}` } }),
        });
      },
    });
    // Where the providers of @ai-sdk/* keep the headers they send.
    Object.assign(model, { config: { headers: () => ({ 'x-api-key': key }) } });
    const error = await stepError(aiSdkRuntime(model).step(stepRequest(), recordingContext()));
    expect(error.code).toBe('auth_failed');
    for (const text of [
      error.message,
      JSON.stringify(error),
      inspect(error, { depth: 10 }),
      inspect(error.cause, { depth: 10 }),
    ]) {
      expect(text).not.toContain(key);
    }
  });
});

describe.skipIf(!aiSdkRuns)('aiSdkRuntime: errors → cloudhop codes', () => {
  const apiError = (statusCode: number | undefined, body: unknown, headers: Record<string, string> = {}) =>
    new provider.APICallError({
      message: `request failed${statusCode ? ` with ${statusCode}` : ''}`,
      url: 'https://example.test/v1',
      requestBodyValues: {},
      ...(statusCode === undefined
        ? { cause: new TypeError('fetch failed'), isRetryable: true }
        : { statusCode }),
      responseHeaders: headers,
      responseBody: JSON.stringify(body),
    });

  it.each([
    [
      '401',
      () => apiError(401, { error: { message: 'bad key' } }),
      { code: 'auth_failed', retryable: false, status: 401 },
    ],
    [
      '403',
      () => apiError(403, { error: { message: 'no access', status: 'PERMISSION_DENIED' } }),
      { code: 'auth_failed' },
    ],
    [
      '429 with retry-after',
      () => apiError(429, { error: { message: 'slow down' } }, { 'retry-after': '7' }),
      { code: 'rate_limited', retryable: true, retryAfterMs: 7000, status: 429 },
    ],
    [
      '503',
      () => apiError(503, { error: { message: 'busy' } }),
      { code: 'provider_unavailable', retryable: true },
    ],
    [
      '400 prompt too long',
      () =>
        apiError(400, {
          type: 'error',
          error: {
            type: 'invalid_request_error',
            message: 'prompt is too long: 215034 tokens > 200000 maximum',
          },
        }),
      { code: 'context_length_exceeded', retryable: false },
    ],
    [
      '404',
      () => apiError(404, { error: { message: 'model not found' } }),
      { code: 'invalid_config', path: 'model' },
    ],
    [
      '400 other',
      () => apiError(400, { error: { message: 'bad field' } }),
      { code: 'provider_error', retryable: false },
    ],
    ['no connection', () => apiError(undefined, {}), { code: 'provider_unavailable', retryable: true }],
    [
      'a missing API key',
      () => new provider.LoadAPIKeyError({ message: 'Google Generative AI API key is missing.' }),
      { code: 'auth_failed', retryable: false },
    ],
  ])('doGenerate failing with %s', async (_, makeError, expected) => {
    const model = mockModel({
      doGenerate: async () => {
        throw makeError();
      },
    });
    const runtime = aiSdkRuntime(model);
    const error = await stepError(runtime.step(stepRequest(), recordingContext()));
    expect(error).toMatchObject({ ...expected, runtimeId: runtime.id });
  });

  it('an error part in the stream (Anthropic overloaded) is provider_unavailable', async () => {
    const model = mockModel({
      doStream: streamOf([
        { type: 'text-start', id: '0' },
        { type: 'text-delta', id: '0', delta: 'Par' },
        { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
      ]),
    });
    const error = await stepError(
      aiSdkRuntime(model).step(stepRequest({ stream: true }), recordingContext()),
    );
    expect(error).toMatchObject({ code: 'provider_unavailable', retryable: true });
    expect(error.message).toContain('Overloaded');
  });

  it('a stream that ends without a finish is not an answer: provider_unavailable, nothing returned', async () => {
    const model = mockModel({
      doStream: streamOf([
        { type: 'text-start', id: '0' },
        { type: 'text-delta', id: '0', delta: 'The answer is' },
      ]),
    });
    const error = await stepError(
      aiSdkRuntime(model).step(stepRequest({ stream: true }), recordingContext()),
    );
    expect(error).toMatchObject({ code: 'provider_unavailable', retryable: true });
  });

  it('an answer the provider withheld is content_filtered with the blocked categories', async () => {
    const model = mockModel({
      doGenerate: answer([], {
        finishReason: { unified: 'content-filter', raw: 'SAFETY' },
        providerMetadata: {
          google: {
            safetyRatings: [
              { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true },
              { category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE' },
            ],
          },
        },
      }),
    });
    const error = await stepError(aiSdkRuntime(model).step(stepRequest(), recordingContext()));
    expect(error).toMatchObject({
      code: 'content_filtered',
      categories: ['dangerous_content'],
      retryable: false,
    });
  });
});

describe.skipIf(!aiSdkRuns)('aiSdkRuntime: reasoning is replayed only to its family', () => {
  const lookup = tool({
    name: 'get_weather',
    description: 'Current weather for a city',
    input: z.object({ city: z.string() }),
    execute: async ({ city }) => ({ city, tempC: 19 }),
  });

  function reasoningParts(prompt: unknown[]): unknown[] {
    return prompt.flatMap((message: any) =>
      Array.isArray(message.content) ? message.content.filter((part: any) => part.type === 'reasoning') : [],
    );
  }

  it('sends reasoning with its signature back to the same family, and leaves it out for another', async () => {
    const claude = mockModel({
      provider: 'anthropic.messages',
      modelId: 'claude-sonnet-4-5',
      doGenerate: [
        answer([
          {
            type: 'reasoning',
            text: '925 / 5 = 185',
            providerMetadata: { anthropic: { signature: 'sig-925' } },
          },
          { type: 'reasoning', text: '', providerMetadata: { anthropic: { redactedData: 'cmVkYWN0ZWQ=' } } },
          { type: 'text', text: '185' },
        ]),
        textAnswer('Still 185.'),
      ],
    });
    const gemini = mockModel({ doGenerate: textAnswer('Yes, 185.') });
    const otherModelSameFamily = mockModel({ doGenerate: textAnswer('Right.') });
    const store = memoryStore();
    const agent = createAgent({ runtime: aiSdkRuntime(claude), store, instructions: INSTRUCTIONS });

    await agent.run('What is 925 / 5?', { session: 'math' });
    const stored = await agent.session('math').items();
    expect(stored.filter((item) => item.type === 'reasoning')).toMatchObject([
      {
        summary: '925 / 5 = 185',
        provider: {
          family: 'anthropic.messages',
          data: {
            part: 'reasoning',
            text: '925 / 5 = 185',
            providerOptions: { anthropic: { signature: 'sig-925' } },
          },
        },
      },
      { provider: { family: 'anthropic.messages', data: { part: 'reasoning', text: '' } } },
    ]);

    await agent.withRuntime(aiSdkRuntime(gemini)).run('Is that right?', { session: 'math' });
    expect(reasoningParts(gemini.doGenerateCalls[0]!.prompt)).toEqual([]);

    // Another model told it is of the same family gets the reasoning.
    await agent
      .withRuntime(aiSdkRuntime(otherModelSameFamily, { family: 'anthropic.messages' }))
      .run('Sure?', { session: 'math' });
    expect(reasoningParts(otherModelSameFamily.doGenerateCalls[0]!.prompt)).toHaveLength(2);

    await agent.run('And once more?', { session: 'math' });
    const prompt = claude.doGenerateCalls[1]!.prompt as any[];
    const firstAnswer = prompt.find((message) => message.role === 'assistant');
    expect(firstAnswer.content).toEqual([
      { type: 'reasoning', text: '925 / 5 = 185', providerOptions: { anthropic: { signature: 'sig-925' } } },
      { type: 'reasoning', text: '', providerOptions: { anthropic: { redactedData: 'cmVkYWN0ZWQ=' } } },
      { type: 'text', text: '185' },
    ]);
  });

  it("puts a tool call's signature back on that call for the same family only", async () => {
    const gemini = mockModel({
      doGenerate: [
        answer([
          {
            type: 'tool-call',
            toolCallId: 'fc_gemini_1',
            toolName: 'get_weather',
            input: '{"city":"Lyon"}',
            providerMetadata: { google: { thoughtSignature: 'sig-call' } },
          },
        ]),
        answer([
          {
            type: 'text',
            text: 'Lyon: 19°C.',
            providerMetadata: { google: { thoughtSignature: 'sig-text' } },
          },
        ]),
        textAnswer('Still 19°C.'),
      ],
    });
    const claude = mockModel({
      provider: 'anthropic.messages',
      modelId: 'claude-sonnet-4-5',
      doGenerate: textAnswer('19°C.'),
    });
    const agent = createAgent({ runtime: aiSdkRuntime(gemini), tools: [lookup], instructions: INSTRUCTIONS });

    await agent.run('Use get_weather for Lyon.', { session: 'signed' });
    const secondStep = gemini.doGenerateCalls[1]!.prompt as any[];
    expect(secondStep.find((message) => message.role === 'assistant').content).toEqual([
      {
        type: 'tool-call',
        toolCallId: 'fc_gemini_1',
        toolName: 'get_weather',
        input: { city: 'Lyon' },
        providerOptions: { google: { thoughtSignature: 'sig-call' } },
      },
    ]);

    await agent.withRuntime(aiSdkRuntime(claude)).run('Sure?', { session: 'signed' });
    const onClaude = (claude.doGenerateCalls[0]!.prompt as any[]).filter(
      (message) => message.role === 'assistant',
    );
    expect(onClaude.map((message) => message.content)).toEqual([
      [{ type: 'tool-call', toolCallId: 'fc_gemini_1', toolName: 'get_weather', input: { city: 'Lyon' } }],
      [{ type: 'text', text: 'Lyon: 19°C.' }],
    ]);

    await agent.run('Thanks. Sure?', { session: 'signed' });
    const back = (gemini.doGenerateCalls[2]!.prompt as any[]).filter(
      (message) => message.role === 'assistant',
    );
    expect(back.map((message) => message.content)).toEqual([
      [
        {
          type: 'tool-call',
          toolCallId: 'fc_gemini_1',
          toolName: 'get_weather',
          input: { city: 'Lyon' },
          providerOptions: { google: { thoughtSignature: 'sig-call' } },
        },
      ],
      [{ type: 'text', text: 'Lyon: 19°C.', providerOptions: { google: { thoughtSignature: 'sig-text' } } }],
      [{ type: 'text', text: '19°C.' }],
    ]);
  });
});
