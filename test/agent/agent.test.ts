import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/v4';
import { type AgentEvent, CloudhopError, createAgent, memoryStore, tool } from '../../src/index.js';
import { scriptedRuntime } from '../../src/testing/index.js';
import { rejection } from '../helpers/errors.js';

const weather = tool({
  name: 'get_weather',
  description: 'Current weather for a city',
  input: z.object({ city: z.string() }),
  execute: async ({ city }, ctx) => ({ city, tempC: 21, session: ctx.session, callId: ctx.callId }),
});

async function collect(stream: AsyncIterable<AgentEvent>): Promise<AgentEvent[]> {
  const events: AgentEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

describe('Agent.run', () => {
  it('answers, stores the turn and reports the session version', async () => {
    const store = memoryStore();
    const agent = createAgent({
      runtime: scriptedRuntime(['Hello Ada.', 'Again.']),
      store,
      instructions: 'Be brief.',
    });
    const first = await agent.run('Hi, my name is Ada', { session: 'user-1' });
    expect(first.text).toBe('Hello Ada.');
    expect(first.sessionVersion).toBe(2);
    expect(first.items.map((i) => i.type)).toEqual(['message', 'message']);
    const second = await agent.run('Still there?', { session: 'user-1' });
    expect(second.sessionVersion).toBe(4);
    const items = await agent.session('user-1').items();
    expect(items).toHaveLength(4);
    expect(items.some((i) => JSON.stringify(i).includes('Be brief.'))).toBe(false);
  });

  it('runs several tool calls of one step and sends their results back', async () => {
    const runtime = scriptedRuntime([
      {
        toolCalls: [
          { name: 'get_weather', arguments: { city: 'Paris' }, callId: 'call_a' },
          { name: 'get_weather', arguments: { city: 'Oslo' }, callId: 'call_b' },
        ],
      },
      'Paris 21, Oslo 21.',
    ]);
    const agent = createAgent({ runtime, tools: [weather] });
    const result = await agent.run('Weather in Paris and Oslo?', { session: 's' });
    expect(result.text).toBe('Paris 21, Oslo 21.');
    expect(result.items.map((i) => i.type)).toEqual([
      'message',
      'tool_call',
      'tool_call',
      'tool_result',
      'tool_result',
      'message',
    ]);
    const secondRequest = runtime.requests[1]!;
    const outputs = secondRequest.items.filter((i) => i.type === 'tool_result');
    expect(outputs.map((o) => o.type === 'tool_result' && JSON.parse(o.output))).toEqual([
      { city: 'Paris', tempC: 21, session: 's', callId: 'call_a' },
      { city: 'Oslo', tempC: 21, session: 's', callId: 'call_b' },
    ]);
    expect(runtime.requests[0]!.tools).toEqual([
      expect.objectContaining({
        name: 'get_weather',
        parameters: expect.objectContaining({ type: 'object' }),
      }),
    ]);
  });

  it('sends invalid tool arguments back to the model as an error result', async () => {
    const runtime = scriptedRuntime([
      { toolCalls: [{ name: 'get_weather', arguments: { town: 'Paris' } }] },
      { toolCalls: [{ name: 'get_weather', arguments: '{not json' }] },
      'Sorry.',
    ]);
    const agent = createAgent({ runtime, tools: [weather] });
    const result = await agent.run('Weather?', { session: 's' });
    const results = result.items.filter((i) => i.type === 'tool_result');
    expect(results).toHaveLength(2);
    expect(results[0]).toMatchObject({ isError: true, output: expect.stringContaining('city') });
    expect(results[1]).toMatchObject({ isError: true, output: expect.stringContaining('not valid JSON') });
  });

  it('turns a throwing tool into an isError result the model sees', async () => {
    const failing = tool({
      name: 'lookup',
      input: z.object({ q: z.string() }),
      execute: () => {
        throw new Error('database offline');
      },
    });
    const runtime = scriptedRuntime([
      { toolCalls: [{ name: 'lookup', arguments: { q: 'x' } }] },
      'Could not look it up.',
    ]);
    const result = await createAgent({ runtime, tools: [failing] }).run('Look up x', { session: 's' });
    expect(result.items.find((i) => i.type === 'tool_result')).toMatchObject({
      isError: true,
      output: expect.stringContaining('database offline'),
    });
    expect(result.text).toBe('Could not look it up.');
  });

  it('stops at maxSteps with max_steps_exceeded and commits nothing', async () => {
    const store = memoryStore();
    const runtime = scriptedRuntime(() => ({
      toolCalls: [{ name: 'get_weather', arguments: { city: 'Rome' } }],
    }));
    const agent = createAgent({ runtime, tools: [weather], maxSteps: 3, store });
    const error = await rejection(agent.run('Loop', { session: 's' }));
    expect(error.code).toBe('max_steps_exceeded');
    expect(error.message).toMatch(/maxSteps/);
    expect(runtime.requests).toHaveLength(3);
    expect(await agent.session('s').items()).toEqual([]);
  });

  it('reports tool_input_invalid when maxSteps runs out on invalid arguments', async () => {
    const runtime = scriptedRuntime(() => ({ toolCalls: [{ name: 'get_weather', arguments: { city: 7 } }] }));
    const error = await rejection(
      createAgent({ runtime, tools: [weather], maxSteps: 2 }).run('x', { session: 's' }),
    );
    expect(error.code).toBe('tool_input_invalid');
  });

  it('returns a typed, validated structured output', async () => {
    const runtime = scriptedRuntime(['{"city":"Paris"}']);
    const agent = createAgent({ runtime });
    const result = await agent.run('Extract the city from: I live in Paris', {
      session: 's',
      output: z.object({ city: z.string() }),
    });
    expect(result.output.city).toBe('Paris');
    expect(runtime.requests[0]!.output).toEqual({
      name: 'output',
      schema: expect.objectContaining({ type: 'object', required: ['city'] }),
    });
  });

  it('fails with output_invalid when the answer does not fit the schema, committing nothing', async () => {
    const store = memoryStore();
    const agent = createAgent({ runtime: scriptedRuntime(['{"town":"Paris"}', 'not json']), store });
    const schema = z.object({ city: z.string() });
    const mismatch = await rejection(agent.run('x', { session: 's', output: schema }));
    expect(mismatch.code).toBe('output_invalid');
    expect(mismatch.path).toBe('city');
    const notJson = await rejection(agent.run('x', { session: 's', output: schema }));
    expect(notJson.code).toBe('output_invalid');
    expect(await agent.session('s').items()).toEqual([]);
  });

  it('rejects invalid session ids and never rewrites them', async () => {
    const agent = createAgent({ runtime: scriptedRuntime(['ok']) });
    for (const bad of ['', 'has space', 'slash/id', 'a'.repeat(257), 'ümlaut']) {
      const error = await rejection(agent.run('x', { session: bad }));
      expect(error.code).toBe('invalid_session_id');
    }
    expect(() => agent.session('bad id')).toThrow(CloudhopError);
    const ok = await agent.run('x', { session: 'tenant.user:42@x-y_z' });
    expect(ok.sessionVersion).toBe(2);
  });

  it('keeps namespaces apart', async () => {
    const store = memoryStore();
    const a = createAgent({ runtime: scriptedRuntime(['a']), store, namespace: 'tenant-a' });
    const b = createAgent({ runtime: scriptedRuntime(['b']), store, namespace: 'tenant-b' });
    await a.run('secret of a', { session: 'same' });
    expect(await b.session('same').items()).toEqual([]);
    expect(await a.session('same').items()).toHaveLength(2);
  });
});

describe('Agent.stream', () => {
  it('emits events in order and resolves the same result as run', async () => {
    const runtime = scriptedRuntime([
      { toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' }, callId: 'c1' }] },
      'It is 21 degrees.',
    ]);
    const stream = createAgent({ runtime, tools: [weather] }).stream('Weather in Paris?', { session: 's' });
    const events = await collect(stream);
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('turn-start');
    expect(types.slice(1, 4)).toEqual(['step-finish', 'tool-call', 'tool-result']);
    expect(types.filter((t) => t === 'text-delta').length).toBeGreaterThan(1);
    expect(types.at(-2)).toBe('step-finish');
    expect(types.at(-1)).toBe('turn-finish');
    const deltas = events.flatMap((e) => (e.type === 'text-delta' ? [e.delta] : [])).join('');
    const result = await stream.result;
    expect(deltas).toBe(result.text);
    expect(events.at(-1)).toEqual({ type: 'turn-finish', result });
    expect(events[2]).toEqual({
      type: 'tool-call',
      callId: 'c1',
      name: 'get_weather',
      input: { city: 'Paris' },
    });
  });

  it('commits nothing when aborted mid-stream, and the next turn works', async () => {
    const store = memoryStore();
    const controller = new AbortController();
    const runtime = scriptedRuntime([
      { toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] },
      { text: 'late', delayMs: 5_000 },
      'fine',
    ]);
    const agent = createAgent({ runtime, tools: [weather], store });
    const stream = agent.stream('Weather?', { session: 's', signal: controller.signal });
    const seen: string[] = [];
    const iteration = (async () => {
      for await (const event of stream) {
        seen.push(event.type);
        if (event.type === 'tool-result') controller.abort();
      }
    })();
    await expect(iteration).rejects.toMatchObject({ code: 'aborted' });
    await expect(stream.result).rejects.toMatchObject({ code: 'aborted' });
    expect(seen).toContain('tool-result');
    expect(await agent.session('s').items()).toEqual([]);
    const next = await agent.run('Hello?', { session: 's' });
    expect(next.sessionVersion).toBe(2);
  });
});

describe('the turn', () => {
  it('commits 20 concurrent runs on one session in order, losing nothing', async () => {
    const store = memoryStore();
    const runtime = scriptedRuntime((request) => {
      const last = request.items.at(-1)!;
      return `answer to ${last.type === 'message' && last.content[0]?.type === 'text' ? last.content[0].text : '?'}`;
    });
    const agent = createAgent({ runtime, store });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, n) => agent.run(`q${n}`, { session: 'busy' })),
    );
    expect(results.map((r) => r.sessionVersion).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, n) => 2 * (n + 1)),
    );
    const items = await agent.session('busy').items();
    expect(items).toHaveLength(40);
    for (let n = 0; n < 20; n++) {
      const question = items[2 * n]!;
      const answer = items[2 * n + 1]!;
      const q =
        question.type === 'message' && question.content[0]?.type === 'text' ? question.content[0].text : '';
      expect(answer).toMatchObject({
        role: 'assistant',
        content: [{ type: 'text', text: `answer to ${q}` }],
      });
    }
    // Each run saw exactly the history committed before it.
    expect(runtime.requests.map((r) => r.items.length)).toEqual(
      Array.from({ length: 20 }, (_, n) => 2 * n + 1),
    );
  });

  it('queues the turns of two agents on one store and session behind each other', async () => {
    // memoryStore takes no lease: only the in-process queue, shared by every agent on the store,
    // keeps these turns from committing over each other.
    const store = memoryStore();
    const first = createAgent({ runtime: scriptedRuntime(() => 'from the first'), store });
    const second = first.withRuntime(scriptedRuntime(() => 'from the second'));
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, n) => (n % 2 ? second : first).run(`q${n}`, { session: 'shared' })),
    );
    expect(results.map((r) => r.sessionVersion)).toEqual(Array.from({ length: 10 }, (_, n) => 2 * (n + 1)));
    expect(await first.session('shared').items()).toHaveLength(20);
  });

  it('runs a resubmitted turn once when it carries an idempotencyKey', async () => {
    const store = memoryStore();
    const runtime = scriptedRuntime(['{"city":"Paris"}', 'second turn']);
    const agent = createAgent({ runtime, store });
    const schema = z.object({ city: z.string() });
    const [first, duplicate] = await Promise.all([
      agent.run('Extract: Paris', { session: 's', idempotencyKey: 'turn-1', output: schema }),
      agent.run('Extract: Paris', { session: 's', idempotencyKey: 'turn-1', output: schema }),
    ]);
    expect(runtime.requests).toHaveLength(1);
    expect(duplicate.items).toEqual(first.items);
    expect(duplicate.output).toEqual({ city: 'Paris' });
    expect(duplicate.sessionVersion).toBe(2);
    await agent.run('Next', { session: 's', idempotencyKey: 'turn-2' });
    const again = await agent.run('Extract: Paris', { session: 's', idempotencyKey: 'turn-1' });
    expect(again.items).toEqual(first.items);
    expect(await agent.session('s').items()).toHaveLength(4);
  });

  it('retries a retryable failure with a retry event and honours retryAfterMs', async () => {
    const runtime = scriptedRuntime([
      { error: new CloudhopError('rate_limited', 'slow down', { retryAfterMs: 20 }) },
      { error: new CloudhopError('provider_unavailable', 'down') },
      'ok',
    ]);
    const stream = createAgent({ runtime, retry: { initialDelayMs: 1 } }).stream('x', { session: 's' });
    const events = await collect(stream);
    const retries = events.filter((e) => e.type === 'retry');
    expect(retries).toHaveLength(2);
    expect(retries[0]).toMatchObject({ attempt: 1, delayMs: 20, error: { code: 'rate_limited' } });
    expect((await stream.result).text).toBe('ok');
  });

  it('does not retry a non-retryable error, and gives up after maxRetries', async () => {
    const auth = scriptedRuntime([{ error: new CloudhopError('auth_failed', 'bad key') }, 'never']);
    expect((await rejection(createAgent({ runtime: auth }).run('x', { session: 's' }))).code).toBe(
      'auth_failed',
    );
    expect(auth.requests).toHaveLength(1);
    const down = scriptedRuntime(() => ({ error: new CloudhopError('provider_unavailable', 'down') }));
    const error = await rejection(
      createAgent({ runtime: down, retry: { maxRetries: 2, initialDelayMs: 1 } }).run('x', { session: 's' }),
    );
    expect(error.code).toBe('provider_unavailable');
    expect(down.requests).toHaveLength(3);
  });

  it('times out a turn with timeout and commits nothing', async () => {
    const store = memoryStore();
    const agent = createAgent({ runtime: scriptedRuntime([{ text: 'slow', delayMs: 10_000 }]), store });
    const error = await rejection(agent.run('x', { session: 's', timeoutMs: 50 }));
    expect(error.code).toBe('timeout');
    expect(await agent.session('s').items()).toEqual([]);
  });

  it('times out a single request by the agent timeoutMs and retries it', async () => {
    const runtime = scriptedRuntime([{ text: 'slow', delayMs: 10_000 }, 'fast']);
    const result = await createAgent({ runtime, timeoutMs: 50, retry: { initialDelayMs: 1 } }).run('x', {
      session: 's',
    });
    expect(result.text).toBe('fast');
  });

  it('applies the context policy without splitting tool calls from results', async () => {
    const runtime = scriptedRuntime((_request, index) =>
      index % 2 === 0 ? { toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] } : 'done',
    );
    const store = memoryStore();
    const agent = createAgent({
      runtime,
      tools: [weather],
      store,
      context: { maxItems: 5 },
      instructions: 'sys',
    });
    for (let n = 0; n < 4; n++) await agent.run(`turn ${n}`, { session: 's' });
    expect(await agent.session('s').items()).toHaveLength(16);
    for (const request of runtime.requests) {
      expect(request.instructions).toBe('sys');
      const calls = new Set(request.items.flatMap((i) => (i.type === 'tool_call' ? [i.callId] : [])));
      for (const item of request.items)
        if (item.type === 'tool_result') expect(calls.has(item.callId)).toBe(true);
      expect(request.items[0]!.type).not.toBe('tool_result');
    }
    const last = runtime.requests.at(-1)!;
    expect(last.items.length).toBeLessThanOrEqual(5);
    expect(last.items.at(-1)).toMatchObject({ type: 'tool_result' });
  });
});

describe('secrets', () => {
  it('never shows a planted API key in an error or event', async () => {
    const { registerSecret } = await import('../../src/core/secrets.js');
    const apiKey = 'sk-planted-secret-0123456789';
    registerSecret(apiKey);
    const runtime = scriptedRuntime([
      {
        error: new CloudhopError('rate_limited', `limit for key ${apiKey}`, {
          retryAfterMs: 1,
          cause: new Error(`Bearer ${apiKey}`),
        }),
      },
      {
        error: new CloudhopError('auth_failed', `Incorrect API key provided: ${apiKey}`, {
          cause: { apiKey },
        }),
      },
    ]);
    const debugLines: string[] = [];
    const stream = createAgent({ runtime, debug: (line) => debugLines.push(line) }).stream('x', {
      session: 's',
    });
    const events: AgentEvent[] = [];
    let thrown: unknown;
    try {
      for await (const event of stream) events.push(event);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CloudhopError);
    const surfaces = [
      JSON.stringify(events),
      inspect(events, { depth: 10 }),
      (thrown as Error).message,
      JSON.stringify(thrown),
      inspect(thrown, { depth: 10 }),
      String(thrown),
      debugLines.join('\n'),
    ];
    for (const text of surfaces) expect(text).not.toContain(apiKey);
    expect(debugLines.length).toBeGreaterThan(0);
  });
});

describe('createAgent options', () => {
  it('validates eagerly and names the option', () => {
    const runtime = scriptedRuntime([]);
    const cases: Array<[unknown, RegExp]> = [
      [{}, /runtime/],
      [{ runtime: {} }, /runtime/],
      [{ runtime, maxSteps: -1 }, /maxSteps/],
      [{ runtime, maxSteps: 1e9 }, /maxSteps/],
      [{ runtime, namespace: 'a b' }, /namespace/],
      [{ runtime, store: {} }, /store/],
      [{ runtime, tools: [weather, weather] }, /two tools named "get_weather"/],
      [{ runtime, tools: [{ name: 'x' }] }, /tools\.0/],
      [{ runtime, retry: { maxRetries: 'many' } }, /retry\.maxRetries/],
      [{ runtime, unknownOption: 1 }, /unknownOption|Unrecognized/],
    ];
    for (const [options, message] of cases) {
      let caught: unknown;
      try {
        createAgent(options as never);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(CloudhopError);
      expect((caught as CloudhopError).code).toBe('invalid_config');
      expect((caught as CloudhopError).message).toMatch(message);
    }
  });

  it('rejects bad tool definitions at tool()', () => {
    expect(() => tool({ name: 'bad name', input: z.object({}), execute: () => 1 })).toThrow(/name/);
    expect(() => tool({ name: 'scalar', input: z.string() as never, execute: () => 1 })).toThrow(
      /object schema/,
    );
    expect(() => tool({ name: 'plain', input: { type: 'object' } as never, execute: () => 1 })).toThrow(
      /zod schema/,
    );
  });
});

describe('run options', () => {
  it('rejects unknown option keys and empty input instead of ignoring them', async () => {
    const store = memoryStore();
    const agent = createAgent({ runtime: scriptedRuntime(['never']), store });
    const typo = await rejection(agent.run('x', { session: 's', timeoutMS: 10 } as never));
    expect(typo.code).toBe('invalid_config');
    expect(typo.message).toMatch(/unknown option "timeoutMS"/);
    const empty = await rejection(agent.run('', { session: 's' }));
    expect(empty.message).toMatch(/non-empty string/);
    expect(await store.list()).toEqual({ ids: [] });
  });
});
