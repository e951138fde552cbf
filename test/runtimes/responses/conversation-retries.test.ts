import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AgentEvent, RuntimeEvent } from '../../../src/core/events.js';
import type { Item } from '../../../src/core/items.js';
import { type Emulator, startEmulator } from '../../../src/emulator/index.js';
import { createAgent, memoryStore } from '../../../src/index.js';
import { NEVER_ABORTED, type RetryPolicy, stepWithRetry } from '../../../src/runtime/retry.js';
import type { StepRequest, StepResult } from '../../../src/runtime/runtime.js';
import { openaiResponses } from '../../../src/runtimes/responses/openai-responses.js';
import { user } from './responses-test-kit.js';

let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator();
});
afterEach(() => emu.faults.clear());
afterAll(() => emu.close());

/** The agent's retry driver, without waiting between attempts. */
const IMMEDIATE_RETRIES: RetryPolicy = {
  maxRetries: 2,
  initialDelayMs: 0,
  maxDelayMs: 0,
  maxRetryAfterMs: 0,
};

/** The emulator's stream: response.created and response.in_progress, then the output. */
const CUT_BEFORE_ANY_TEXT = 2;

const conversationRuntime = () =>
  openaiResponses({
    apiKey: 'sk-emulator',
    baseURL: emu.openaiBaseURL,
    model: 'gpt-5.4',
    state: 'conversation',
  });

/** One step as the agent runs it: retried on the same request after a retryable failure. */
async function stepAsTheAgentDoes(
  runtime: ReturnType<typeof conversationRuntime>,
  request: StepRequest,
): Promise<{ result: StepResult; events: RuntimeEvent[] }> {
  const events: RuntimeEvent[] = [];
  const result = await stepWithRetry(runtime, request, (event) => events.push(event), {
    policy: IMMEDIATE_RETRIES,
    signal: NEVER_ABORTED,
    runtimeId: runtime.id,
    onRetry: (retry) => events.push({ type: 'retry', ...retry }),
  });
  return { result, events };
}

/** What a conversation holds, as role/text lines, oldest first. */
async function heldBy(conversationId: string): Promise<string[]> {
  const response = await fetch(
    `${emu.openaiBaseURL}/conversations/${conversationId}/items?order=asc&limit=100`,
    {
      headers: { authorization: 'Bearer inspect' },
    },
  );
  const page = (await response.json()) as { data: Array<{ role: string; content: Array<{ text: string }> }> };
  return page.data.map((item) => `${item.role}: ${item.content.map((part) => part.text).join('')}`);
}

function linesOf(items: Item[]): string[] {
  return items.flatMap((item) =>
    item.type === 'message'
      ? [`${item.role}: ${item.content.map((part) => (part.type === 'text' ? part.text : '')).join('')}`]
      : [],
  );
}

/** The events besides text deltas, in order. */
const notices = (events: AgentEvent[]) =>
  events.filter((event) => event.type !== 'text-delta').map((event) => event.type);

const conversationsCreated = () => emu.stats().routes.conversations?.requests ?? 0;

describe('conversation mode under retries', () => {
  it('creates one conversation for a first step the server refused twice', async () => {
    const runtime = conversationRuntime();
    const before = conversationsCreated();
    emu.faults.set({ route: 'responses', status: 503, count: 2 });
    const items = [user('My name is Ada.')];
    const { result, events } = await stepAsTheAgentDoes(runtime, {
      items,
      tools: [],
      stream: true,
    });

    expect(events.filter((event) => event.type === 'retry')).toHaveLength(2);
    expect(conversationsCreated() - before).toBe(1);
    expect(await heldBy(result.remote!.conversationId!)).toEqual(linesOf([...items, ...result.items]));
  });

  it('continues no conversation that a cut stream may have changed: the retry reseeds a new one', async () => {
    const runtime = conversationRuntime();
    const first = await stepAsTheAgentDoes(runtime, {
      items: [user('My name is Ada.')],
      tools: [],
      stream: true,
    });
    const transcript = [user('My name is Ada.'), ...first.result.items, user('What is my name?')];

    emu.faults.set({ route: 'responses', cutAfterChunks: CUT_BEFORE_ANY_TEXT, count: 1 });
    const { result, events } = await stepAsTheAgentDoes(runtime, {
      items: transcript,
      tools: [],
      stream: true,
      remoteState: { remote: first.result.remote!, syncedCount: 2 },
      reseedItems: async () => transcript,
    });

    // The binding the step returns holds the session exactly once, as the local transcript does.
    expect(await heldBy(result.remote!.conversationId!)).toEqual(linesOf([...transcript, ...result.items]));
    expect(linesOf(result.items)).toEqual(['assistant: Your name is Ada.']);
    expect(result.remote!.conversationId).not.toBe(first.result.remote!.conversationId);
    expect(notices(events)).toEqual(['retry', 'session-reseeded']);
  });

  it('starts over in a new conversation when a first step was cut, never sending the input twice', async () => {
    const runtime = conversationRuntime();
    emu.faults.set({ route: 'responses', cutAfterChunks: CUT_BEFORE_ANY_TEXT, count: 1 });
    const items = [user('My name is Grace.')];
    const { result, events } = await stepAsTheAgentDoes(runtime, { items, tools: [], stream: true });

    // Nothing was bound yet, so there is no binding to reseed: only the retry shows.
    expect(notices(events)).toEqual(['retry']);
    expect(await heldBy(result.remote!.conversationId!)).toEqual(linesOf([...items, ...result.items]));
  });

  it('through the agent: after a cut stream the committed binding holds each item once', async () => {
    const store = memoryStore();
    const runtime = conversationRuntime();
    const agent = createAgent({ runtime, store, retry: IMMEDIATE_RETRIES });
    const session = 'cut-after-the-first-turn';
    await agent.run('My name is Barbara.', { session });

    emu.faults.set({ route: 'responses', cutAfterChunks: CUT_BEFORE_ANY_TEXT, count: 1 });
    const events: AgentEvent[] = [];
    const stream = agent.stream('What is my name?', { session });
    for await (const event of stream) events.push(event);
    expect((await stream.result).text).toBe('Your name is Barbara.');

    const { items, bindings } = (await store.load({ namespace: 'default', sessionId: session }))!;
    const binding = bindings[runtime.id]!;
    expect(binding.syncedVersion).toBe(items.length);
    expect(await heldBy(binding.remote.conversationId!)).toEqual(linesOf(items));
    expect(notices(events)).toContain('retry');
  });
});
