import type { AttributeValue } from '@opentelemetry/api';
import * as stable from '@opentelemetry/semantic-conventions';
import * as incubating from '@opentelemetry/semantic-conventions/incubating';
import { beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod/v4';
import {
  type Agent,
  type AgentOptions,
  createAgent,
  failover,
  memoryStore,
  type RunResult,
  tool,
} from '../../src/index.js';
import { conversationItems, seedSession } from '../helpers/long-session.js';
import { emulatorForFile, INSTRUCTIONS, keyOf, MODELS } from '../integration/helpers.js';
import { attributeSets, memoryTracing } from './helpers.js';

const { emu, clouds } = await emulatorForFile({ clearFaults: true });
const tracing = memoryTracing();
const { tracer } = tracing;

const weather = tool({
  name: 'get_weather',
  description: 'Current weather for a city',
  input: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, tempC: 21 }),
});
const broken = tool({
  name: 'get_time',
  description: 'Local time in a city',
  input: z.object({ city: z.string() }),
  execute: async () => {
    throw new Error('clock service down');
  },
});

/** The values of the constants a semantic-conventions module exports under `prefix`. */
function valuesOf(module: Record<string, unknown>, prefix: string): Set<unknown> {
  return new Set(
    Object.entries(module)
      .filter(([name]) => name.startsWith(prefix))
      .map(([, value]) => value),
  );
}

const REGISTERED = new Set([...valuesOf(stable, 'ATTR_'), ...valuesOf(incubating, 'ATTR_')]);
const PROVIDERS = valuesOf(incubating, 'GEN_AI_PROVIDER_NAME_VALUE_');
const OPERATIONS = valuesOf(incubating, 'GEN_AI_OPERATION_NAME_VALUE_');
const OUTPUT_TYPES = valuesOf(incubating, 'GEN_AI_OUTPUT_TYPE_VALUE_');

/** Every value each attribute took, on spans and span events. */
const seen = new Map<string, AttributeValue[]>();
const eventNames = new Set<string>();

function agentWith(options: Partial<AgentOptions> & Pick<AgentOptions, 'runtime'>): Agent {
  return createAgent({
    store: memoryStore(),
    instructions: INSTRUCTIONS,
    tools: [weather, broken],
    retry: { maxRetries: 1, initialDelayMs: 1 },
    telemetry: { tracer, recordContent: true, agentName: 'registry' },
    ...options,
  });
}

async function streamed(agent: Agent, input: string, session: string): Promise<RunResult> {
  const stream = agent.stream(input, { session });
  for await (const _event of stream) {
    // drained
  }
  return stream.result;
}

/** Turns that between them reach every kind of span, event and attribute cloudhop emits. */
beforeAll(async () => {
  // Chat Completions and Responses: a retry, a failover, two tools (one failing), a price.
  emu.faults.set([
    { route: 'chat', status: 429, retryAfterMs: 1, count: 1 },
    { route: 'chat', status: 503, count: 2 },
  ]);
  const moving = agentWith({
    runtime: failover([clouds.azureChat, clouds.frontier]),
    prices: { [MODELS.azureChat]: { inputPerMTok: 2.5, outputPerMTok: 10 } },
  });
  await moving.run('Use get_weather and get_time for Paris.', { session: 'moving' });
  // Replayed.
  await moving.run('Hello', { session: 'replayed', idempotencyKey: 'once' });
  await moving.run('Hello', { session: 'replayed', idempotencyKey: 'once' });
  // Structured output.
  await moving.run('Hello', { session: 'json', output: z.object({ reply: z.string() }) });

  // A stateful runtime resumed, then reseeded; streamed on Responses.
  const stateful = agentWith({ runtime: clouds.openaiResponses });
  await stateful.run('Hi, my name is Ada.', { session: 'stateful' });
  emu.faults.set({ route: 'responses', dropStored: true, count: 1 });
  await streamed(stateful, 'What is my name?', 'stateful');

  // Bedrock Converse, streamed, with a tool.
  await streamed(agentWith({ runtime: clouds.bedrockConverse }), 'Use get_weather for Paris.', 'converse');

  // Compaction, then a compaction that fails.
  const budget = { maxInputTokens: 8_000, compaction: { triggerTokens: 4_000, keepRecentTokens: 1_000 } };
  const store = memoryStore();
  for (const session of ['compact', 'compact-fails']) {
    await seedSession(store, keyOf(session), conversationItems(200, { 0: 'Hi, my name is Ada.' }));
  }
  await agentWith({ runtime: clouds.azureChat, store, context: budget }).run('What is my name?', {
    session: 'compact',
  });
  emu.faults.set({ route: 'converse', status: 503 });
  await agentWith({
    runtime: clouds.azureChat,
    store,
    retry: { maxRetries: 0 },
    context: { ...budget, compaction: { ...budget.compaction, runtime: clouds.bedrockConverse } },
  }).run('What is my name?', { session: 'compact-fails' });

  // A failed turn.
  emu.faults.set({ route: 'chat', status: 401 });
  await agentWith({ runtime: clouds.azureChat })
    .run('Hello', { session: 'denied' })
    .catch(() => {});
  emu.faults.clear();

  for (const span of tracing.spans()) {
    for (const event of span.events) eventNames.add(event.name);
    for (const attributes of attributeSets(span)) {
      for (const [key, value] of Object.entries(attributes)) {
        if (value === undefined) continue;
        seen.set(key, [...(seen.get(key) ?? []), value]);
      }
    }
  }
});

describe('every attribute is a registered semantic convention or a cloudhop.* one', () => {
  it('names outside cloudhop.* are attributes of @opentelemetry/semantic-conventions (stable or incubating)', () => {
    const unregistered = [...seen.keys()].filter(
      (key) => !key.startsWith('cloudhop.') && !REGISTERED.has(key),
    );
    expect(unregistered).toEqual([]);
    // The turns above reached what the README documents, so this is no check of an empty list.
    expect([...seen.keys()]).toEqual(
      expect.arrayContaining([
        'gen_ai.operation.name',
        'gen_ai.provider.name',
        'gen_ai.request.model',
        'gen_ai.response.id',
        'gen_ai.response.model',
        'gen_ai.response.finish_reasons',
        'gen_ai.usage.input_tokens',
        'gen_ai.usage.output_tokens',
        'gen_ai.conversation.id',
        'gen_ai.agent.name',
        'gen_ai.output.type',
        'gen_ai.request.stream',
        'gen_ai.response.time_to_first_chunk',
        'gen_ai.tool.name',
        'gen_ai.tool.call.id',
        'gen_ai.tool.type',
        'gen_ai.input.messages',
        'gen_ai.output.messages',
        'gen_ai.system_instructions',
        'gen_ai.tool.call.arguments',
        'gen_ai.tool.call.result',
        'server.address',
        'server.port',
        'error.type',
        'cloudhop.runtime.id',
        'cloudhop.attempt',
        'cloudhop.remote.resumed',
        'cloudhop.session.namespace',
        'cloudhop.session.version',
        'cloudhop.answered_by',
        'cloudhop.cost.usd',
        'cloudhop.replayed',
      ]),
    );
    expect([...eventNames].sort()).toEqual([
      'cloudhop.compaction',
      'cloudhop.compaction_failed',
      'cloudhop.failover',
      'cloudhop.reseed',
      'cloudhop.retry',
    ]);
  });

  it('cloudhop.* names follow the OpenTelemetry naming rules (lowercase, dot-separated, snake_case)', () => {
    const names = [...[...seen.keys()].filter((key) => key.startsWith('cloudhop.')), ...eventNames];
    for (const name of names) expect(name).toMatch(/^cloudhop(\.[a-z][a-z0-9]*(_[a-z0-9]+)*)+$/);
  });

  it('enumerated attributes take the values the conventions list', () => {
    const valuesOfKey = (key: string) => new Set(seen.get(key));
    expect([...valuesOfKey('gen_ai.provider.name')].sort()).toEqual([
      'aws.bedrock',
      'azure.ai.openai',
      'openai',
    ]);
    for (const provider of valuesOfKey('gen_ai.provider.name')) expect(PROVIDERS).toContain(provider);
    expect([...valuesOfKey('gen_ai.operation.name')].sort()).toEqual([
      'chat',
      'execute_tool',
      'invoke_agent',
    ]);
    for (const operation of valuesOfKey('gen_ai.operation.name')) expect(OPERATIONS).toContain(operation);
    expect([...valuesOfKey('gen_ai.output.type')].sort()).toEqual(['json', 'text']);
    for (const type of valuesOfKey('gen_ai.output.type')) expect(OUTPUT_TYPES).toContain(type);
    expect([...valuesOfKey('gen_ai.tool.type')]).toEqual(['function']);
  });

  it('attributes have the types the conventions give them', () => {
    const integer = (value: AttributeValue) => Number.isInteger(value) && (value as number) >= 0;
    const types: Record<string, (value: AttributeValue) => boolean> = {
      'gen_ai.usage.input_tokens': integer,
      'gen_ai.usage.output_tokens': integer,
      'gen_ai.usage.cache_read.input_tokens': integer,
      'gen_ai.usage.reasoning.output_tokens': integer,
      'server.port': integer,
      'gen_ai.request.stream': (value) => typeof value === 'boolean',
      'gen_ai.response.finish_reasons': (value) =>
        Array.isArray(value) && value.length > 0 && value.every((reason) => typeof reason === 'string'),
      'gen_ai.response.time_to_first_chunk': (value) => typeof value === 'number' && value > 0,
    };
    for (const [key, values] of seen) {
      if (key.startsWith('cloudhop.')) continue;
      const fits = types[key] ?? ((value: AttributeValue) => typeof value === 'string' && value !== '');
      for (const value of values) expect(fits(value), `${key} = ${JSON.stringify(value)}`).toBe(true);
    }
  });
});
