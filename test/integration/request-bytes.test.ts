import { describe, expect, it } from 'vitest';
import {
  type ContextPolicy,
  createAgent,
  memoryStore,
  type RunResult,
  type Runtime,
} from '../../src/index.js';
import { emulatorForFile, INSTRUCTIONS, itemsOf, weather } from './helpers.js';

const TURNS = 30;

const { emu, clouds } = await emulatorForFile();

interface Talk {
  results: RunResult[];
  /** Request-body bytes the emulator received during each turn. */
  received: number[];
  /** The last chat request's messages (chat runtimes). */
  lastBody: any;
  sessionLength: number;
}

function bytesIn(): number {
  return Object.values(emu.stats().routes).reduce((sum, route) => sum + route.bytesIn, 0);
}

/** Thirty turns of the same size on one session; what each cost on the wire. */
async function talk(runtime: Runtime, session: string, context?: ContextPolicy): Promise<Talk> {
  const store = memoryStore();
  const agent = createAgent({
    runtime,
    store,
    tools: [weather],
    instructions: INSTRUCTIONS,
    ...(context ? { context } : {}),
  });
  const results: RunResult[] = [];
  const received: number[] = [];
  for (let n = 1; n <= TURNS; n++) {
    const before = bytesIn();
    results.push(
      await agent.run(`Note ${String(n).padStart(2, '0')}: the sky over the harbour is clear.`, { session }),
    );
    received.push(bytesIn() - before);
  }
  return {
    results,
    received,
    lastBody: emu.requests(1)[0]!.body,
    sessionLength: (await itemsOf(store, session)).length,
  };
}

const requestBytes = (talk: Talk) => talk.results.map((result) => result.usage.requestBytes);

describe('requestBytes over 30 turns', () => {
  it.each(['frontier', 'openaiResponses', 'azureResponses'] as const)(
    'stays flat on the stateful %s: the last request is at most 1.5× the 2nd',
    async (cloud) => {
      const run = await talk(clouds[cloud], `flat-${cloud}`);
      const bytes = requestBytes(run);
      expect(bytes.at(-1)!).toBeLessThanOrEqual(1.5 * bytes[1]!);
      // Only the new input travels, but the model still sees the whole session.
      expect(run.results.at(-1)!.text).toBe(
        `Echo: Note 30: the sky over the harbour is clear. (context: ${2 * TURNS - 1} messages)`,
      );
      expect(run.sessionLength).toBe(2 * TURNS);
    },
  );

  it.each(['azureChat', 'openaiChat', 'bedrockConverse'] as const)(
    'grows on the stateless %s with the session',
    async (cloud) => {
      const bytes = requestBytes(await talk(clouds[cloud], `growing-${cloud}`));
      expect(bytes.at(-1)!).toBeGreaterThan(4 * bytes[1]!);
      for (let n = 1; n < TURNS; n++) expect(bytes[n]!).toBeGreaterThan(bytes[n - 1]!);
    },
  );

  it('counts exactly the bytes the server received, on every runtime', async () => {
    for (const cloud of ['azureChat', 'frontier', 'bedrockConverse'] as const) {
      const run = await talk(clouds[cloud], `counted-${cloud}`);
      expect(requestBytes(run), cloud).toEqual(run.received);
    }
  });

  it('stays bounded on a stateless runtime with context: { maxItems: 10 }', async () => {
    const bounded = await talk(clouds.azureChat, 'bounded', { maxItems: 10 });
    const unbounded = await talk(clouds.azureChat, 'unbounded');
    const bytes = requestBytes(bounded);
    // From the 6th turn on the window is full: the request stops growing.
    for (let n = 6; n < TURNS; n++) expect(bytes[n]!).toBeLessThanOrEqual(1.1 * bytes[5]!);
    expect(bytes.at(-1)!).toBeLessThan(requestBytes(unbounded).at(-1)! / 3);
    // The system prompt plus the ten newest items; the store still holds all sixty.
    expect(bounded.lastBody.messages).toHaveLength(11);
    expect(bounded.lastBody.messages[0]).toEqual({ role: 'system', content: INSTRUCTIONS });
    expect(bounded.lastBody.messages.at(-1)).toEqual({
      role: 'user',
      content: 'Note 30: the sky over the harbour is clear.',
    });
    expect(bounded.sessionLength).toBe(2 * TURNS);
    expect(bounded.results.at(-1)!.text).toBe(
      'Echo: Note 30: the sky over the harbour is clear. (context: 10 messages)',
    );
  });
});
