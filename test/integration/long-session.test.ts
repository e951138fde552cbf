import { describe, expect, it } from 'vitest';
import { type AgentEvent, createAgent, memoryStore, type Runtime } from '../../src/index.js';
import { conversationItems, seedSession } from '../helpers/long-session.js';
import { emulatorForFile, INSTRUCTIONS, keyOf, turn } from './helpers.js';

const { emu, clouds } = await emulatorForFile();

const ITEMS = 10_000;
const BUDGET = 8_000;
/** What a request within the budget may weigh on the wire: JSON framing on top of ~4 bytes a token. */
const BUDGET_BYTES = BUDGET * 4 * 1.5;

describe('a 10,000-item session on the emulator', () => {
  it('a fact from item 3 survives compaction and a move to every runtime, each request within the budget', async () => {
    const store = memoryStore();
    await seedSession(
      store,
      keyOf('ten-thousand'),
      conversationItems(ITEMS, { 3: 'By the way, my name is Ada.' }),
    );
    const agent = createAgent({
      runtime: clouds.azureChat,
      store,
      instructions: INSTRUCTIONS,
      context: { maxInputTokens: BUDGET, compaction: { triggerTokens: 6_000, keepRecentTokens: 1_500 } },
    });

    const first = await turn(emu, agent, store, 'What is my name?', { session: 'ten-thousand' });
    expect(first.result.text).toBe('Your name is Ada.');
    const compacted = first.events.find(
      (event): event is Extract<AgentEvent, { type: 'compacted' }> => event.type === 'compacted',
    );
    expect(compacted).toMatchObject({ fromVersion: 0, runtimeId: clouds.azureChat.id });
    const summary = first.result.items[0]!;
    expect(summary).toMatchObject({
      type: 'summary',
      covers: { fromVersion: 0, toVersion: compacted!.toVersion },
    });
    if (summary.type === 'summary') expect(summary.text).toContain('my name is Ada');
    for (const request of first.requests) expect(request.bytesIn).toBeLessThanOrEqual(BUDGET_BYTES);

    const moves: Runtime[] = [
      clouds.openaiChat,
      clouds.bedrockConverse,
      clouds.frontier,
      clouds.openaiResponses,
      clouds.azureResponses,
      clouds.frontierConversation,
    ];
    for (const runtime of moves) {
      const moved = await turn(emu, agent.withRuntime(runtime), store, 'What is my name?', {
        session: 'ten-thousand',
      });
      expect({ runtime: runtime.id, text: moved.result.text }).toEqual({
        runtime: runtime.id,
        text: 'Your name is Ada.',
      });
      expect(moved.events.map((event) => event.type)).not.toContain('compacted');
      for (const request of moved.requests) expect(request.bytesIn).toBeLessThanOrEqual(BUDGET_BYTES);
    }

    // Back on frontier: its handle missed the three turns since (six items), and only they go out;
    // the turn after that sends only its new input.
    const onFrontier = agent.withRuntime(clouds.frontier);
    const back = await turn(emu, onFrontier, store, 'What is my name?', { session: 'ten-thousand' });
    const again = await turn(emu, onFrontier, store, 'What is my name?', { session: 'ten-thousand' });
    for (const [record, inputs] of [
      [back, 7],
      [again, 1],
    ] as const) {
      expect(record.result.text).toBe('Your name is Ada.');
      const body = record.requests[0]!.body as { input: unknown[]; previous_response_id?: string };
      expect(body.input).toHaveLength(inputs);
      expect(body.previous_response_id).toMatch(/^resp_/);
    }
  }, 120_000);

  it('the first turn on a stateful runtime without a handle sends about what a stateless runtime sends', async () => {
    const store = memoryStore();
    await seedSession(store, keyOf('moving'), conversationItems(ITEMS));
    const context = { maxInputTokens: BUDGET };
    const stateless = await createAgent({
      runtime: clouds.azureChat,
      store,
      instructions: INSTRUCTIONS,
      context,
    }).run('Continue', { session: 'moving' });
    const moved = await createAgent({
      runtime: clouds.frontier,
      store,
      instructions: INSTRUCTIONS,
      context,
    }).run('Continue', { session: 'moving' });
    expect(stateless.usage.requestBytes).toBeLessThanOrEqual(BUDGET_BYTES);
    expect(moved.usage.requestBytes).toBeLessThanOrEqual(BUDGET_BYTES);
    expect(moved.usage.requestBytes / stateless.usage.requestBytes).toBeGreaterThan(0.5);
    expect(moved.usage.requestBytes / stateless.usage.requestBytes).toBeLessThan(2);
  }, 60_000);

  it('an expired handle of a long session reseeds within the budget', async () => {
    const store = memoryStore();
    await seedSession(store, keyOf('expiring'), conversationItems(ITEMS, { 0: 'Hi, my name is Ada.' }));
    const agent = createAgent({
      runtime: clouds.frontier,
      store,
      instructions: INSTRUCTIONS,
      context: { maxInputTokens: BUDGET, compaction: { triggerTokens: 6_000, keepRecentTokens: 1_500 } },
    });
    await agent.run('Hello', { session: 'expiring' });
    emu.faults.set({ route: 'responses', dropStored: true, count: 1 });
    const reseeded = await turn(emu, agent, store, 'What is my name?', { session: 'expiring' });
    emu.faults.clear();
    expect(reseeded.result.text).toBe('Your name is Ada.');
    expect(reseeded.events.map((event) => event.type)).toContain('session-reseeded');
    for (const request of reseeded.requests) expect(request.bytesIn).toBeLessThanOrEqual(BUDGET_BYTES);
  }, 60_000);
});
