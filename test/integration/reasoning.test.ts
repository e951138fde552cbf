import { describe, expect, it } from 'vitest';
import {
  createAgent,
  createItem,
  type Item,
  type MessageItem,
  memoryStore,
  type ReasoningItem,
} from '../../src/index.js';
import {
  bindingOf,
  emulatorForFile,
  entriesOfChat,
  entriesOfConverse,
  entriesOfItems,
  entriesOfResponses,
  INSTRUCTIONS,
  itemsOf,
  keyOf,
  turn,
  weather,
} from './helpers.js';

const FRONTIER_FAMILY = 'aws-bedrock-openai';
const CONVERSE_FAMILY = 'aws-bedrock-converse';
const FRONTIER_SECRET = 'gAAAAB-frontier-encrypted-reasoning';
const CONVERSE_SIGNATURE = 'converse-reasoning-signature';

const { emu, clouds } = await emulatorForFile({ clearFaults: true });

function message(role: 'user' | 'assistant', text: string): MessageItem {
  return createItem<MessageItem>({ type: 'message', role, content: [{ type: 'text', text }] });
}

/**
 * What a frontier turn and a Converse turn with reasoning leave in the store. The emulator's
 * model does not reason, so these are written to the store as the runtimes would have.
 */
function reasonedTurns(): Item[] {
  return [
    message('user', 'Think it over, please.'),
    createItem<ReasoningItem>({
      type: 'reasoning',
      summary: 'Weighed the request.',
      provider: {
        family: FRONTIER_FAMILY,
        data: {
          id: 'rs_frontier0001',
          summary: [{ type: 'summary_text', text: 'Weighed the request.' }],
          encrypted_content: FRONTIER_SECRET,
        },
      },
    }),
    message('assistant', 'I thought it over.'),
    message('user', 'Think again, on Bedrock.'),
    createItem<ReasoningItem>({
      type: 'reasoning',
      summary: 'Weighed it again.',
      provider: {
        family: CONVERSE_FAMILY,
        data: { reasoningText: { text: 'Weighed it again.', signature: CONVERSE_SIGNATURE } },
      },
    }),
    message('assistant', 'I thought it over again.'),
  ];
}

function firstBody(requests: { body: unknown }[]): any {
  return requests[0]!.body;
}

const system = { role: 'system', text: INSTRUCTIONS } as const;

/** A session with a first turn on azureChat, then the two reasoned turns written to the store. */
async function seededSession(session: string) {
  const store = memoryStore();
  const agent = createAgent({
    runtime: clouds.azureChat,
    store,
    tools: [weather],
    instructions: INSTRUCTIONS,
  });
  await turn(emu, agent, store, 'Hi, my name is Ada.', { session });
  const seeded = reasonedTurns();
  await store.append(keyOf(session), seeded, { expectedVersion: 2 });
  return { store, agent, seeded };
}

describe('reasoning moves only to its own provider family', () => {
  it('is dropped for azureChat, azureResponses and frontier’s reasoning for bedrockConverse, while every other item arrives', async () => {
    const session = 'reasoning-dropped';
    const { store, agent, seeded } = await seededSession(session);

    const chat = await turn(emu, agent, store, 'Use get_weather for Paris.', { session });
    const chatBody = firstBody(chat.requests);
    expect(entriesOfChat(chatBody)).toEqual([
      system,
      ...entriesOfItems([...chat.before, chat.result.items[0]!]),
    ]);
    expect(JSON.stringify(chatBody)).not.toMatch(/rs_frontier0001|gAAAAB|Weighed|converse-reasoning/);
    expect(chat.result.text).toContain('"city":"Paris"');

    // bedrockConverse gets its own family's reasoning block, never frontier's.
    const converse = await turn(emu, agent.withRuntime(clouds.bedrockConverse), store, 'What is my name?', {
      session,
    });
    const converseBody = firstBody(converse.requests);
    expect(entriesOfConverse(converseBody)).toEqual([
      system,
      ...entriesOfItems([...converse.before, converse.result.items[0]!], CONVERSE_FAMILY),
    ]);
    expect(JSON.stringify(converseBody)).not.toMatch(/rs_frontier0001|gAAAAB/);
    const replayedBlocks = converseBody.messages.flatMap((m: any) =>
      m.content.filter((b: any) => b.reasoningContent),
    );
    expect(replayedBlocks).toEqual([
      { reasoningContent: { reasoningText: { text: 'Weighed it again.', signature: CONVERSE_SIGNATURE } } },
    ]);
    expect(converse.result.text).toBe('Your name is Ada.');

    // azureResponses speaks frontier's protocol but is another family.
    const azure = await turn(emu, agent.withRuntime(clouds.azureResponses), store, 'What is my name?', {
      session,
    });
    const azureBody = firstBody(azure.requests);
    expect(entriesOfResponses(azureBody)).toEqual([
      system,
      ...entriesOfItems([...azure.before, azure.result.items[0]!]),
    ]);
    expect(JSON.stringify(azureBody)).not.toMatch(/rs_frontier0001|gAAAAB|converse-reasoning/);
    expect(azure.result.text).toBe('Your name is Ada.');

    // Dropped on the wire only: the store keeps both reasoning items.
    const stored = await itemsOf(store, session);
    expect(stored.filter((item) => item.type === 'reasoning')).toEqual(
      seeded.filter((item) => item.type === 'reasoning'),
    );
  });

  it('is replayed to frontier with a new binding and after a lost handle, never on a current or stale one', async () => {
    const session = 'reasoning-replayed';
    const { store, agent } = await seededSession(session);
    const onFrontier = agent.withRuntime(clouds.frontier);

    // New binding: the whole transcript with frontier's own reasoning, once, in place.
    const fresh = await turn(emu, onFrontier, store, 'What is my name?', { session });
    const freshBody = firstBody(fresh.requests);
    expect(freshBody).not.toHaveProperty('previous_response_id');
    expect(entriesOfResponses(freshBody)).toEqual([
      system,
      ...entriesOfItems([...fresh.before, fresh.result.items[0]!], FRONTIER_FAMILY),
    ]);
    expect(freshBody.input.filter((item: any) => item.type === 'reasoning')).toEqual([
      {
        type: 'reasoning',
        id: 'rs_frontier0001',
        summary: [{ type: 'summary_text', text: 'Weighed the request.' }],
        encrypted_content: FRONTIER_SECRET,
      },
    ]);
    expect(JSON.stringify(freshBody)).not.toContain(CONVERSE_SIGNATURE);
    expect(fresh.result.text).toBe('Your name is Ada.');

    // Binding current, then stale: the server already holds the reasoning; it is not sent again.
    const current = await turn(emu, onFrontier, store, 'Use get_weather for Oslo.', { session });
    await turn(emu, agent, store, 'Thanks.', { session });
    const stale = await turn(emu, onFrontier, store, 'What is my name?', { session });
    for (const request of [...current.requests, ...stale.requests]) {
      expect((request.body as any).previous_response_id).toMatch(/^resp_/);
      expect(JSON.stringify(request.body)).not.toMatch(/rs_frontier0001|gAAAAB/);
    }
    expect(stale.result.text).toBe('Your name is Ada.');

    // The handle is lost: the reseed replays it with the whole transcript.
    emu.faults.set({ route: 'responses', dropStored: true, count: 1 });
    const reseeded = await turn(emu, onFrontier, store, 'What is my name?', { session });
    expect(reseeded.events.map((event) => event.type)).toContain('session-reseeded');
    expect(reseeded.requests).toHaveLength(2);
    const [refused, whole] = reseeded.requests.map((request) => request.body as any);
    expect(JSON.stringify(refused)).not.toContain(FRONTIER_SECRET);
    expect(whole).not.toHaveProperty('previous_response_id');
    expect(entriesOfResponses(whole)).toEqual([
      system,
      ...entriesOfItems([...reseeded.before, reseeded.result.items[0]!], FRONTIER_FAMILY),
    ]);
    expect(whole.input.filter((item: any) => item.type === 'reasoning').map((item: any) => item.id)).toEqual([
      'rs_frontier0001',
    ]);
    expect(reseeded.result.text).toBe('Your name is Ada.');
    expect((await bindingOf(store, session, clouds.frontier))!.syncedVersion).toBe(
      reseeded.result.sessionVersion,
    );
  });
});
