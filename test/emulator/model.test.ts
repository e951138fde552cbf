import { describe, expect, it } from 'vitest';
import * as z from 'zod/v4';
import { type JsonSchema, lastCapitalizedWord, sampleFromSchema } from '../../src/emulator/json-schema.js';
import { builtInModel, type EmulatorContext, textDeltas } from '../../src/emulator/model.js';

function context(overrides: Partial<EmulatorContext>): EmulatorContext {
  return {
    protocol: 'chat',
    model: 'm',
    stateful: false,
    stream: false,
    entries: [],
    tools: [],
    toolChoice: 'auto',
    ...overrides,
  };
}

const user = (text: string) => ({ type: 'message' as const, role: 'user' as const, text });

describe('values built from a JSON schema', () => {
  const Node: z.ZodType<{ label: string; children: unknown[] }> = z.lazy(() =>
    z.object({ label: z.string(), children: z.array(Node) }),
  );
  const schemas = {
    flat: z.object({ city: z.string(), days: z.int().min(2).max(5), metric: z.boolean() }),
    enums: z.object({ unit: z.enum(['celsius', 'fahrenheit']), mode: z.literal('fast') }),
    nested: z.object({
      trip: z.object({ stops: z.array(z.string()).min(2), nights: z.number().positive() }),
    }),
    nullable: z.object({ note: z.string().nullable(), tag: z.union([z.number(), z.string()]) }),
    formats: z.object({ email: z.email(), when: z.iso.datetime(), id: z.uuid(), short: z.string().max(3) }),
    recursive: Node,
    optional: z.object({ required: z.string(), maybe: z.string().optional() }),
  };

  it.each(Object.entries(schemas))('builds a valid value for %s', (_name, schema) => {
    const jsonSchema = z.toJSONSchema(schema) as JsonSchema;
    const value = sampleFromSchema(jsonSchema, { text: 'Plan 3 nights in Vienna in fahrenheit' });
    expect(() => schema.parse(value)).not.toThrow();
  });

  it('takes values from the text: last capitalized word, numbers in range, named enum members', () => {
    const value = sampleFromSchema(z.toJSONSchema(schemas.flat) as JsonSchema, {
      text: 'Weather in Berlin for 9 or 4 days',
    });
    expect(value).toEqual({ city: 'Berlin', days: 4, metric: true });
    const unit = sampleFromSchema(z.toJSONSchema(schemas.enums) as JsonSchema, {
      text: 'in FAHRENHEIT please',
    });
    expect(unit).toEqual({ unit: 'fahrenheit', mode: 'fast' });
  });

  it("skips the tool's own name when picking a word", () => {
    expect(lastCapitalizedWord('Use get_weather for Paris.', ['get_weather'])).toBe('Paris');
    expect(lastCapitalizedWord('Call Lookup', ['lookup'])).toBe('Call');
    expect(lastCapitalizedWord('nothing capitalized here', [])).toBeUndefined();
  });
});

describe('the built-in model', () => {
  it('uses the most recent name and answers from it', () => {
    const turn = builtInModel(
      context({ entries: [user('my name is Grace'), user('MY NAME IS Ada'), user("What's my name?")] }),
    );
    expect(turn).toEqual({ kind: 'text', text: 'Your name is Ada.' });
  });

  it('does not call a tool that is not offered, and calls every offered tool it is told to', () => {
    const tools = [
      { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
      { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } } } },
    ];
    expect(builtInModel(context({ entries: [user('Use get_news for Rome')], tools })).kind).toBe('text');
    const both = builtInModel(context({ entries: [user('Use get_weather and get_time for Rome')], tools }));
    expect(both).toEqual({
      kind: 'tool_calls',
      calls: [
        { name: 'get_weather', arguments: '{"city":"Rome"}' },
        { name: 'get_time', arguments: '{"zone":"Rome"}' },
      ],
    });
    expect(
      builtInModel(context({ entries: [user('Use get_weather')], tools, toolChoice: 'none' })).kind,
    ).toBe('text');
  });

  it('reports failed tool results as failures', () => {
    const turn = builtInModel(
      context({
        entries: [
          user('Use get_weather for Rome'),
          { type: 'tool_call', callId: 'c1', name: 'get_weather', arguments: '{}' },
          { type: 'tool_result', callId: 'c1', output: 'station offline', isError: true },
        ],
      }),
    );
    expect(turn).toEqual({ kind: 'text', text: 'The get_weather tool failed with: station offline' });
  });

  it('summarizes before anything else: tools named in the conversation are not called', () => {
    const turn = builtInModel(
      context({
        entries: [
          { type: 'message', role: 'system', text: 'Summarize the conversation.' },
          user('user: my name is Ada\nuser: Use get_weather for Rome'),
        ],
        tools: [{ name: 'get_weather', parameters: { type: 'object' } }],
        toolChoice: 'required',
      }),
    );
    expect(turn).toEqual({
      kind: 'text',
      text: 'Summary: the user said "my name is Ada". 2 lines summarized.',
    });
  });

  it('splits text into deltas that join back to it', () => {
    const text = 'Echo: one two three four five (context: 1 message)';
    const deltas = textDeltas(text);
    expect(deltas.length).toBeGreaterThan(2);
    expect(deltas.join('')).toBe(text);
  });
});
