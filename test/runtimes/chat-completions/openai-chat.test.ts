import { HttpResponse } from 'msw';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ToolCallItem } from '../../../src/core/items.js';
import { openaiChat } from '../../../src/openai.js';
import { recordingContext, recordingServer, sse, sseOf, stepRequest } from './chat-test-kit.js';

const { seen, answerWith } = recordingServer();
const OPENAI_URL = 'https://api.openai.com/v1/chat/completions';
const LOCAL_URL = 'http://localhost:11434/v1/chat/completions';

beforeEach(() => {
  // The machine's own OpenAI settings must not leak into these tests.
  vi.stubEnv('OPENAI_API_KEY', '');
  vi.stubEnv('OPENAI_BASE_URL', '');
});
afterEach(() => {
  vi.unstubAllEnvs();
});

/**
 * Chunks in OpenAI's chat streaming format (as recorded from api.openai.com): the first chunk
 * carries the role, each call starts with `index`, `id`, `type` and `name` with empty arguments,
 * the arguments follow in fragments keyed by `index`, then a finish chunk and a usage chunk with
 * `choices: []`.
 */
function chunk(delta: Record<string, unknown>, finishReason: string | null = null) {
  return {
    id: 'chatcmpl-BQb0iSFzE1zz1OVhaqg3u2Yqn1Ezf',
    object: 'chat.completion.chunk',
    created: 1745678496,
    model: 'gpt-4o-2024-08-06',
    service_tier: 'default',
    system_fingerprint: 'fp_eede8f0d45',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    usage: null,
    obfuscation: 'x1Yz',
  };
}
const startCall = (index: number, id: string, name: string, first = false) =>
  chunk({
    ...(first ? { role: 'assistant', content: null, refusal: null } : {}),
    tool_calls: [{ index, id, type: 'function', function: { name, arguments: '' } }],
  });
const callArguments = (index: number, fragment: string) =>
  chunk({ tool_calls: [{ index, function: { arguments: fragment } }] });
const usageChunk = {
  id: 'chatcmpl-BQb0iSFzE1zz1OVhaqg3u2Yqn1Ezf',
  object: 'chat.completion.chunk',
  created: 1745678496,
  model: 'gpt-4o-2024-08-06',
  service_tier: 'default',
  system_fingerprint: 'fp_eede8f0d45',
  choices: [],
  usage: {
    prompt_tokens: 91,
    completion_tokens: 48,
    total_tokens: 139,
    prompt_tokens_details: { cached_tokens: 64, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  },
};

const toolCalls = (items: unknown[]) =>
  (items as ToolCallItem[])
    .filter((item) => item.type === 'tool_call')
    .map(({ callId, name, arguments: args }) => ({ callId, name, arguments: args }));

describe('openaiChat: identity and connection', () => {
  it('talks to api.openai.com with a bearer key by default', async () => {
    answerWith(OPENAI_URL, () =>
      sse(sseOf([chunk({ role: 'assistant', content: 'Hi' }), chunk({}, 'stop'), usageChunk])),
    );
    const runtime = openaiChat({
      model: 'gpt-4o',
      apiKey: 'sk-test-default-0001',
      organization: 'org-cloudhop',
    });
    expect(runtime.id).toBe('openai-chat:api.openai.com/v1/gpt-4o');
    expect(runtime.family).toBe('openai');
    expect(runtime.kind).toBe('stateless');
    await runtime.step(stepRequest({ stream: true }), recordingContext());
    expect(seen[0]!.headers.get('authorization')).toBe('Bearer sk-test-default-0001');
    expect(seen[0]!.headers.get('openai-organization')).toBe('org-cloudhop');
    expect(seen[0]!.body.model).toBe('gpt-4o');
  });

  it('falls back to OPENAI_API_KEY', async () => {
    vi.stubEnv('OPENAI_API_KEY', 'sk-from-environment-02');
    answerWith(OPENAI_URL, () => sse(sseOf([chunk({ content: 'Hi' }, 'stop')])));
    await openaiChat({ model: 'gpt-4o' }).step(stepRequest({ stream: true }), recordingContext());
    expect(seen[0]!.headers.get('authorization')).toBe('Bearer sk-from-environment-02');
  });

  it('talks to a compatible server at baseURL, without credentials when it has none, with custom headers', async () => {
    answerWith(LOCAL_URL, () => sse(sseOf([chunk({ content: 'Hi' }, 'stop')])));
    const runtime = openaiChat({
      model: 'llama3.2',
      baseURL: 'http://localhost:11434/v1/',
      headers: { 'x-tenant': 'blue' },
    });
    expect(runtime.id).toBe('openai-chat:localhost:11434/v1/llama3.2');
    await runtime.step(stepRequest({ stream: true }), recordingContext());
    expect(seen[0]!.url.href).toBe(LOCAL_URL);
    expect(seen[0]!.headers.get('authorization')).toBeNull();
    expect(seen[0]!.headers.get('x-tenant')).toBe('blue');
    expect(seen[0]!.body.model).toBe('llama3.2');
  });

  it('follows OPENAI_BASE_URL when no baseURL is given, and names it in the id', () => {
    vi.stubEnv('OPENAI_BASE_URL', 'http://vllm.internal:8000/v1');
    expect(openaiChat({ model: 'qwen', apiKey: 'sk-test-0003' }).id).toBe(
      'openai-chat:vllm.internal:8000/v1/qwen',
    );
  });
});

describe('openaiChat: tool calls', () => {
  it('assembles a tool call streamed in fragments', async () => {
    answerWith(OPENAI_URL, () =>
      sse(
        sseOf([
          startCall(0, 'call_PieqNSej6kM9hgYbcQdbZSaC', 'get_weather', true),
          callArguments(0, '{"'),
          callArguments(0, 'city'),
          callArguments(0, '":"'),
          callArguments(0, 'Paris'),
          callArguments(0, '"}'),
          chunk({}, 'tool_calls'),
          usageChunk,
        ]),
      ),
    );
    const context = recordingContext();
    const result = await openaiChat({ model: 'gpt-4o', apiKey: 'sk-test-0004' }).step(
      stepRequest({ stream: true }),
      context,
    );
    expect(context.deltas()).toEqual([]);
    expect(result.finishReason).toBe('tool_calls');
    expect(result.items.map((item) => item.type)).toEqual(['tool_call']);
    expect(toolCalls(result.items)).toEqual([
      { callId: 'call_PieqNSej6kM9hgYbcQdbZSaC', name: 'get_weather', arguments: '{"city":"Paris"}' },
    ]);
    expect(result.items[0]!.id).not.toBe('call_PieqNSej6kM9hgYbcQdbZSaC');
    expect(result.usage).toEqual({
      inputTokens: 91,
      outputTokens: 48,
      totalTokens: 139,
      cachedInputTokens: 64,
      reasoningTokens: 0,
      requestBytes: seen[0]!.bytes,
    });
  });

  it('assembles parallel tool calls by index, in index order', async () => {
    answerWith(OPENAI_URL, () =>
      sse(
        sseOf([
          startCall(0, 'call_Paris0000000000000000', 'get_weather', true),
          callArguments(0, '{"city":'),
          callArguments(0, ' "Paris"}'),
          startCall(1, 'call_Oslo00000000000000000', 'get_weather'),
          callArguments(1, '{"city":'),
          callArguments(1, ' "Oslo"}'),
          startCall(2, 'call_Time00000000000000000', 'get_time'),
          chunk({}, 'tool_calls'),
          usageChunk,
        ]),
      ),
    );
    const result = await openaiChat({ model: 'gpt-4o', apiKey: 'sk-test-0005' }).step(
      stepRequest({ stream: true }),
      recordingContext(),
    );
    expect(toolCalls(result.items)).toEqual([
      { callId: 'call_Paris0000000000000000', name: 'get_weather', arguments: '{"city": "Paris"}' },
      { callId: 'call_Oslo00000000000000000', name: 'get_weather', arguments: '{"city": "Oslo"}' },
      // A call without parameters comes with empty arguments; the tool loop gets JSON.
      { callId: 'call_Time00000000000000000', name: 'get_time', arguments: '{}' },
    ]);
  });

  it('keeps text said before a tool call as the assistant message, ahead of the call', async () => {
    answerWith(OPENAI_URL, () =>
      sse(
        sseOf([
          chunk({ role: 'assistant', content: '', refusal: null }),
          chunk({ content: 'Let me look' }),
          chunk({ content: ' that up.' }),
          startCall(0, 'call_Look00000000000000000', 'search'),
          callArguments(0, '{"q":"weather"}'),
          chunk({}, 'tool_calls'),
        ]),
      ),
    );
    const context = recordingContext();
    const result = await openaiChat({ model: 'gpt-4o', apiKey: 'sk-test-0006' }).step(
      stepRequest({ stream: true }),
      context,
    );
    expect(context.deltas()).toEqual(['Let me look', ' that up.']);
    expect(result.items.map((item) => item.type)).toEqual(['message', 'tool_call']);
    expect(result.items[0]).toMatchObject({
      role: 'assistant',
      content: [{ type: 'text', text: 'Let me look that up.' }],
    });
  });

  it('reads parallel tool calls from a non-streamed completion', async () => {
    const completion = {
      id: 'chatcmpl-BcQ8ko2nz9B7CRvV0uVbcowidHpQU',
      object: 'chat.completion',
      created: 1748496646,
      model: 'gpt-4o-2024-08-06',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            refusal: null,
            annotations: [],
            tool_calls: [
              {
                id: 'call_qOfTGgDrItLORNfC6VwUbyLL',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"location":"Shanghai"}' },
              },
              {
                id: 'call_Xy7pLm2Qw9RtZs4VbNc8KdHe',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"location":"Tokyo"}' },
              },
            ],
          },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 91, completion_tokens: 14, total_tokens: 105 },
      service_tier: 'default',
      system_fingerprint: 'fp_76544d79cb',
    };
    answerWith(OPENAI_URL, () => HttpResponse.json(completion));
    const result = await openaiChat({ model: 'gpt-4o', apiKey: 'sk-test-0007' }).step(
      stepRequest(),
      recordingContext(),
    );
    expect(result.finishReason).toBe('tool_calls');
    expect(result.items.map((item) => item.type)).toEqual(['tool_call', 'tool_call']);
    expect(toolCalls(result.items)).toEqual([
      { callId: 'call_qOfTGgDrItLORNfC6VwUbyLL', name: 'get_weather', arguments: '{"location":"Shanghai"}' },
      { callId: 'call_Xy7pLm2Qw9RtZs4VbNc8KdHe', name: 'get_weather', arguments: '{"location":"Tokyo"}' },
    ]);
  });

  it('treats tool calls under finish_reason stop (some compatible servers) as tool calls', async () => {
    answerWith(LOCAL_URL, () =>
      sse(
        sseOf([
          startCall(0, 'call_ollama_1', 'get_weather', true),
          callArguments(0, '{"city":"Rome"}'),
          chunk({}, 'stop'),
        ]),
      ),
    );
    const result = await openaiChat({
      model: 'llama3.2',
      baseURL: 'http://localhost:11434/v1',
      apiKey: 'ollama',
    }).step(stepRequest({ stream: true }), recordingContext());
    expect(result.finishReason).toBe('tool_calls');
  });
});

describe('openaiChat: finish reasons', () => {
  it('reports length when the answer hit the token limit', async () => {
    answerWith(OPENAI_URL, () =>
      sse(sseOf([chunk({ role: 'assistant', content: 'Once upon a' }), chunk({}, 'length')])),
    );
    const result = await openaiChat({ model: 'gpt-4o', apiKey: 'sk-test-0008' }).step(
      stepRequest({ stream: true }),
      recordingContext(),
    );
    expect(result.finishReason).toBe('length');
    expect(result.items[0]).toMatchObject({ content: [{ text: 'Once upon a' }] });
  });
});
