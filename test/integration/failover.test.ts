import { describe, expect, it } from 'vitest';
import * as z from 'zod/v4';
import { createAgent, failover, memoryStore, tool } from '../../src/index.js';
import {
  bindingOf,
  emulatorForFile,
  entriesOfChat,
  entriesOfItems,
  entriesOfResponses,
  INSTRUCTIONS,
  itemsOf,
  turn,
  weather,
} from './helpers.js';

const { emu, clouds } = await emulatorForFile({ clearFaults: true });

const system = { role: 'system', text: INSTRUCTIONS } as const;

describe('failover([azureChat, frontier, bedrockConverse]) across clouds', () => {
  it('moves a turn to frontier while Azure fails, returns to Azure with the whole context, and back to frontier with a delta', async () => {
    const resilient = failover([clouds.azureChat, clouds.frontier, clouds.bedrockConverse]);
    const store = memoryStore();
    const agent = createAgent({
      runtime: resilient,
      store,
      tools: [weather],
      instructions: INSTRUCTIONS,
      retry: { maxRetries: 1, initialDelayMs: 1, maxDelayMs: 5 },
    });
    const session = 'resilient';

    const hello = await turn(emu, agent, store, 'Hi, my name is Ada.', { session });
    const paris = await turn(emu, agent, store, 'Use get_weather for Paris.', { session });
    expect([hello.result.runtimeId, paris.result.runtimeId]).toEqual([
      clouds.azureChat.id,
      clouds.azureChat.id,
    ]);

    // Azure answers 503: after its retry, the turn moves to frontier with a fresh binding.
    emu.faults.set({ route: 'chat', status: 503 });
    const during = await turn(emu, agent, store, 'What is my name?', { session });
    expect(during.result.runtimeId).toBe(clouds.frontier.id);
    expect(during.result.text).toBe('Your name is Ada.');
    expect(during.events.filter((event) => event.type === 'failover')).toEqual([
      expect.objectContaining({ from: clouds.azureChat.id, to: clouds.frontier.id }),
    ]);
    expect(during.events.filter((event) => event.type === 'retry')).toHaveLength(1);
    expect(during.requests.map((request) => request.route)).toEqual(['chat', 'chat', 'responses']);
    const seed = during.requests[2]!.body as any;
    expect(seed).not.toHaveProperty('previous_response_id');
    expect(entriesOfResponses(seed)).toEqual([
      system,
      ...entriesOfItems([...during.before, during.result.items[0]!]),
    ]);
    const frontierBinding = await bindingOf(store, session, clouds.frontier);
    expect(frontierBinding).toEqual({
      runtimeId: clouds.frontier.id,
      remote: { responseId: expect.stringMatching(/^resp_/) },
      syncedVersion: during.result.sessionVersion,
      contextTokens: expect.any(Number),
    });

    // Azure recovers: the next turns are Azure's again, with everything frontier added.
    emu.faults.clear();
    const recovered = await turn(emu, agent, store, 'Actually, my name is Grace.', { session });
    const asked = await turn(emu, agent, store, 'What is my name?', { session });
    for (const back of [recovered, asked]) {
      expect(back.result.runtimeId).toBe(clouds.azureChat.id);
      expect(back.requests.map((request) => request.route)).toEqual(['chat']);
      expect(entriesOfChat(back.requests[0]!.body)).toEqual([
        system,
        ...entriesOfItems([...back.before, back.result.items[0]!]),
      ]);
      expect(back.events.map((event) => event.type)).not.toContain('failover');
    }
    expect(asked.result.text).toBe('Your name is Grace.');
    expect(await bindingOf(store, session, clouds.frontier)).toEqual(frontierBinding);

    // Azure fails again: frontier resumes its own remote session with only what it missed.
    emu.faults.set({ route: 'chat', status: 503 });
    const again = await turn(emu, agent, store, 'What is my name?', { session });
    expect(again.result.runtimeId).toBe(clouds.frontier.id);
    expect(again.result.text).toBe('Your name is Grace.');
    expect(again.requests.map((request) => request.route)).toEqual(['chat', 'chat', 'responses']);
    const delta = again.requests[2]!.body as any;
    expect(delta.previous_response_id).toBe(frontierBinding!.remote.responseId);
    const missed = again.before.slice(frontierBinding!.syncedVersion);
    expect(missed).toHaveLength(4);
    expect(entriesOfResponses(delta)).toEqual([
      system,
      ...entriesOfItems([...missed, again.result.items[0]!]),
    ]);
    expect((await bindingOf(store, session, clouds.frontier))!.syncedVersion).toBe(
      again.result.sessionVersion,
    );

    const stored = await itemsOf(store, session);
    expect(stored).toEqual([hello, paris, during, recovered, asked, again].flatMap((t) => t.result.items));
  });

  it('finishes a turn on frontier when Azure fails between the tool call and the answer', async () => {
    // The tool runs between the two model steps: it is where the Azure outage starts.
    const outageStartingTool = tool({
      name: 'get_weather',
      description: 'Current weather for a city',
      input: z.object({ city: z.string() }),
      execute: async ({ city }) => {
        emu.faults.set({ route: 'chat', status: 503 });
        return { city, tempC: 21, sky: 'clear' };
      },
    });
    const store = memoryStore();
    const agent = createAgent({
      runtime: failover([clouds.azureChat, clouds.frontier, clouds.bedrockConverse]),
      store,
      tools: [outageStartingTool],
      instructions: INSTRUCTIONS,
      retry: { maxRetries: 0 },
    });
    const session = 'outage-mid-turn';
    await turn(emu, agent, store, 'Hi, my name is Ada.', { session });

    const split = await turn(emu, agent, store, 'Use get_weather for Paris.', { session });

    expect(split.result.runtimeId).toBe(clouds.frontier.id);
    expect(split.result.text).toBe(
      'The get_weather tool returned: {"city":"Paris","tempC":21,"sky":"clear"}',
    );
    expect(split.requests.map((request) => request.route)).toEqual(['chat', 'chat', 'responses']);
    // frontier never saw this session: it gets all of it, the Azure tool call and its result included.
    const handedOver = split.requests[2]!.body as any;
    expect(handedOver).not.toHaveProperty('previous_response_id');
    const [, call, result] = split.result.items;
    expect(entriesOfResponses(handedOver)).toEqual([
      system,
      ...entriesOfItems([...split.before, ...split.result.items.slice(0, 3)]),
    ]);
    expect(call).toMatchObject({ type: 'tool_call', callId: expect.stringMatching(/^call_/) });
    expect(result).toMatchObject({ type: 'tool_result', callId: (call as { callId: string }).callId });
    expect(await bindingOf(store, session, clouds.frontier)).toEqual({
      runtimeId: clouds.frontier.id,
      remote: { responseId: expect.stringMatching(/^resp_/) },
      syncedVersion: split.result.sessionVersion,
      contextTokens: expect.any(Number),
    });
    expect(await itemsOf(store, session)).toHaveLength(split.result.sessionVersion);
  });
});
