import { describe, expect, it } from 'vitest';
import { type AgentEvent, createAgent, failover, memoryStore } from '../../src/index.js';
import { OPENING_USER_TEXT } from '../../src/runtimes/bedrock-converse/convert-to-bedrock-messages.js';
import {
  bindingOf,
  emulatorForFile,
  entriesOfChat,
  entriesOfConverse,
  entriesOfItems,
  entriesOfResponses,
  INSTRUCTIONS,
  turn,
} from './helpers.js';

const { emu, clouds } = await emulatorForFile({ clearFaults: true });

const system = { role: 'system', text: INSTRUCTIONS } as const;

/** Retries and failovers of a turn, in order, by the runtime ids they name. */
function moves(events: AgentEvent[]): string[] {
  return events.flatMap((event) => {
    if (event.type === 'retry') return [`retry ${event.error.runtimeId}`];
    if (event.type === 'failover') return [`${event.from} -> ${event.to}`];
    return [];
  });
}

describe('failover([failover([failover([frontier, azureChat]), bedrockConverse]), azureResponses])', () => {
  it('runs each member as itself: frontier on its binding, the stateless members on their context view, each with its retries', async () => {
    const { frontier, azureChat, bedrockConverse, azureResponses } = clouds;
    const store = memoryStore();
    // The budget holds the newest maxItems items; half of it, what a new remote session is
    // seeded with, would hold fewer: a stateless member shows which of the two it was given.
    const maxItems = 4;
    const agent = createAgent({
      runtime: failover([failover([failover([frontier, azureChat]), bedrockConverse]), azureResponses]),
      store,
      instructions: INSTRUCTIONS,
      retry: { maxRetries: 1, initialDelayMs: 1, maxDelayMs: 5 },
      context: { maxItems, maxInputTokens: 96 },
    });
    const session = 'nested';

    const hello = await turn(emu, agent, store, 'Hi, my name is Ada.', { session });
    expect(hello.result.runtimeId).toBe(frontier.id);
    const afterHello = await bindingOf(store, session, frontier);
    expect(afterHello).toMatchObject({ remote: { responseId: expect.stringMatching(/^resp_/) } });

    // The second turn resumes frontier's remote session: only the new input goes out.
    const asked = await turn(emu, agent, store, 'What is my name?', { session });
    expect(asked.result.runtimeId).toBe(frontier.id);
    expect(asked.result.text).toBe('Your name is Ada.');
    expect(asked.requests.map((request) => request.route)).toEqual(['responses']);
    const delta = asked.requests[0]!.body as any;
    expect(delta.previous_response_id).toBe(afterHello!.remote.responseId);
    expect(entriesOfResponses(delta)).toEqual([system, ...entriesOfItems([asked.result.items[0]!])]);
    expect((await bindingOf(store, session, frontier))!.syncedVersion).toBe(asked.result.sessionVersion);

    // Responses down: frontier gets its retry, then azureChat (two levels up the nest from
    // bedrockConverse, one from frontier) answers with the newest maxItems items.
    emu.faults.set({ route: 'responses', status: 503 });
    const paris = await turn(emu, agent, store, 'Tell me about the weather in Paris today.', { session });
    expect(paris.result.runtimeId).toBe(azureChat.id);
    expect(paris.requests.map((request) => request.route)).toEqual(['responses', 'responses', 'chat']);
    expect(moves(paris.events)).toEqual([`retry ${frontier.id}`, `${frontier.id} -> ${azureChat.id}`]);
    expect(entriesOfChat(paris.requests[2]!.body)).toEqual([
      system,
      ...entriesOfItems([...paris.before.slice(-(maxItems - 1)), paris.result.items[0]!]),
    ]);

    // Chat down too: the step leaves the innermost group for bedrockConverse, one level up.
    emu.faults.set([
      { route: 'responses', status: 503 },
      { route: 'chat', status: 503 },
    ]);
    const rome = await turn(emu, agent, store, 'And in Rome?', { session });
    expect(rome.result.runtimeId).toBe(bedrockConverse.id);
    expect(rome.requests.map((request) => request.route)).toEqual([
      'responses',
      'responses',
      'chat',
      'chat',
      'converse-stream',
    ]);
    expect(moves(rome.events)).toEqual([
      `retry ${frontier.id}`,
      `${frontier.id} -> ${azureChat.id}`,
      `retry ${azureChat.id}`,
      `${azureChat.id} -> ${bedrockConverse.id}`,
    ]);
    const kept = rome.before.slice(-(maxItems - 1));
    expect(kept[0]).toMatchObject({ type: 'message', role: 'assistant' });
    // Converse opens with a user message: the runtime puts one before the assistant's.
    expect(entriesOfConverse(rome.requests[4]!.body)).toEqual([
      system,
      { role: 'user', text: OPENING_USER_TEXT },
      ...entriesOfItems([...kept, rome.result.items[0]!]),
    ]);
    // The frontier binding is still the one its own turn committed.
    expect((await bindingOf(store, session, frontier))!.syncedVersion).toBe(asked.result.sessionVersion);
    expect(await bindingOf(store, session, azureResponses)).toBeUndefined();
  });
});
