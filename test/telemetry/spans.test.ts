import { type Span as ApiSpan, context, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod/v4';
import {
  type Agent,
  type AgentOptions,
  CloudhopError,
  createAgent,
  failover,
  memoryStore,
  type RunResult,
  type Runtime,
  type SessionStore,
  tool,
} from '../../src/index.js';
import { conversationItems, seedSession } from '../helpers/long-session.js';
import { emulatorForFile, INSTRUCTIONS, keyOf, MODELS } from '../integration/helpers.js';
import {
  AsyncLocalContextManager,
  childrenOf,
  idOf,
  KIND,
  memoryTracing,
  parentOf,
  STATUS,
  turnSpans,
} from './helpers.js';

const { emu, clouds } = await emulatorForFile({ clearFaults: true });
const tracing = memoryTracing();
const { tracer } = tracing;
const port = Number(new URL(emu.url).port);

// Without a context manager `context.active()` is always the root context; applications register
// one (AsyncLocalStorage-based in Node) so that spans follow awaits.
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalContextManager());
});
afterAll(() => {
  context.disable();
});

const weather = tool({
  name: 'get_weather',
  description: 'Current weather for a city',
  input: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, tempC: 21, sky: 'clear' }),
});
const clock = tool({
  name: 'get_time',
  description: 'Local time in a city',
  input: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, time: '12:00' }),
});

function agentWith(options: Partial<AgentOptions> & Pick<AgentOptions, 'runtime'>): Agent {
  return createAgent({
    store: memoryStore(),
    instructions: INSTRUCTIONS,
    retry: { maxRetries: 1, initialDelayMs: 1 },
    telemetry: { tracer },
    ...options,
  });
}

/** Runs `work` inside an active span of the application's own, as a request handler would. */
async function underOuterSpan<T>(work: () => Promise<T>): Promise<{ outer: ReadableSpan; value: T }> {
  let outerId = '';
  const value = await tracer.startActiveSpan('handle request', async (span: ApiSpan) => {
    outerId = span.spanContext().spanId;
    try {
      return await work();
    } finally {
      span.end();
    }
  });
  const outer = tracing.spans().find((span) => idOf(span) === outerId)!;
  return { outer, value };
}

async function streamed(agent: Agent, input: string, session: string): Promise<RunResult> {
  const stream = agent.stream(input, { session });
  for await (const _event of stream) {
    // drained
  }
  return stream.result;
}

/**
 * Azure answers 429 once, then 503 (every matching fault counts each request, so the 503 fault is
 * spent by both): with maxRetries 1, one retry on Azure, then the step fails over to frontier; the
 * next step finds Azure answering again.
 */
function rateLimitedThenDown(): void {
  emu.faults.set([
    { route: 'chat', status: 429, retryAfterMs: 1, count: 1 },
    { route: 'chat', status: 503, count: 2 },
  ]);
}

const usageOf = (span: ReadableSpan) => ({
  inputTokens: span.attributes['gen_ai.usage.input_tokens'],
  outputTokens: span.attributes['gen_ai.usage.output_tokens'],
});

/**
 * The tree of a turn on failover([azureChat, frontier]) that asked for two tools: Azure rate
 * limited (attempt 1), Azure down (attempt 2), frontier answers with both tool calls, both tools
 * run, then Azure (recovered) answers.
 */
function expectFailoverTree(
  spans: ReadableSpan[],
  outer: ReadableSpan,
  result: RunResult,
  session: string,
  streamedTurn: boolean,
): void {
  const [turn, ...others] = turnSpans(spans);
  expect(others).toEqual([]);
  expect(turn!.name).toBe('invoke_agent');
  expect(turn!.kind).toBe(KIND.INTERNAL);
  expect(parentOf(turn!)).toBe(idOf(outer));
  for (const span of spans) expect(span.spanContext().traceId).toBe(outer.spanContext().traceId);

  const children = childrenOf(spans, turn!);
  // Nothing of the turn hangs elsewhere: every span is the outer one, the turn, or a child of it.
  expect(spans).toHaveLength(children.length + 2);
  const names = children.map((span) => span.name);
  expect(names).toHaveLength(6);
  expect(names.slice(0, 3)).toEqual([
    `chat ${MODELS.azureChat}`,
    `chat ${MODELS.azureChat}`,
    `chat ${MODELS.frontier}`,
  ]);
  // The two tools run concurrently: their spans may start in either order.
  expect(names.slice(3, 5).sort()).toEqual(['execute_tool get_time', 'execute_tool get_weather']);
  expect(names[5]).toBe(`chat ${MODELS.azureChat}`);

  const [limited, down, moved, toolA, toolB, answered] = children as [
    ReadableSpan,
    ReadableSpan,
    ReadableSpan,
    ReadableSpan,
    ReadableSpan,
    ReadableSpan,
  ];
  const chats = [limited, down, moved, answered];
  for (const span of chats) {
    expect(span.kind).toBe(KIND.CLIENT);
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.conversation.id': session,
      'gen_ai.output.type': 'text',
      'gen_ai.request.stream': streamedTurn,
      'server.address': '127.0.0.1',
      'server.port': port,
    });
  }
  const azure = {
    'gen_ai.provider.name': 'azure.ai.openai',
    'gen_ai.request.model': MODELS.azureChat,
    'cloudhop.runtime.id': clouds.azureChat.id,
  };
  expect(limited.attributes).toMatchObject({ ...azure, 'cloudhop.attempt': 1, 'error.type': 'rate_limited' });
  expect(down.attributes).toMatchObject({
    ...azure,
    'cloudhop.attempt': 2,
    'error.type': 'provider_unavailable',
  });
  for (const failed of [limited, down]) {
    expect(failed.status.code).toBe(STATUS.ERROR);
    expect(failed.status.message).toBeTruthy();
    expect(failed.attributes).not.toHaveProperty('gen_ai.response.id');
    expect(failed.attributes).not.toHaveProperty('gen_ai.usage.input_tokens');
  }
  expect(moved.attributes).toMatchObject({
    'gen_ai.provider.name': 'aws.bedrock',
    'gen_ai.request.model': MODELS.frontier,
    'gen_ai.response.model': MODELS.frontier,
    'cloudhop.runtime.id': clouds.frontier.id,
    'cloudhop.attempt': 1,
    'cloudhop.remote.resumed': false,
    'gen_ai.response.finish_reasons': ['tool_calls'],
  });
  expect(moved.attributes['gen_ai.response.id']).toMatch(/^resp_[0-9a-f]+$/);
  expect(answered.attributes).toMatchObject({
    ...azure,
    'gen_ai.response.model': MODELS.azureChat,
    'cloudhop.attempt': 1,
    'gen_ai.response.finish_reasons': ['stop'],
  });
  expect(answered.attributes['gen_ai.response.id']).toMatch(/^chatcmpl-[A-Za-z0-9]+$/);
  for (const ok of [moved, answered]) {
    expect(ok.status.code).toBe(STATUS.UNSET);
    expect(ok.attributes).not.toHaveProperty('error.type');
    expect(ok.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(ok.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
  }
  // Usage per request adds up to the turn's, which the turn span carries.
  const sum = (key: 'inputTokens' | 'outputTokens') =>
    (usageOf(moved)[key] as number) + (usageOf(answered)[key] as number);
  expect({ inputTokens: sum('inputTokens'), outputTokens: sum('outputTokens') }).toEqual({
    inputTokens: result.usage.inputTokens,
    outputTokens: result.usage.outputTokens,
  });
  // Streaming measures the first text chunk; the tool-call step has none, the answer has.
  expect(moved.attributes).not.toHaveProperty('gen_ai.response.time_to_first_chunk');
  if (streamedTurn) expect(answered.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
  else expect(answered.attributes).not.toHaveProperty('gen_ai.response.time_to_first_chunk');

  const calls = result.items.flatMap((item) => (item.type === 'tool_call' ? [item] : []));
  expect(calls).toHaveLength(2);
  for (const span of [toolA, toolB]) {
    const call = calls.find((c) => span.name === `execute_tool ${c.name}`)!;
    expect(span.kind).toBe(KIND.INTERNAL);
    expect(span.status.code).toBe(STATUS.UNSET);
    expect(span.attributes).toEqual({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': call.name,
      'gen_ai.tool.call.id': call.callId,
      'gen_ai.tool.type': 'function',
      'gen_ai.conversation.id': session,
    });
  }

  expect(turn!.status.code).toBe(STATUS.UNSET);
  expect(turn!.attributes).toMatchObject({
    'gen_ai.operation.name': 'invoke_agent',
    'gen_ai.conversation.id': session,
    'cloudhop.session.namespace': 'default',
    'cloudhop.runtime.id': failover([clouds.azureChat, clouds.frontier]).id,
    'cloudhop.answered_by': result.runtimeId,
    'cloudhop.session.version': result.sessionVersion,
    'gen_ai.usage.input_tokens': result.usage.inputTokens,
    'gen_ai.usage.output_tokens': result.usage.outputTokens,
    // A failover group names no provider: the turn names the runtime that answered it.
    'gen_ai.provider.name': 'azure.ai.openai',
    'gen_ai.request.model': MODELS.azureChat,
  });
  expect(turn!.attributes).not.toHaveProperty('cloudhop.replayed');
  expect(turn!.events.map((event) => [event.name, event.attributes])).toEqual([
    ['cloudhop.retry', { 'cloudhop.attempt': 1, 'cloudhop.retry.delay_ms': 1, 'error.type': 'rate_limited' }],
    [
      'cloudhop.failover',
      {
        'cloudhop.failover.from': clouds.azureChat.id,
        'cloudhop.failover.to': clouds.frontier.id,
        'error.type': 'provider_unavailable',
      },
    ],
  ]);
}

describe('the spans of a turn', () => {
  it('a turn that retried, failed over and ran two tools: invoke_agent under the active span, a chat span per attempt, an execute_tool span per call', async () => {
    tracing.reset();
    const agent = agentWith({
      runtime: failover([clouds.azureChat, clouds.frontier]),
      tools: [weather, clock],
    });
    rateLimitedThenDown();
    const session = 'failover-tree';
    const { outer, value: result } = await underOuterSpan(() =>
      agent.run('Use get_weather and get_time for Paris.', { session }),
    );
    expect(result.runtimeId).toBe(clouds.azureChat.id);
    expectFailoverTree(tracing.spans(), outer, result, session, false);
  });

  it('stream() makes the same tree, streamed requests saying so and timing their first chunk', async () => {
    tracing.reset();
    const agent = agentWith({
      runtime: failover([clouds.azureChat, clouds.frontier]),
      tools: [weather, clock],
    });
    rateLimitedThenDown();
    const session = 'failover-tree-streamed';
    const { outer, value: result } = await underOuterSpan(() =>
      streamed(agent, 'Use get_weather and get_time for Paris.', session),
    );
    expectFailoverTree(tracing.spans(), outer, result, session, true);
  });

  it('a failed turn: invoke_agent is an error of the turn error code, and the turn rejects as it does untraced', async () => {
    const failedWith = async (agent: Agent, session: string) => {
      const error = await agent.run('Hello', { session }).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      if (!CloudhopError.is(error)) throw new Error(`expected a CloudhopError, got ${String(error)}`);
      return error;
    };
    const options = { runtime: failover([clouds.azureChat, clouds.frontier]), retry: { maxRetries: 0 } };
    emu.faults.set([
      { route: 'chat', status: 503 },
      { route: 'responses', status: 503 },
    ]);
    const untraced = await failedWith(agentWith({ ...options, telemetry: undefined }), 'down-untraced');
    tracing.reset();
    const store = memoryStore();
    const traced = await failedWith(agentWith({ ...options, store }), 'down');
    expect({ code: traced.code, message: traced.message }).toEqual({
      code: untraced.code,
      message: untraced.message,
    });
    expect(traced.code).toBe('provider_unavailable');
    expect(await store.load(keyOf('down'))).toBeUndefined();

    const spans = tracing.spans();
    const [turn] = turnSpans(spans);
    expect(turn!.status).toEqual({ code: STATUS.ERROR, message: traced.message });
    expect(turn!.attributes['error.type']).toBe('provider_unavailable');
    // A failed turn has no result: no usage or version is made up for it.
    expect(turn!.attributes).not.toHaveProperty('cloudhop.session.version');
    expect(turn!.events.map((event) => event.name)).toEqual(['cloudhop.failover']);
    const children = childrenOf(spans, turn!);
    expect(children.map((span) => [span.name, span.status.code, span.attributes['error.type']])).toEqual([
      [`chat ${MODELS.azureChat}`, STATUS.ERROR, 'provider_unavailable'],
      [`chat ${MODELS.frontier}`, STATUS.ERROR, 'provider_unavailable'],
    ]);

    // An error no other cloud can cure ends the turn on the first runtime.
    tracing.reset();
    emu.faults.set({ route: 'chat', status: 401 });
    const denied = await failedWith(agentWith(options), 'denied');
    expect(denied.code).toBe('auth_failed');
    const [deniedTurn] = turnSpans(tracing.spans());
    expect(deniedTurn!.status.code).toBe(STATUS.ERROR);
    expect(deniedTurn!.attributes['error.type']).toBe('auth_failed');
    expect(childrenOf(tracing.spans(), deniedTurn!).map((span) => span.attributes['error.type'])).toEqual([
      'auth_failed',
    ]);
  });

  it('a tool that fails makes its execute_tool span an error of type tool_error; the turn goes on', async () => {
    tracing.reset();
    const broken = tool({
      name: 'get_weather',
      description: 'Current weather for a city',
      input: z.object({ city: z.string() }),
      execute: async () => {
        throw new Error('weather service down');
      },
    });
    const agent = agentWith({ runtime: clouds.azureChat, tools: [broken, clock] });
    const result = await agent.run('Use get_weather and get_time for Paris.', { session: 'tool-error' });
    expect(result.text).toContain('weather service down');
    const spans = tracing.spans();
    const [turn] = turnSpans(spans);
    expect(turn!.status.code).toBe(STATUS.UNSET);
    const tools = spans.filter((span) => span.name.startsWith('execute_tool'));
    const byName = Object.fromEntries(tools.map((span) => [span.name, span]));
    expect(byName['execute_tool get_weather']!.status.code).toBe(STATUS.ERROR);
    expect(byName['execute_tool get_weather']!.attributes['error.type']).toBe('tool_error');
    expect(byName['execute_tool get_time']!.status.code).toBe(STATUS.UNSET);
    expect(byName['execute_tool get_time']!.attributes).not.toHaveProperty('error.type');
  });

  it('spans a tool or a model request makes nest under its execute_tool or chat span', async () => {
    tracing.reset();
    const activeInRequests: Array<string | undefined> = [];
    const inner = clouds.azureChat;
    const instrumented: Runtime = {
      id: inner.id,
      kind: inner.kind,
      family: inner.family,
      provider: inner.provider,
      model: inner.model,
      step(request, stepContext) {
        // What an HTTP client instrumentation would see as its parent.
        activeInRequests.push(trace.getActiveSpan()?.spanContext().spanId);
        return inner.step(request, stepContext);
      },
    };
    const lookup = tool({
      name: 'get_weather',
      description: 'Current weather for a city',
      input: z.object({ city: z.string() }),
      execute: async ({ city }) =>
        tracer.startActiveSpan('weather lookup', async (span: ApiSpan) => {
          await new Promise((resolve) => setImmediate(resolve));
          span.end();
          return { city, tempC: 21 };
        }),
    });
    const agent = agentWith({ runtime: instrumented, tools: [lookup] });
    await agent.run('Use get_weather for Paris.', { session: 'nested' });

    const spans = tracing.spans();
    const chats = spans.filter((span) => span.name.startsWith('chat'));
    expect(chats).toHaveLength(2);
    expect(activeInRequests).toEqual(chats.map(idOf));
    const toolSpan = spans.find((span) => span.name === 'execute_tool get_weather')!;
    const own = spans.find((span) => span.name === 'weather lookup')!;
    expect(parentOf(own)).toBe(idOf(toolSpan));
    // Outside the turn nothing is left active.
    expect(trace.getActiveSpan()).toBeUndefined();
  });

  it('agentName names the turn span and sets gen_ai.agent.name', async () => {
    tracing.reset();
    const agent = agentWith({ runtime: clouds.openaiChat, telemetry: { tracer, agentName: 'travel-desk' } });
    await agent.run('Hello', { session: 'named' });
    const [turn] = turnSpans(tracing.spans());
    expect(turn!.name).toBe('invoke_agent travel-desk');
    expect(turn!.attributes).toMatchObject({
      'gen_ai.agent.name': 'travel-desk',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': MODELS.openaiChat,
    });
    const [chat] = childrenOf(tracing.spans(), turn!);
    expect(chat!.attributes['gen_ai.provider.name']).toBe('openai');
  });
});

describe('what happened to the session shows as events on the turn span', () => {
  it('a stateful runtime whose stored response is gone: cloudhop.reseed', async () => {
    tracing.reset();
    const agent = agentWith({ runtime: clouds.frontier });
    await agent.run('Hi, my name is Ada.', { session: 'reseed' });
    emu.faults.set({ route: 'responses', dropStored: true, count: 1 });
    const result = await agent.run('What is my name?', { session: 'reseed' });
    expect(result.text).toBe('Your name is Ada.');

    const [first, second] = turnSpans(tracing.spans());
    expect(first!.events).toEqual([]);
    expect(second!.events.map((event) => event.name)).toEqual(['cloudhop.reseed']);
    expect(second!.events[0]!.attributes).toEqual({
      'cloudhop.runtime.id': clouds.frontier.id,
      'cloudhop.reseed.reason': expect.stringContaining('previous_response_not_found'),
    });
    const [resumed] = childrenOf(tracing.spans(), second!);
    expect(resumed!.attributes['cloudhop.remote.resumed']).toBe(true);
  });

  it('a session past its compaction trigger: cloudhop.compaction; a summarizer that fails: cloudhop.compaction_failed', async () => {
    const budget = { maxInputTokens: 8_000, compaction: { triggerTokens: 4_000, keepRecentTokens: 1_000 } };
    const seeded = async (store: SessionStore, session: string) =>
      seedSession(store, keyOf(session), conversationItems(200, { 0: 'Hi, my name is Ada.' }));

    tracing.reset();
    const store = memoryStore();
    await seeded(store, 'compact');
    const agent = agentWith({ runtime: clouds.azureChat, store, context: budget });
    const result = await agent.run('What is my name?', { session: 'compact' });
    expect(result.text).toBe('Your name is Ada.');
    const summary = result.items[0]!;
    if (summary.type !== 'summary') throw new Error('the turn did not compact');

    const spans = tracing.spans();
    const [turn] = turnSpans(spans);
    expect(turn!.events.map((event) => [event.name, event.attributes])).toEqual([
      [
        'cloudhop.compaction',
        {
          'cloudhop.runtime.id': clouds.azureChat.id,
          'cloudhop.compaction.from_version': 0,
          'cloudhop.compaction.to_version': summary.covers.toVersion,
        },
      ],
    ]);
    // The summarizer's requests are traced too, before the request that answers the user.
    const children = childrenOf(spans, turn!);
    expect(children.length).toBeGreaterThan(1);
    expect(children.every((span) => span.name === `chat ${MODELS.azureChat}`)).toBe(true);
    // Each summarizer request is a request of its own, not a retry of the one before.
    expect(children.map((span) => span.attributes['cloudhop.attempt'])).toEqual(children.map(() => 1));

    tracing.reset();
    const failingStore = memoryStore();
    await seeded(failingStore, 'compact-fails');
    emu.faults.set({ route: 'converse', status: 503 });
    const failing = agentWith({
      runtime: clouds.azureChat,
      store: failingStore,
      retry: { maxRetries: 0 },
      context: { ...budget, compaction: { ...budget.compaction, runtime: clouds.bedrockConverse } },
    });
    const answered = await failing.run('What is my name?', { session: 'compact-fails' });
    expect(answered.items[0]!.type).toBe('message');
    const [failedTurn] = turnSpans(tracing.spans());
    expect(failedTurn!.status.code).toBe(STATUS.UNSET);
    expect(failedTurn!.events.map((event) => [event.name, event.attributes])).toEqual([
      ['cloudhop.compaction_failed', { 'error.type': 'provider_unavailable' }],
    ]);
    const [summarizer, answer] = childrenOf(tracing.spans(), failedTurn!);
    expect(summarizer!.name).toBe(`chat ${MODELS.bedrockConverse}`);
    expect(summarizer!.status.code).toBe(STATUS.ERROR);
    expect(answer!.name).toBe(`chat ${MODELS.azureChat}`);
  });

  it('a replayed turn (same idempotencyKey): cloudhop.replayed, and no chat span', async () => {
    tracing.reset();
    const agent = agentWith({ runtime: clouds.azureChat });
    const first = await agent.run('Hello', { session: 'replay', idempotencyKey: 'order-7' });
    const again = await agent.run('Hello', { session: 'replay', idempotencyKey: 'order-7' });
    expect(again.text).toBe(first.text);

    const spans = tracing.spans();
    const [original, replayed] = turnSpans(spans);
    expect(childrenOf(spans, original!).map((span) => span.name)).toEqual([`chat ${MODELS.azureChat}`]);
    expect(original!.attributes).not.toHaveProperty('cloudhop.replayed');
    expect(childrenOf(spans, replayed!)).toEqual([]);
    expect(replayed!.status.code).toBe(STATUS.UNSET);
    expect(replayed!.attributes).toMatchObject({
      'cloudhop.replayed': true,
      'cloudhop.session.version': first.sessionVersion,
      'gen_ai.usage.input_tokens': 0,
      'gen_ai.usage.output_tokens': 0,
    });
  });
});
