import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import * as z from 'zod/v4';
import {
  type Agent,
  CloudhopError,
  createAgent,
  failover,
  type RunResult,
  type Runtime,
  type TelemetryOptions,
  tool,
} from '../../src/index.js';
import { openaiChat } from '../../src/openai.js';
import { scriptedRuntime } from '../../src/testing/index.js';
import { emulatorForFile, INSTRUCTIONS, MODELS } from '../integration/helpers.js';
import { childrenOf, memoryTracing, serialized, turnSpans } from './helpers.js';

const { emu, clouds } = await emulatorForFile({ clearFaults: true });
const tracing = memoryTracing();
const { tracer } = tracing;

/** An API key of a runtime made here: registered as a secret when the runtime is created. */
const API_KEY = 'telemetry-key-Zq81vT5wNc';
/** A token with an OpenAI key's shape, secret wherever it appears. */
const SHAPED_KEY = 'sk-proj-Hq2Lx9Vb7Rt4Wm1Kc8Ne3Ys6';
/** What the user says, and what a tool answers: content, which a trace holds only when asked. */
const USER_WORDS = 'Marmalade-Quokka-4471';
const TOOL_WORDS = 'Vermilion-Tapir-9032';
const QUESTION = `Use get_weather for Paris. My code word is ${USER_WORDS}, my keys are ${API_KEY} and ${SHAPED_KEY}.`;

const keyed = openaiChat({ baseURL: emu.openaiBaseURL, model: MODELS.openaiChat, apiKey: API_KEY });

const weather = tool({
  name: 'get_weather',
  description: 'Current weather for a city',
  input: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, tempC: 21, note: TOOL_WORDS }),
});

/** A server that refuses every key and, as some gateways do, quotes the key it was sent. */
const echoing = createServer((request, response) => {
  const key = (request.headers.authorization ?? '').replace(/^Bearer /, '');
  response.writeHead(401, { 'content-type': 'application/json' });
  response.end(
    JSON.stringify({
      error: {
        message: `Incorrect API key provided: ${key}.`,
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      },
    }),
  );
});
await new Promise<void>((resolve) => echoing.listen(0, '127.0.0.1', resolve));
afterAll(() => new Promise<void>((resolve) => echoing.close(() => resolve())));
const echoingURL = `http://127.0.0.1:${(echoing.address() as AddressInfo).port}/v1`;

function agentWith(runtime: Runtime, telemetry: TelemetryOptions): Agent {
  return createAgent({
    runtime,
    instructions: INSTRUCTIONS,
    tools: [weather],
    retry: { maxRetries: 0 },
    telemetry,
  });
}

async function rejection(promise: Promise<unknown>): Promise<CloudhopError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!CloudhopError.is(error)) throw new Error(`expected a CloudhopError, got ${String(error)}`);
  return error;
}

/**
 * Turns that carry content and keys every way they can reach a span: a user message, a tool result,
 * a model answer, a vendor error quoting the key, and an answer that fails the output schema.
 */
async function turnsWithContent(telemetry: TelemetryOptions): Promise<RunResult> {
  const agent = agentWith(failover([keyed, clouds.azureChat]), telemetry);
  const result = await agent.run(QUESTION, { session: 'content' });
  expect(result.text).toContain(TOOL_WORDS);

  const refused = openaiChat({ baseURL: echoingURL, model: MODELS.openaiChat, apiKey: API_KEY });
  const denied = await rejection(agentWith(refused, telemetry).run(QUESTION, { session: 'denied' }));
  expect(denied.code).toBe('auth_failed');

  const prose = scriptedRuntime([`Sure! ${USER_WORDS} is not JSON.`], { id: 'prose' });
  const invalid = await rejection(
    agentWith(prose, telemetry).run(QUESTION, { session: 'invalid', output: z.object({ n: z.number() }) }),
  );
  expect(invalid.code).toBe('output_invalid');

  // A runtime of one's own whose client throws an error quoting the key.
  const leaky: Runtime = {
    id: 'leaky',
    kind: 'stateless',
    family: 'custom',
    async step() {
      throw new Error(`upstream refused the key ${API_KEY}`);
    },
  };
  const crashed = await rejection(agentWith(leaky, telemetry).run(QUESTION, { session: 'leaky' }));
  expect(crashed.code).toBe('provider_error');
  return result;
}

const CONTENT_ATTRIBUTES = [
  'gen_ai.input.messages',
  'gen_ai.output.messages',
  'gen_ai.system_instructions',
  'gen_ai.tool.call.arguments',
  'gen_ai.tool.call.result',
];

describe('content and secrets on spans', () => {
  it('by default no span carries a message, a tool argument or result, or a key', async () => {
    tracing.reset();
    await turnsWithContent({ tracer });
    const spans = tracing.spans();
    expect(turnSpans(spans)).toHaveLength(4);
    for (const span of spans) {
      const text = serialized(span);
      for (const secret of [API_KEY, SHAPED_KEY, USER_WORDS, TOOL_WORDS, INSTRUCTIONS, 'Paris']) {
        expect(text, `${span.name} carries ${secret}`).not.toContain(secret);
      }
      for (const key of CONTENT_ATTRIBUTES) expect(span.attributes).not.toHaveProperty(key);
    }
    // The failures are still described, without what they quoted.
    const [, denied, invalid, crashed] = turnSpans(spans);
    expect(denied!.attributes['error.type']).toBe('auth_failed');
    expect(denied!.status.message).toContain('[redacted]');
    const [refusedRequest] = childrenOf(spans, crashed!);
    expect(refusedRequest!.status.message).toBe('upstream refused the key [redacted]');
    expect(invalid!.attributes['error.type']).toBe('output_invalid');
    expect(invalid!.status.message).toContain('output schema');
  });

  it('with recordContent, messages and tool calls are recorded in the GenAI shape, keys redacted', async () => {
    tracing.reset();
    const result = await turnsWithContent({ tracer, recordContent: true });
    const spans = tracing.spans();
    for (const span of spans) {
      const text = serialized(span);
      expect(text, span.name).not.toContain(API_KEY);
      expect(text, span.name).not.toContain(SHAPED_KEY);
    }

    const [turn, , invalid] = turnSpans(spans);
    // Recording content, a failure is told with what it quoted.
    expect(invalid!.status.message).toContain(USER_WORDS);
    const asked = `Use get_weather for Paris. My code word is ${USER_WORDS}, my keys are [redacted] and [redacted].`;
    expect(messages(turn!, 'gen_ai.input.messages')).toEqual([
      { role: 'user', parts: [{ type: 'text', content: asked }] },
    ]);
    expect(outputMessages(turn!)).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: result.text }], finish_reason: 'stop' },
    ]);

    const [first, toolSpan, second] = childrenOf(spans, turn!) as [ReadableSpan, ReadableSpan, ReadableSpan];
    expect([first.name, toolSpan.name, second.name]).toEqual([
      `chat ${MODELS.openaiChat}`,
      'execute_tool get_weather',
      `chat ${MODELS.openaiChat}`,
    ]);
    const call = result.items.find((item) => item.type === 'tool_call')!;
    const output = result.items.find((item) => item.type === 'tool_result')!;
    if (call.type !== 'tool_call' || output.type !== 'tool_result') throw new Error('no tool call');

    for (const chat of [first, second]) {
      expect(parsed(chat, 'gen_ai.system_instructions')).toEqual([{ type: 'text', content: INSTRUCTIONS }]);
      expect(messages(chat, 'gen_ai.input.messages')[0]).toEqual({
        role: 'user',
        parts: [{ type: 'text', content: asked }],
      });
    }
    expect(messages(first, 'gen_ai.input.messages')).toHaveLength(1);
    const toolCall = {
      type: 'tool_call',
      id: call.callId,
      name: 'get_weather',
      arguments: JSON.parse(call.arguments),
    };
    expect(outputMessages(first)).toEqual([
      { role: 'assistant', parts: [toolCall], finish_reason: 'tool_calls' },
    ]);
    expect(messages(second, 'gen_ai.input.messages').slice(1)).toEqual([
      { role: 'assistant', parts: [toolCall] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: call.callId, response: output.output }] },
    ]);
    expect(outputMessages(second)).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: result.text }], finish_reason: 'stop' },
    ]);

    expect(JSON.parse(toolSpan.attributes['gen_ai.tool.call.arguments'] as string)).toEqual(
      JSON.parse(call.arguments),
    );
    expect(toolSpan.attributes['gen_ai.tool.call.result']).toBe(output.output);
    expect(output.output).toContain(TOOL_WORDS);
  });
});

const part = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text'), content: z.string() }),
  z.strictObject({ type: z.literal('reasoning'), content: z.string() }),
  z.strictObject({ type: z.literal('tool_call'), id: z.string(), name: z.string(), arguments: z.unknown() }),
  z.strictObject({ type: z.literal('tool_call_response'), id: z.string(), response: z.unknown() }),
  z.strictObject({
    type: z.literal('uri'),
    modality: z.string(),
    mime_type: z.string(),
    uri: z.string(),
  }),
  z.strictObject({
    type: z.literal('blob'),
    modality: z.string(),
    mime_type: z.string(),
    content: z.string(),
  }),
]);
/** gen-ai-input-messages.json: role + parts. */
const inputMessage = z.strictObject({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  parts: z.array(part),
});
/** gen-ai-output-messages.json: also a finish_reason. */
const outputMessage = inputMessage.extend({ finish_reason: z.string() });

function parsed(span: ReadableSpan, key: string): unknown {
  const value = span.attributes[key];
  expect(typeof value, `${span.name} ${key}`).toBe('string');
  return JSON.parse(value as string);
}

function messages(span: ReadableSpan, key: string): z.infer<typeof inputMessage>[] {
  return z.array(inputMessage).parse(parsed(span, key));
}

function outputMessages(span: ReadableSpan): z.infer<typeof outputMessage>[] {
  return z.array(outputMessage).parse(parsed(span, 'gen_ai.output.messages'));
}
