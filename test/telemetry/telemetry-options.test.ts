import type { Span, Tracer } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/v4';
import {
  type AgentOptions,
  CloudhopError,
  createAgent,
  failover,
  type TelemetryOptions,
  tool,
} from '../../src/index.js';
import { openaiChat } from '../../src/openai.js';
import { scriptedRuntime } from '../../src/testing/index.js';
import { emulatorForFile, MODELS } from '../integration/helpers.js';
import { memoryTracing, STATUS } from './helpers.js';

const { emu, clouds } = await emulatorForFile({ clearFaults: true });

/** A key of a runtime made here, and so a registered secret. */
const API_KEY = 'options-key-Rf73kPq0Xz';
const keyed = openaiChat({ baseURL: emu.openaiBaseURL, model: MODELS.openaiChat, apiKey: API_KEY });

const weather = tool({
  name: 'get_weather',
  description: 'Current weather for a city',
  input: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, tempC: 21 }),
});

function configError(telemetry: unknown): CloudhopError {
  try {
    createAgent({ runtime: scriptedRuntime(['ok']), telemetry: telemetry as TelemetryOptions });
  } catch (error) {
    if (CloudhopError.is(error)) return error;
    throw error;
  }
  throw new Error(`createAgent accepted telemetry ${JSON.stringify(telemetry)}`);
}

describe('telemetry options', () => {
  it.each([
    [{ tracer: {} }, 'telemetry.tracer', /OpenTelemetry Tracer/],
    [{ tracer: { startSpan: 'yes' } }, 'telemetry.tracer', /OpenTelemetry Tracer/],
    [{ recordContent: 'yes' }, 'telemetry.recordContent', /boolean/],
    [{ agentName: '' }, 'telemetry.agentName', /must not be empty/],
    [{ verbose: true }, 'telemetry', /"verbose"/],
    ['on', 'telemetry', /object/],
  ])('telemetry %j is invalid_config naming %s', (telemetry, path, rule) => {
    const error = configError(telemetry);
    expect(error.code).toBe('invalid_config');
    expect(error.message).toContain(`option "${path}"`);
    expect(error.message).toMatch(rule);
  });

  it('accepts a Tracer, recordContent and agentName, and an empty object', () => {
    const { tracer } = memoryTracing();
    for (const telemetry of [{}, { tracer, recordContent: false, agentName: 'desk' }]) {
      expect(() => createAgent({ runtime: scriptedRuntime(['ok']), telemetry })).not.toThrow();
    }
  });
});

/** A turn that makes every kind of span and event: a retry, a failover, a tool call. */
async function busyTurns(telemetry: TelemetryOptions, lines: string[]): Promise<string[]> {
  const options: AgentOptions = {
    runtime: failover([keyed, clouds.frontier]),
    tools: [weather],
    retry: { maxRetries: 1, initialDelayMs: 1 },
    telemetry,
    debug: (line) => lines.push(line),
  };
  const agent = createAgent(options);
  const texts: string[] = [];
  for (const session of ['first', 'second']) {
    emu.faults.set([
      { route: 'chat', status: 429, retryAfterMs: 1, count: 1 },
      { route: 'chat', status: 503, count: 2 },
    ]);
    const result = await agent.run('Use get_weather for Paris.', { session });
    texts.push(result.text);
    expect(await agent.session(session).version()).toBe(result.sessionVersion);
  }
  return texts;
}

const telemetryLines = (lines: string[]) => lines.filter((line) => /telemetry/i.test(line));

describe('telemetry never breaks a turn', () => {
  it('a tracer whose startSpan throws: turns succeed, and debug says so once per agent without the secret', async () => {
    const lines: string[] = [];
    const tracer = {
      startSpan(): never {
        throw new Error(`exporter rejected: Authorization: Bearer ${API_KEY}`);
      },
    };
    const texts = await busyTurns({ tracer }, lines);
    expect(texts).toHaveLength(2);
    for (const text of texts) expect(text).toContain('get_weather tool returned');
    const reports = telemetryLines(lines);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toContain('exporter rejected');
    expect(reports[0]).toContain('Bearer [redacted]');
    expect(lines.join('\n')).not.toContain(API_KEY);
  });

  it('spans whose methods all throw: turns succeed, reported once', async () => {
    const lines: string[] = [];
    const { tracer: real } = memoryTracing();
    const hostile = (span: Span): Span =>
      new Proxy(span, {
        get(target, property, receiver) {
          if (property === 'spanContext') return Reflect.get(target, property, receiver).bind(target);
          return () => {
            throw new Error(`span.${String(property)} failed`);
          };
        },
      });
    const tracer = {
      startSpan: (...args: Parameters<Tracer['startSpan']>) => hostile(real.startSpan(...args)),
    };
    const texts = await busyTurns({ tracer }, lines);
    expect(texts).toHaveLength(2);
    expect(telemetryLines(lines)).toHaveLength(1);
  });

  it('a tracer that hands out no span: turns succeed', async () => {
    const lines: string[] = [];
    const tracer = { startSpan: () => undefined as unknown as object };
    const texts = await busyTurns({ tracer }, lines);
    expect(texts).toHaveLength(2);
  });

  it('chat spans that refuse their result attributes: the turn succeeds, and every span still ends', async () => {
    const lines: string[] = [];
    const tracing = memoryTracing();
    const tracer = {
      startSpan(...args: Parameters<Tracer['startSpan']>) {
        const span = tracing.tracer.startSpan(...args);
        if (!args[0].startsWith('chat')) return span;
        span.setAttributes = () => {
          throw new Error('attribute limit reached');
        };
        return span;
      },
    };
    await busyTurns({ tracer }, lines);
    // Every span ended: a chat span that could not take its result is still exported, without it.
    const spans = tracing.spans();
    const count = (name: string) => spans.filter((span) => span.name === name).length;
    expect(count('invoke_agent')).toBe(2);
    expect(count('execute_tool get_weather')).toBe(2);
    // Per turn: 429 and 503 on the first runtime, frontier's tool call, the first runtime's answer.
    const chats = spans.filter((span) => span.name.startsWith('chat'));
    expect(chats).toHaveLength(8);
    const answered = chats.filter((span) => span.status.code !== STATUS.ERROR);
    expect(answered).toHaveLength(4);
    for (const span of answered) expect(span.attributes).not.toHaveProperty('gen_ai.response.finish_reasons');
    // The turn spans, recorded by spans that did not fail, have their result.
    for (const turn of spans.filter((span) => span.name === 'invoke_agent')) {
      expect(turn.attributes['cloudhop.session.version']).toBe(4);
    }
    expect(telemetryLines(lines)).toEqual([expect.stringContaining('attribute limit reached')]);
  });
});
