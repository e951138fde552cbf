import { describe, expect, it } from 'vitest';
import * as z from 'zod/v4';
import {
  type AgentEvent,
  CloudhopError,
  createAgent,
  exportSession,
  failover,
  type Item,
  importSession,
  memoryStore,
  type Runtime,
  tool,
} from '../../src/index.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { scriptedRuntime } from '../../src/testing/index.js';

const AZURE_ID = 'azure-chat:myres.openai.azure.com/gpt-4o';

const weather = tool({
  name: 'get_weather',
  description: 'Current weather for a city',
  input: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, tempC: 21 }),
});

const toolThenAnswer = () => [
  { toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] },
  'It is 21 °C in Paris.',
];

/** A runtime reporting fixed usage per step, as an OpenAI-style provider does (cached ⊂ input, reasoning ⊂ output). */
function meteredRuntime(id: string, steps: unknown[], usage: Record<string, number>): Runtime {
  const scripted = scriptedRuntime(steps as any, { id });
  return {
    ...scripted,
    async step(request, context) {
      const result = await scripted.step(request, context);
      return {
        ...result,
        usage: {
          inputTokens: usage.input!,
          outputTokens: usage.output!,
          totalTokens: usage.input! + usage.output!,
          requestBytes: 100,
          ...(usage.cached === undefined ? {} : { cachedInputTokens: usage.cached }),
          ...(usage.reasoning === undefined ? {} : { reasoningTokens: usage.reasoning }),
        },
      };
    },
  };
}

function configError(run: () => unknown): CloudhopError {
  try {
    run();
  } catch (error) {
    if (CloudhopError.is(error)) return error;
    throw error;
  }
  throw new Error('expected invalid_config');
}

describe('onEvent', () => {
  it('receives for run() the events stream() yields, in the same order', async () => {
    const onRun: AgentEvent[] = [];
    const runAgent = createAgent({
      runtime: scriptedRuntime(toolThenAnswer()),
      tools: [weather],
      onEvent: (event) => onRun.push(event),
    });
    const result = await runAgent.run('Weather in Paris?', { session: 'run' });

    const streamAgent = createAgent({ runtime: scriptedRuntime(toolThenAnswer()), tools: [weather] });
    const yielded: AgentEvent[] = [];
    for await (const event of streamAgent.stream('Weather in Paris?', { session: 'stream' })) {
      if (event.type !== 'text-delta') yielded.push(event);
    }

    expect(onRun.map((event) => event.type)).toEqual(yielded.map((event) => event.type));
    expect(onRun.map((event) => event.type)).toEqual([
      'turn-start',
      'step-finish',
      'tool-call',
      'tool-result',
      'step-finish',
      'turn-finish',
    ]);
    expect(onRun.at(-1)).toEqual({ type: 'turn-finish', result });
  });

  it('gets the very objects stream() yields, text deltas included', async () => {
    const seen: AgentEvent[] = [];
    const agent = createAgent({
      runtime: scriptedRuntime(['Hello there, Ada.']),
      onEvent: (event) => seen.push(event),
    });
    const yielded: AgentEvent[] = [];
    for await (const event of agent.stream('Hi', { session: 's' })) yielded.push(event);
    expect(yielded.some((event) => event.type === 'text-delta')).toBe(true);
    expect(seen).toHaveLength(yielded.length);
    for (const [index, event] of seen.entries()) expect(event).toBe(yielded[index]);
  });

  it('sees retries and failovers that run() alone would hide', async () => {
    const down = new CloudhopError('provider_unavailable', 'HTTP 503', { retryable: true });
    const primary = scriptedRuntime([{ error: down }, { error: down }], { id: 'primary' });
    const backup = scriptedRuntime(['from backup'], { id: 'backup' });
    const seen: AgentEvent[] = [];
    const agent = createAgent({
      runtime: failover([primary, backup]),
      retry: { maxRetries: 1, initialDelayMs: 1 },
      onEvent: (event) => seen.push(event),
    });
    await agent.run('Hi', { session: 's' });
    expect(seen.filter((event) => event.type === 'retry')).toHaveLength(1);
    expect(seen.filter((event) => event.type === 'failover')).toEqual([
      expect.objectContaining({ from: 'primary', to: 'backup' }),
    ]);
  });

  it('never breaks a turn when it throws, and says so once through debug', async () => {
    const lines: string[] = [];
    const agent = createAgent({
      runtime: scriptedRuntime(toolThenAnswer()),
      tools: [weather],
      onEvent: () => {
        throw new Error('dashboard is down');
      },
      debug: (line) => lines.push(line),
    });
    const result = await agent.run('Weather in Paris?', { session: 's' });
    expect(result.text).toBe('It is 21 °C in Paris.');
    expect(await agent.session('s').version()).toBe(4);
    const reports = lines.filter((line) => line.includes('onEvent threw'));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toContain('dashboard is down');
  });

  it('must be a function', () => {
    const error = configError(() =>
      createAgent({ runtime: scriptedRuntime([]), onEvent: 'log' as unknown as () => void }),
    );
    expect(error.code).toBe('invalid_config');
    expect(error.message).toContain('"onEvent"');
  });
});

describe('items record the runtime that produced them', () => {
  it('stamps runtimeId on what the model produced and the step usage on its first item', async () => {
    const steps: AgentEvent[] = [];
    const agent = createAgent({
      runtime: scriptedRuntime(toolThenAnswer(), { id: AZURE_ID }),
      tools: [weather],
      onEvent: (event) => event.type === 'step-finish' && steps.push(event),
    });
    await agent.run('Weather in Paris?', { session: 's' });
    const [user, call, result, answer] = await agent.session('s').items();
    expect(user).not.toHaveProperty('runtimeId');
    expect(user).not.toHaveProperty('usage');
    expect(result).not.toHaveProperty('runtimeId');
    expect(result).not.toHaveProperty('usage');
    expect(call).toMatchObject({ type: 'tool_call', runtimeId: AZURE_ID });
    expect(answer).toMatchObject({ type: 'message', role: 'assistant', runtimeId: AZURE_ID });
    const usages = steps.map((event) => (event.type === 'step-finish' ? event.usage : undefined));
    expect([(call as any).usage, (answer as any).usage]).toEqual(usages);
  });

  it('names the failover member that answered, not the failover', async () => {
    const down = new CloudhopError('provider_unavailable', 'HTTP 503', { retryable: true });
    const agent = createAgent({
      retry: { maxRetries: 0 },
      runtime: failover([
        scriptedRuntime([{ error: down }], { id: 'primary' }),
        scriptedRuntime(['from backup'], { id: 'backup' }),
      ]),
    });
    const result = await agent.run('Hi', { session: 's' });
    expect(result.items[1]).toMatchObject({ role: 'assistant', runtimeId: 'backup' });
  });

  it('keeps runtimeId and usage through a v2 transcript, and v1 imports still work without them', async () => {
    const store = memoryStore();
    const agent = createAgent({ runtime: scriptedRuntime(['Hello, Ada.'], { id: AZURE_ID }), store });
    await agent.run('Hi', { session: 's' });
    const file = await exportSession(store, 's');
    const copy = memoryStore();
    await importSession(copy, JSON.parse(JSON.stringify(file)), { sessionId: 'copy' });
    const items = (await createAgent({ runtime: scriptedRuntime([]), store: copy })
      .session('copy')
      .items()) as Item[];
    expect(items[1]).toMatchObject({ runtimeId: AZURE_ID, usage: { inputTokens: expect.any(Number) } });

    const v1 = {
      ...file,
      format: 'cloudhop.transcript/v1',
      bindings: {},
      items: file.items.map(({ runtimeId, usage, ...item }: any) => item),
    };
    await importSession(copy, v1, { sessionId: 'old' });
    expect(await copy.load({ namespace: 'default', sessionId: 'old' })).toMatchObject({ version: 2 });
  });
});

/** One step's token counts with cached input and reasoning inside input and output, as OpenAI reports them. */
const CACHED_AND_REASONING = { input: 1_000_000, cached: 400_000, output: 200_000, reasoning: 50_000 };

describe('prices and cost', () => {
  it('charges cached input at its own rate, not again as input, and reasoning as output by default', async () => {
    const agent = createAgent({
      runtime: meteredRuntime(AZURE_ID, ['Hi'], CACHED_AND_REASONING),
      prices: { 'gpt-4o': { inputPerMTok: 2.5, outputPerMTok: 10, cachedInputPerMTok: 1.25 } },
    });
    const result = await agent.run('Hi', { session: 's' });
    // 600k fresh input × 2.5 + 400k cached × 1.25 + 200k output (reasoning included) × 10
    expect(result.cost?.usd).toBeCloseTo(1.5 + 0.5 + 2, 10);
    expect(result.cost?.byRuntime).toEqual({
      [AZURE_ID]: {
        usd: expect.closeTo(4, 10),
        inputTokens: 1_000_000,
        outputTokens: 200_000,
        cachedInputTokens: 400_000,
        reasoningTokens: 50_000,
      },
    });
    expect(result.cost).not.toHaveProperty('unpriced');
  });

  it('charges reasoning at reasoningPerMTok when given, and cached input at the input rate without a cached price', async () => {
    const agent = createAgent({
      runtime: meteredRuntime(AZURE_ID, ['Hi'], CACHED_AND_REASONING),
      prices: { 'gpt-4o': { inputPerMTok: 2, outputPerMTok: 10, reasoningPerMTok: 20 } },
    });
    const result = await agent.run('Hi', { session: 's' });
    expect(result.cost?.usd).toBeCloseTo(2 + 1.5 + 1, 10);
  });

  it('prefers the exact runtime id over the model', async () => {
    const agent = createAgent({
      runtime: meteredRuntime(AZURE_ID, ['Hi'], { input: 1_000_000, output: 0 }),
      prices: {
        'gpt-4o': { inputPerMTok: 5, outputPerMTok: 15 },
        [AZURE_ID]: { inputPerMTok: 2, outputPerMTok: 8 },
      },
    });
    expect((await agent.run('Hi', { session: 's' })).cost?.usd).toBeCloseTo(2, 10);
  });

  it('has no cost without a price, and lists the unpriced runtime beside a priced one', async () => {
    const plain = createAgent({ runtime: meteredRuntime(AZURE_ID, ['Hi'], { input: 10, output: 10 }) });
    expect(await plain.run('Hi', { session: 's' })).not.toHaveProperty('cost');

    const unpricedToo = createAgent({
      runtime: meteredRuntime(AZURE_ID, ['Hi'], { input: 10, output: 10 }),
      prices: { 'claude-sonnet': { inputPerMTok: 3, outputPerMTok: 15 } },
    });
    expect(await unpricedToo.run('Hi', { session: 's' })).not.toHaveProperty('cost');

    // The first step on the priced runtime, the second after it failed, on an unpriced one.
    const down = new CloudhopError('provider_unavailable', 'HTTP 503', { retryable: true });
    const mixed = createAgent({
      retry: { maxRetries: 0 },
      runtime: failover([
        meteredRuntime(AZURE_ID, [toolThenAnswer()[0], { error: down }], { input: 1_000_000, output: 0 }),
        meteredRuntime('bedrock-converse:us-east-1/custom-model', ['Done'], { input: 500, output: 20 }),
      ]),
      tools: [weather],
      prices: { 'gpt-4o': { inputPerMTok: 2.5, outputPerMTok: 10 } },
    });
    const result = await mixed.run('Weather in Paris?', { session: 's' });
    expect(result.cost).toEqual({
      usd: expect.closeTo(2.5, 10),
      byRuntime: { [AZURE_ID]: { usd: expect.closeTo(2.5, 10), inputTokens: 1_000_000, outputTokens: 0 } },
      unpriced: ['bedrock-converse:us-east-1/custom-model'],
    });
  });

  it('sums a session from the usage its items store, across pages', async () => {
    const store = memoryStore();
    const prices = { 'gpt-4o': { inputPerMTok: 1, outputPerMTok: 2 } };
    const agent = createAgent({
      runtime: meteredRuntime(AZURE_ID, Array(300).fill('ok'), { input: 1000, output: 100 }),
      store,
      prices,
    });
    let expected = 0;
    for (let turn = 0; turn < 300; turn++) expected += (await agent.run('again', { session: 's' })).cost!.usd;
    // A new agent (another process) reads it back from the store alone.
    const reader = createAgent({ runtime: scriptedRuntime([]), store, prices });
    const cost = await reader.session('s').cost();
    expect(cost.usd).toBeCloseTo(expected, 10);
    expect(cost.byRuntime[AZURE_ID]).toMatchObject({ inputTokens: 300_000, outputTokens: 30_000 });
    expect(await reader.session('never').cost()).toEqual({ usd: 0, byRuntime: {} });
  });

  it('charges a resubmitted turn (same idempotencyKey) nothing: the model was not asked again', async () => {
    const prices = { 'gpt-4o': { inputPerMTok: 1, outputPerMTok: 2 } };
    const agent = createAgent({
      runtime: meteredRuntime(AZURE_ID, ['Hi', 'not asked'], { input: 1_000_000, output: 0 }),
      prices,
    });
    const first = await agent.run('Hi', { session: 's', idempotencyKey: 'order-1' });
    expect(first.cost?.usd).toBeCloseTo(1, 10);
    const again = await agent.run('Hi', { session: 's', idempotencyKey: 'order-1' });
    expect(again.items).toEqual(first.items);
    expect(again).not.toHaveProperty('cost');
    expect(again.usage).toMatchObject({ inputTokens: 0, outputTokens: 0 });
    expect((await agent.session('s').cost()).usd).toBeCloseTo(1, 10);
  });

  it.each([
    [{ 'gpt-4o': { inputPerMTok: -1, outputPerMTok: 10 } }, 'prices["gpt-4o"].inputPerMTok'],
    [{ 'gpt-4o': { inputPerMTok: Number.NaN, outputPerMTok: 10 } }, 'prices["gpt-4o"].inputPerMTok'],
    [{ 'gpt-4o': { inputPerMTok: 1, outputPerMTok: '10' } }, 'prices["gpt-4o"].outputPerMTok'],
    [
      { 'gpt-4o': { inputPerMTok: 1, outputPerMTok: 10, cachedPerMTok: 1 } },
      'prices["gpt-4o"].cachedPerMTok',
    ],
    [{ 'gpt-4o': { inputPerMTok: 1 } }, 'prices["gpt-4o"].outputPerMTok'],
    [{ 'gpt-4o': 2.5 }, 'prices["gpt-4o"]'],
  ])('refuses bad prices %j naming %s', (prices, path) => {
    const error = configError(() => createAgent({ runtime: scriptedRuntime([]), prices: prices as any }));
    expect(error.code).toBe('invalid_config');
    expect(error.message).toContain(`"${path}"`);
  });
});

describe('debug timings', () => {
  it('times each model step and each store call', async () => {
    const lines: string[] = [];
    const store = sqliteStore({ path: ':memory:' });
    const agent = createAgent({
      runtime: scriptedRuntime(toolThenAnswer(), { id: AZURE_ID }),
      tools: [weather],
      store,
      debug: (line) => lines.push(line),
    });
    await agent.run('Weather in Paris?', { session: 's' });
    await agent.close();
    for (const timing of [
      /store lock: \d+ ms/,
      /store load: \d+ ms/,
      new RegExp(`step 1 on ${AZURE_ID}: \\d+ ms`),
      new RegExp(`step 2 on ${AZURE_ID}: \\d+ ms`),
      /store commit: \d+ ms/,
      /store release: \d+ ms/,
    ]) {
      expect(lines.some((line) => timing.test(line))).toBe(true);
    }
  });
});
