import { describe, expect, it } from 'vitest';
import * as z from 'zod/v4';
import {
  type AgentEvent,
  CloudhopError,
  createAgent,
  createItem,
  failover,
  type Item,
  type MessageItem,
  memoryStore,
  type Runtime,
  type StepResult,
  type ToolCallItem,
  tool,
} from '../../src/index.js';
import { scriptedRuntime } from '../../src/testing/index.js';
import { rejection } from '../helpers/errors.js';

const noUsage = { inputTokens: 0, outputTokens: 0, totalTokens: 0, requestBytes: 0 };

/** A stateful runtime backed by an in-memory "server conversation", to see what the server holds. */
function conversationRuntime(
  id: string,
  script: (sent: Item[], step: number) => StepResult | Promise<StepResult>,
) {
  const conversations = new Map<string, string[]>();
  let steps = 0;
  const runtime: Runtime = {
    id,
    kind: 'stateful',
    family: 'test',
    async step(request) {
      let conversationId = request.remoteState?.remote.conversationId;
      const sent = conversationId ? request.items.slice(request.remoteState!.syncedCount) : request.items;
      if (!conversationId) {
        conversationId = `conv_${conversations.size + 1}`;
        conversations.set(conversationId, []);
      }
      conversations.get(conversationId)!.push(...sent.map((item) => item.id));
      const result = await script(sent, steps++);
      conversations.get(conversationId)!.push(...result.items.map((item) => item.id));
      return { ...result, remote: { conversationId } };
    },
  };
  return { runtime, conversations };
}

const answer = (text: string): StepResult => ({
  items: [createItem<MessageItem>({ type: 'message', role: 'assistant', content: [{ type: 'text', text }] })],
  finishReason: 'stop',
  usage: noUsage,
});

describe('the turn under failures', () => {
  it('does not fail over once text was streamed: the consumer never sees two answers mixed', async () => {
    const first: Runtime = {
      id: 'first',
      kind: 'stateless',
      family: 'test',
      async step(_request, context) {
        context.emit({ type: 'text-delta', delta: 'Hello from first ' });
        throw new CloudhopError('provider_unavailable', 'stream cut');
      },
    };
    const second = scriptedRuntime(['Answer from second'], { id: 'second' });
    const store = memoryStore();
    const stream = createAgent({
      runtime: failover([first, second]),
      store,
      retry: { maxRetries: 0 },
    }).stream('hi', { session: 's' });
    const deltas: string[] = [];
    await expect(
      (async () => {
        for await (const event of stream) if (event.type === 'text-delta') deltas.push(event.delta);
      })(),
    ).rejects.toMatchObject({ code: 'provider_unavailable' });
    expect(deltas).toEqual(['Hello from first ']);
    expect(second.requests).toHaveLength(0);
    expect(await store.list()).toEqual({ ids: [] });
  });

  it('bounds the wait behind an earlier turn by the abort signal and the turn timeout', async () => {
    const agent = createAgent({ runtime: scriptedRuntime([{ text: 'slow', delayMs: 3_000 }, 'a', 'b']) });
    const slow = agent.run('first', { session: 's' });
    const started = Date.now();
    const aborted = rejection(agent.run('second', { session: 's', signal: AbortSignal.timeout(50) }));
    const timedOut = rejection(agent.run('third', { session: 's', timeoutMs: 100 }));
    expect((await aborted).code).toBe('aborted');
    expect((await timedOut).code).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2_500);
    await slow;
    expect(await agent.session('s').items()).toHaveLength(2);
  });

  it('ends a turn at its timeout even when a tool ignores its signal', async () => {
    const stubborn = tool({
      name: 'stubborn',
      input: z.object({}),
      execute: () => new Promise((resolve) => setTimeout(() => resolve('late'), 3_000)),
    });
    const store = memoryStore();
    const agent = createAgent({
      runtime: scriptedRuntime([{ toolCalls: [{ name: 'stubborn', arguments: {} }] }, 'done']),
      tools: [stubborn],
      store,
    });
    const started = Date.now();
    const error = await rejection(agent.run('go', { session: 's', timeoutMs: 100 }));
    expect(error.code).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(await store.list()).toEqual({ ids: [] });
  });

  it('never sends a tool result without its call when a server reuses call ids', async () => {
    const echo = tool({ name: 'echo', input: z.object({}), execute: () => 'ok' });
    const runtime = scriptedRuntime((_request, index) =>
      index % 2 === 0 ? { toolCalls: [{ name: 'echo', arguments: {}, callId: 'call_0' }] } : 'done',
    );
    const agent = createAgent({ runtime, tools: [echo], context: { maxItems: 7 } });
    for (let n = 0; n < 3; n++) await agent.run(`turn ${n}`, { session: 's' });
    for (const request of runtime.requests) {
      const first = request.items.findIndex((item) => item.type === 'tool_result');
      const call = request.items.findIndex((item) => item.type === 'tool_call');
      if (first >= 0) expect(call).toBeGreaterThanOrEqual(0);
      if (first >= 0) expect(call).toBeLessThan(first);
    }
  });
});

describe('schemas that throw', () => {
  it('a tool input schema whose refinement throws becomes an error result, and async refinements work', async () => {
    const picky = tool({
      name: 'picky',
      input: z.object({ city: z.string() }).refine(() => {
        throw new Error('refinement exploded');
      }),
      execute: () => 'never',
    });
    const checked = tool({
      name: 'checked',
      input: z.object({ city: z.string() }).refine(async (value) => value.city !== 'Nowhere'),
      execute: ({ city }) => `ok ${city}`,
    });
    const runtime = scriptedRuntime([
      {
        toolCalls: [
          { name: 'picky', arguments: { city: 'Paris' } },
          { name: 'checked', arguments: { city: 'Oslo' } },
        ],
      },
      'done',
    ]);
    const result = await createAgent({ runtime, tools: [picky, checked] }).run('go', { session: 's' });
    const outputs = result.items.flatMap((item) => (item.type === 'tool_result' ? [item] : []));
    expect(outputs[0]).toMatchObject({
      isError: true,
      output: expect.stringContaining('refinement exploded'),
    });
    expect(outputs[1]).toMatchObject({ output: 'ok Oslo' });
  });

  it('an output schema whose refinement throws gives output_invalid and commits nothing', async () => {
    const store = memoryStore();
    const schema = z.object({ city: z.string() }).refine(() => {
      throw new Error('boom');
    });
    const error = await rejection(
      createAgent({ runtime: scriptedRuntime(['{"city":"Paris"}']), store }).run('x', {
        session: 's',
        output: schema,
      }),
    );
    expect(error.code).toBe('output_invalid');
    expect(error.message).toMatch(/boom/);
    expect(await store.list()).toEqual({ ids: [] });
  });
});

describe('conversation bindings', () => {
  it('a failed first turn writes nothing, not even a binding', async () => {
    const { runtime } = conversationRuntime('conv', () => {
      throw new CloudhopError('auth_failed', 'no');
    });
    const store = memoryStore();
    await rejection(createAgent({ runtime, store }).run('hi', { session: 's' }));
    expect(await store.list()).toEqual({ ids: [] });
  });

  it('a conversation that took in steps of a turn another runtime finished is not trusted again', async () => {
    let failSecondStep = false;
    const { runtime: first, conversations } = conversationRuntime('first', (sent, step) => {
      if (failSecondStep && step === 2) throw new CloudhopError('provider_unavailable', 'down');
      const lastUser = sent.findLast((item) => item.type === 'message' && item.role === 'user');
      const wantsTool = JSON.stringify(lastUser ?? {}).includes('weather');
      if (wantsTool) {
        failSecondStep = true;
        return {
          items: [
            createItem<ToolCallItem>({
              type: 'tool_call',
              callId: 'call_w',
              name: 'weather',
              arguments: '{}',
            }),
          ],
          finishReason: 'tool_calls',
          usage: noUsage,
        };
      }
      return answer('ok');
    });
    const second = scriptedRuntime(() => 'from second', { id: 'second' });
    const weather = tool({ name: 'weather', input: z.object({}), execute: () => 'sunny' });
    const store = memoryStore();
    const agent = createAgent({
      runtime: failover([first, second]),
      store,
      tools: [weather],
      retry: { maxRetries: 0 },
    });
    const events: AgentEvent[] = [];
    await agent.run('hello', { session: 's' });
    const stream = agent.stream('weather please', { session: 's' });
    for await (const event of stream) events.push(event);
    expect(events.some((event) => event.type === 'failover')).toBe(true);
    failSecondStep = false;
    await agent.run('bye', { session: 's' });
    for (const ids of conversations.values()) expect(new Set(ids).size).toBe(ids.length);
    const items = await agent.session('s').items();
    expect(items.map((item) => item.type)).toEqual([
      'message',
      'message',
      'message',
      'tool_call',
      'tool_result',
      'message',
      'message',
      'message',
    ]);
  });
});

describe('tools that throw what cannot be read', () => {
  /** An Error whose `message` and `name` throw when read. */
  function unreadableError(): Error {
    const error = new Error('hidden');
    for (const field of ['message', 'name']) {
      Object.defineProperty(error, field, {
        get() {
          throw new Error(`reading ${field} threw`);
        },
      });
    }
    return error;
  }
  const unprintable = {
    toString() {
      throw new Error('toString threw');
    },
  };
  const hostile = new Proxy(
    {},
    {
      get() {
        throw new Error('every read throws');
      },
      getPrototypeOf() {
        throw new Error('every read throws');
      },
    },
  );

  it.each([
    ['an Error whose message and name getters throw', unreadableError],
    ['an object whose toString throws', () => unprintable],
    ['a proxy that throws on every read', () => hostile],
  ])('%s: the model gets an error tool result and the turn goes on', async (_, thrown) => {
    const broken = tool({
      name: 'broken',
      input: z.object({}),
      execute: () => {
        throw thrown();
      },
    });
    const runtime = scriptedRuntime([{ toolCalls: [{ name: 'broken', arguments: {} }] }, 'done']);
    const lines: string[] = [];
    const agent = createAgent({ runtime, tools: [broken], debug: (line) => lines.push(line) });

    const result = await agent.run('Go', { session: 's' });

    expect(result.text).toBe('done');
    const sent = runtime.requests[1]!.items.find((item) => item.type === 'tool_result');
    expect(sent).toMatchObject({
      isError: true,
      output: expect.stringMatching(/^Error: tool "broken" failed: /),
    });
    expect(lines.some((line) => line.includes('tool broken failed'))).toBe(true);
  });

  it('a tool input schema whose refinement throws something unprintable becomes an error result', async () => {
    const picky = tool({
      name: 'picky',
      input: z.object({}).refine(() => {
        throw unprintable;
      }),
      execute: () => 'never',
    });
    const runtime = scriptedRuntime([{ toolCalls: [{ name: 'picky', arguments: {} }] }, 'done']);
    const result = await createAgent({ runtime, tools: [picky] }).run('Go', { session: 's' });
    expect(result.text).toBe('done');
    expect(result.items.find((item) => item.type === 'tool_result')).toMatchObject({
      isError: true,
      output: expect.stringMatching(/^Error: checking the arguments for "picky" failed: /),
    });
  });
});
