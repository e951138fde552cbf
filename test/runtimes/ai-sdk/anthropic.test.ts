import { inspect } from 'node:util';
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/v4';
import { aiSdkRuntime } from '../../../src/ai-sdk.js';
import { CloudhopError, createAgent, memoryStore, tool } from '../../../src/index.js';
import { recordingContext, stepRequest } from '../../helpers/runtime-kit.js';
import {
  aiSdkRuns,
  anthropicSse,
  errorResponse,
  fixtureJson,
  fixtureText,
  geminiSse,
  importWhereSupported,
  providerServer,
  warnIfSkipped,
} from './ai-sdk-test-kit.js';

warnIfSkipped('cloudhop/ai-sdk with @ai-sdk/anthropic');
const anthropic = await importWhereSupported(() => import('@ai-sdk/anthropic'));
const google = await importWhereSupported(() => import('@ai-sdk/google'));

const API_KEY = 'sk-ant-api03-anthropic-test-key-0123456789abcdef';
const MESSAGES = 'https://api.anthropic.com/v1/messages';
const GEMINI =
  /^https:\/\/generativelanguage\.googleapis\.com\/v1beta\/models\/[^/:]+:streamGenerateContent$/;
const INSTRUCTIONS = 'You are a helpful assistant.';

const server = providerServer();

function claude() {
  return aiSdkRuntime(anthropic.createAnthropic({ apiKey: API_KEY })('claude-sonnet-4-5'));
}

/** Answers the Messages API with one response per request, in order (the last one repeats). */
function answerWith(...responses: Array<() => Response>) {
  let next = 0;
  server.use(
    http.post(
      MESSAGES,
      server.recorded(() => responses[Math.min(next++, responses.length - 1)]!()),
    ),
  );
}

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

const updateIssueList = tool({
  name: 'updateIssueList',
  description: 'Refresh the list of open issues',
  input: z.object({}),
  execute: async () => ({ open: 4 }),
});

describe.skipIf(!aiSdkRuns)('aiSdkRuntime(@ai-sdk/anthropic): Claude answers', () => {
  it('sends the key, instructions and messages, and reads text, usage, id and model back', async () => {
    answerWith(() => HttpResponse.json(fixtureJson('anthropic-text.json')));
    const runtime = claude();
    expect(runtime).toMatchObject({
      id: 'ai-sdk:anthropic.messages/claude-sonnet-4-5',
      family: 'anthropic.messages',
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
    });
    const result = await runtime.step(stepRequest({ instructions: INSTRUCTIONS }), recordingContext());
    const [request] = server.seen;
    expect(request!.headers.get('x-api-key')).toBe(API_KEY);
    expect(request!.body).toMatchObject({
      model: 'claude-sonnet-4-5',
      system: [{ type: 'text', text: INSTRUCTIONS }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }],
    });
    expect(result.items).toMatchObject([
      {
        type: 'message',
        role: 'assistant',
        content: [
          {
            type: 'text',
            text: "Hello! I'm doing well, thanks for asking. How are you doing today? Is there anything I can help you with?",
          },
        ],
      },
    ]);
    expect(result.finishReason).toBe('stop');
    expect(result.usage).toMatchObject({
      inputTokens: 12,
      outputTokens: 29,
      totalTokens: 41,
      cachedInputTokens: 0,
    });
    expect(result.usage.requestBytes).toBe(request!.bytes);
    expect(result.response).toEqual({
      id: 'msg_01VdEjxAP5ahtHKrrRdNBteQ',
      model: 'claude-sonnet-4-5-20250929',
    });
  });

  it('streams the text deltas of a Messages stream, with pings in between', async () => {
    answerWith(() => anthropicSse(fixtureText('anthropic-text.chunks.txt')));
    const context = recordingContext();
    const result = await claude().step(stepRequest({ stream: true }), context);
    expect(server.seen[0]!.body.stream).toBe(true);
    expect(context.deltas()).toEqual([
      'Hello',
      '! I',
      "'m doing well, thank you for asking",
      '. How are you doing today?',
      ' Is',
      ' there anything I can help you with?',
    ]);
    expect(result.items).toMatchObject([
      { type: 'message', content: [{ type: 'text', text: context.deltas().join('') }] },
    ]);
    expect(result.usage).toMatchObject({ inputTokens: 12, outputTokens: 30 });
    expect(result.response).toEqual({
      id: 'msg_01QC4g3HwBThD4BaNtBckFDJ',
      model: 'claude-sonnet-4-5-20250929',
    });
  });

  it.each([
    ['non-streamed', false],
    ['streamed', true],
  ])('runs the tool Claude calls (%s) and answers its tool_use id', async (_, streamed) => {
    answerWith(
      () =>
        streamed
          ? anthropicSse(fixtureText('anthropic-tool-no-args.chunks.txt'))
          : HttpResponse.json(fixtureJson('anthropic-tool-no-args.json')),
      () =>
        streamed
          ? anthropicSse(fixtureText('anthropic-text.chunks.txt'))
          : HttpResponse.json(fixtureJson('anthropic-text.json')),
    );
    const agent = createAgent({ runtime: claude(), tools: [updateIssueList], instructions: INSTRUCTIONS });
    if (streamed) {
      const stream = agent.stream('Update the issue list.', { session: 'issues' });
      for await (const _event of stream);
      await stream.result;
    } else {
      await agent.run('Update the issue list.', { session: 'issues' });
    }
    const toolUseId = streamed ? 'toolu_01QE1WLsSVp5hy5Q3GmGTmjP' : 'toolu_01LRmxn9vGM1d2DZSDBowdZ1';
    const items = await agent.session('issues').items();
    expect(items.find((item) => item.type === 'tool_call')).toMatchObject({
      callId: toolUseId,
      name: 'updateIssueList',
      arguments: '{}',
    });
    expect(server.seen).toHaveLength(2);
    const [, assistantTurn, toolResults] = server.seen[1]!.body.messages;
    expect(assistantTurn.role).toBe('assistant');
    expect(assistantTurn.content.at(-1)).toMatchObject({
      type: 'tool_use',
      id: toolUseId,
      name: 'updateIssueList',
      input: {},
    });
    expect(toolResults).toMatchObject({
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: toolUseId, content: '{"open":4}' }],
    });
  });

  it.each([
    ['non-streamed', false],
    ['streamed', true],
  ])('replays thinking with its signature to Claude, and never to Gemini (%s)', async (_, streamed) => {
    const thinking = streamed
      ? anthropicSse(fixtureText('anthropic-thinking.chunks.txt'))
      : HttpResponse.json(fixtureJson('anthropic-thinking.json'));
    answerWith(
      () => thinking,
      () => HttpResponse.json(fixtureJson('anthropic-text.json')),
    );
    server.use(
      http.post(
        GEMINI,
        server.recorded(() => geminiSse(fixtureText('google-text.chunks.txt'))),
      ),
    );
    const thinkingOn = { anthropic: { thinking: { type: 'enabled', budgetTokens: 2048 } } };
    const runtime = aiSdkRuntime(anthropic.createAnthropic({ apiKey: API_KEY })('claude-sonnet-4-5'), {
      providerOptions: thinkingOn,
    });
    const gemini = aiSdkRuntime(
      google.createGoogleGenerativeAI({ apiKey: 'AIza-gemini-key-0123456789' })('gemini-3-pro-preview'),
    );
    const store = memoryStore();
    const agent = createAgent({ runtime, store, instructions: INSTRUCTIONS });

    const first = streamed
      ? await (async () => {
          const stream = agent.stream('What is 925 / 5?', { session: 'thinking' });
          for await (const _event of stream);
          return stream.result;
        })()
      : await agent.run('What is 925 / 5?', { session: 'thinking' });
    const [reasoning] = first.items.filter((item) => item.type === 'reasoning');
    const expected = streamed
      ? {
          text: 'The previous result was 925. Now I need to divide that by 5.\n\n925 ÷ 5 = 185',
          signature: JSON.parse(
            fixtureText('anthropic-thinking.chunks.txt')
              .split('\n')
              .find((line) => line.includes('signature_delta'))!,
          ).delta.signature,
        }
      : {
          text: '925 divided by 5 = 185',
          signature: fixtureJson('anthropic-thinking.json').content[0].signature,
        };
    expect(reasoning).toMatchObject({
      summary: expected.text,
      provider: {
        family: 'anthropic.messages',
        data: {
          part: 'reasoning',
          text: expected.text,
          providerOptions: { anthropic: { signature: expected.signature } },
        },
      },
    });
    expect(first.text).toBe('925 ÷ 5 = 185');

    const onGemini = agent.withRuntime(gemini).stream('Are you sure?', { session: 'thinking' });
    for await (const _event of onGemini);
    await onGemini.result;
    const geminiRequest = server.seen.find(
      (request) => request.url.hostname === 'generativelanguage.googleapis.com',
    )!;
    const modelTurn = geminiRequest.body.contents.find((content: any) => content.role === 'model');
    expect(modelTurn.parts).toEqual([{ text: '925 ÷ 5 = 185' }]);

    await agent.run('Thanks!', { session: 'thinking' });
    const back = server.seen.filter((request) => request.url.href === MESSAGES).at(-1)!;
    expect(back.body.thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
    expect(back.body.messages[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: expected.text, signature: expected.signature },
        { type: 'text', text: '925 ÷ 5 = 185' },
      ],
    });
  });
});

describe.skipIf(!aiSdkRuns)('aiSdkRuntime(@ai-sdk/anthropic): Claude errors', () => {
  it('maps 401 authentication_error to auth_failed, without the key', async () => {
    answerWith(() => errorResponse('anthropic-errors.json', '401-authentication'));
    const error = await stepError(claude().step(stepRequest(), recordingContext()));
    expect(error).toMatchObject({ code: 'auth_failed', retryable: false, status: 401 });
    expect(error.message).toContain('invalid x-api-key');
    expectNoKey(error);
  });

  it('maps 429 rate_limit_error to rate_limited with the retry-after delay', async () => {
    answerWith(() => errorResponse('anthropic-errors.json', '429-rate-limit'));
    const error = await stepError(claude().step(stepRequest({ stream: true }), recordingContext()));
    expect(error).toMatchObject({ code: 'rate_limited', retryable: true, status: 429, retryAfterMs: 17_000 });
    expectNoKey(error);
  });

  it.each([
    ['529 overloaded_error', '529-overloaded', 'provider_unavailable', true],
    ['400 prompt is too long', '400-prompt-too-long', 'context_length_exceeded', false],
  ])('maps %s', async (_, example, code, retryable) => {
    answerWith(() => errorResponse('anthropic-errors.json', example));
    const error = await stepError(claude().step(stepRequest(), recordingContext()));
    expect(error).toMatchObject({ code, retryable });
    expectNoKey(error);
  });

  it('maps an error event in the middle of a stream to provider_unavailable', async () => {
    const started = fixtureText('anthropic-text.chunks.txt').split('\n').slice(0, 4).join('\n');
    answerWith(() => anthropicSse(started, fixtureJson('anthropic-errors.json').streamError));
    const context = recordingContext();
    const error = await stepError(claude().step(stepRequest({ stream: true }), context));
    expect(context.deltas()).toEqual(['Hello']);
    expect(error).toMatchObject({ code: 'provider_unavailable', retryable: true });
    expect(error.message).toContain('Overloaded');
  });
});
