import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/v4';
import { startEmulator } from '../../src/emulator/index.js';
import { type Agent, createAgent, memoryStore, type SessionStore, tool } from '../../src/index.js';
import {
  bindingOf,
  cloudsOn,
  conversationItems,
  emulatorForFile,
  entriesOfItems,
  entriesOfResponses,
  INSTRUCTIONS,
  itemsOf,
  outputText,
  storedResponse,
  turn,
  weather,
} from './helpers.js';

const { emu, clouds } = await emulatorForFile({ clearFaults: true });

function agentOn(store: SessionStore): Agent {
  return createAgent({ runtime: clouds.azureChat, store, tools: [weather], instructions: INSTRUCTIONS });
}

const system = { role: 'system', text: INSTRUCTIONS } as const;

function bodies(requests: { route: string; body: unknown }[], route = 'responses'): any[] {
  return requests.filter((request) => request.route === route).map((request) => request.body);
}

describe('frontier bindings through the agent', () => {
  it('sends the whole transcript for a missing binding, the new input for a current one, the delta for a stale one', async () => {
    const store = memoryStore();
    const agent = agentOn(store);
    const onFrontier = agent.withRuntime(clouds.frontier);
    const session = 'binding-lifecycle';
    await turn(emu, agent, store, 'Hi, my name is Ada.', { session });
    await turn(emu, agent, store, 'Use get_weather for Paris.', { session });

    // Missing binding: the whole transcript, no handle.
    const first = await turn(emu, onFrontier, store, 'What is my name?', { session });
    expect(first.result.text).toBe('Your name is Ada.');
    const [seed] = bodies(first.requests);
    expect(first.requests).toHaveLength(1);
    expect(seed).not.toHaveProperty('previous_response_id');
    expect(seed.store).toBe(true);
    expect(entriesOfResponses(seed)).toEqual([
      system,
      ...entriesOfItems([...first.before, first.result.items[0]!]),
    ]);
    const afterFirst = await bindingOf(store, session, clouds.frontier);
    expect(afterFirst).toEqual({
      runtimeId: clouds.frontier.id,
      remote: { responseId: expect.stringMatching(/^resp_/) },
      syncedVersion: first.result.sessionVersion,
      contextTokens: expect.any(Number),
    });
    const firstStored = await storedResponse(emu, afterFirst!.remote.responseId!);
    expect(outputText(firstStored.body)).toBe(first.result.text);

    // Current binding, two steps: the new user message, then only the tool result.
    const second = await turn(emu, onFrontier, store, 'Use get_weather for Oslo.', { session });
    const [ask, answer] = bodies(second.requests);
    expect(second.requests).toHaveLength(2);
    expect(ask.previous_response_id).toBe(afterFirst!.remote.responseId);
    expect(entriesOfResponses(ask)).toEqual([system, { role: 'user', text: 'Use get_weather for Oslo.' }]);
    const call = second.result.items.find((item) => item.type === 'tool_call')!;
    expect(answer.previous_response_id).toMatch(/^resp_/);
    expect(answer.previous_response_id).not.toBe(afterFirst!.remote.responseId);
    expect(answer.input).toEqual([
      {
        type: 'function_call_output',
        call_id: call.type === 'tool_call' ? call.callId : '',
        output: '{"city":"Oslo","tempC":21,"sky":"clear"}',
      },
    ]);
    const afterSecond = await bindingOf(store, session, clouds.frontier);
    expect(afterSecond!.syncedVersion).toBe(second.result.sessionVersion);
    expect(afterSecond!.remote.responseId).not.toBe(answer.previous_response_id);
    expect(outputText((await storedResponse(emu, afterSecond!.remote.responseId!)).body)).toBe(
      second.result.text,
    );

    // Two turns elsewhere leave the frontier binding as it was, now stale.
    await turn(emu, agent, store, 'Actually, my name is Grace.', { session });
    await turn(emu, agent, store, 'Use get_weather for Lima.', { session });
    expect(await bindingOf(store, session, clouds.frontier)).toEqual(afterSecond);

    // Stale binding: exactly the items after syncedVersion, on the old handle.
    const third = await turn(emu, onFrontier, store, 'What is my name?', { session });
    const [delta] = bodies(third.requests);
    expect(third.requests).toHaveLength(1);
    expect(delta.previous_response_id).toBe(afterSecond!.remote.responseId);
    const unseen = third.before.slice(afterSecond!.syncedVersion);
    expect(unseen).toHaveLength(6);
    expect(entriesOfResponses(delta)).toEqual([
      system,
      ...entriesOfItems([...unseen, third.result.items[0]!]),
    ]);
    // The server knew only "Ada"; "Grace" came with the delta.
    expect(third.result.text).toBe('Your name is Grace.');
    const afterThird = await bindingOf(store, session, clouds.frontier);
    expect(afterThird!.syncedVersion).toBe(third.result.sessionVersion);
    expect(afterThird!.syncedVersion).toBe((await itemsOf(store, session)).length);
    expect(outputText((await storedResponse(emu, afterThird!.remote.responseId!)).body)).toBe(
      'Your name is Grace.',
    );
    expect([...first.events, ...second.events, ...third.events].map((event) => event.type)).not.toContain(
      'session-reseeded',
    );
  });

  it('reseeds from the local transcript when the server dropped its responses, without an error', async () => {
    const store = memoryStore();
    const onFrontier = agentOn(store).withRuntime(clouds.frontier);
    const session = 'dropped-handle';
    await turn(emu, onFrontier, store, 'Hi, my name is Ada.', { session });
    await turn(emu, onFrontier, store, 'Use get_weather for Paris.', { session });
    const lost = await bindingOf(store, session, clouds.frontier);

    emu.faults.set({ route: 'responses', dropStored: true, count: 1 });
    const reseeded = await turn(emu, onFrontier, store, 'What is my name?', { session });

    expect(reseeded.result.text).toBe('Your name is Ada.');
    const notices = reseeded.events.filter((event) => event.type === 'session-reseeded');
    expect(notices).toEqual([
      {
        type: 'session-reseeded',
        runtimeId: clouds.frontier.id,
        reason: expect.stringContaining('previous_response_not_found'),
      },
    ]);
    const [refused, whole] = bodies(reseeded.requests);
    expect(reseeded.requests).toHaveLength(2);
    expect(refused.previous_response_id).toBe(lost!.remote.responseId);
    expect(entriesOfResponses(refused)).toEqual([system, { role: 'user', text: 'What is my name?' }]);
    expect(whole).not.toHaveProperty('previous_response_id');
    expect(entriesOfResponses(whole)).toEqual([
      system,
      ...entriesOfItems([...reseeded.before, reseeded.result.items[0]!]),
    ]);
    const fresh = await bindingOf(store, session, clouds.frontier);
    expect(fresh!.syncedVersion).toBe(reseeded.result.sessionVersion);
    expect(fresh!.remote.responseId).not.toBe(lost!.remote.responseId);

    // The new remote session holds everything: the next turn is a plain delta on the new handle.
    const next = await turn(emu, onFrontier, store, 'What is my name?', { session });
    expect(next.result.text).toBe('Your name is Ada.');
    expect(bodies(next.requests)[0].previous_response_id).toBe(fresh!.remote.responseId);
    expect(next.events.map((event) => event.type)).not.toContain('session-reseeded');
  });

  it('reseeds a stale binding whose responses expired on the server', async () => {
    const expiring = await startEmulator({ expireAfterMs: 200 });
    try {
      const on = cloudsOn(expiring);
      const store = memoryStore();
      const agent = createAgent({
        runtime: on.azureChat,
        store,
        tools: [weather],
        instructions: INSTRUCTIONS,
      });
      const session = 'expired-handle';
      await turn(expiring, agent.withRuntime(on.frontier), store, 'Hi, my name is Ada.', { session });
      await turn(expiring, agent, store, 'Use get_weather for Paris.', { session });
      const old = await bindingOf(store, session, on.frontier);
      await sleep(300);

      const back = await turn(expiring, agent.withRuntime(on.frontier), store, 'What is my name?', {
        session,
      });

      expect(back.result.text).toBe('Your name is Ada.');
      expect(back.events.filter((event) => event.type === 'session-reseeded')).toEqual([
        expect.objectContaining({ runtimeId: on.frontier.id }),
      ]);
      const [refused, whole] = bodies(back.requests);
      expect(back.requests).toHaveLength(2);
      // First the delta on the expired handle, then the whole transcript on a new one.
      expect(refused.previous_response_id).toBe(old!.remote.responseId);
      expect(entriesOfResponses(refused)).toEqual([
        system,
        ...entriesOfItems([...back.before.slice(old!.syncedVersion), back.result.items[0]!]),
      ]);
      expect(whole).not.toHaveProperty('previous_response_id');
      expect(entriesOfResponses(whole)).toEqual([
        system,
        ...entriesOfItems([...back.before, back.result.items[0]!]),
      ]);
      expect(await bindingOf(store, session, on.frontier)).toEqual({
        runtimeId: on.frontier.id,
        remote: { responseId: expect.stringMatching(/^resp_/) },
        syncedVersion: back.result.sessionVersion,
        contextTokens: expect.any(Number),
      });
    } finally {
      await expiring.close();
    }
  });
});

describe('conversation mode through the agent', () => {
  it('binds to one conversation, sends only new input, and after a move away sends the delta to it', async () => {
    const store = memoryStore();
    const agent = agentOn(store);
    const onConversation = agent.withRuntime(clouds.frontierConversation);
    const session = 'conversation-mode';

    const first = await turn(emu, onConversation, store, 'Hi, my name is Ada.', { session });
    expect(first.requests.map((request) => request.route)).toEqual(['conversations', 'responses']);
    const [opening] = bodies(first.requests);
    expect(opening.conversation).toMatch(/^conv_/);
    expect(opening).not.toHaveProperty('previous_response_id');
    expect(entriesOfResponses(opening)).toEqual([system, { role: 'user', text: 'Hi, my name is Ada.' }]);
    const conversationId: string = opening.conversation;
    expect(await bindingOf(store, session, clouds.frontierConversation)).toEqual({
      runtimeId: clouds.frontierConversation.id,
      remote: { conversationId, responseId: expect.stringMatching(/^resp_/) },
      syncedVersion: 2,
      contextTokens: expect.any(Number),
    });

    const second = await turn(emu, onConversation, store, 'Use get_weather for Paris.', { session });
    expect(second.requests.map((request) => request.route)).toEqual(['responses', 'responses']);
    const [ask, answer] = bodies(second.requests);
    for (const body of [ask, answer]) {
      expect(body.conversation).toBe(conversationId);
      expect(body).not.toHaveProperty('previous_response_id');
    }
    expect(entriesOfResponses(ask)).toEqual([system, { role: 'user', text: 'Use get_weather for Paris.' }]);
    expect(answer.input.map((item: any) => item.type)).toEqual(['function_call_output']);

    // Away on azureChat, where the name changes; then back.
    await turn(emu, agent, store, 'Actually, my name is Grace.', { session });
    const stale = await bindingOf(store, session, clouds.frontierConversation);
    expect(stale!.syncedVersion).toBe(second.result.sessionVersion);

    const back = await turn(emu, onConversation, store, 'What is my name?', { session });
    expect(back.result.text).toBe('Your name is Grace.');
    expect(back.requests.map((request) => request.route)).toEqual(['responses']);
    const [delta] = bodies(back.requests);
    expect(delta.conversation).toBe(conversationId);
    expect(entriesOfResponses(delta)).toEqual([
      system,
      ...entriesOfItems([...back.before.slice(stale!.syncedVersion), back.result.items[0]!]),
    ]);
    expect(await bindingOf(store, session, clouds.frontierConversation)).toEqual({
      runtimeId: clouds.frontierConversation.id,
      remote: { conversationId, responseId: expect.stringMatching(/^resp_/) },
      syncedVersion: back.result.sessionVersion,
      contextTokens: expect.any(Number),
    });

    // The server-held conversation now matches the local transcript item for item.
    const held = await conversationItems(emu, conversationId);
    const local = await itemsOf(store, session);
    expect(entriesOfResponses({ input: held })).toEqual(entriesOfItems(local));
  });

  it('reseeds a conversation the server no longer has into a new one', async () => {
    const store = memoryStore();
    const onConversation = agentOn(store).withRuntime(clouds.frontierConversation);
    const session = 'conversation-gone';
    await turn(emu, onConversation, store, 'Hi, my name is Ada.', { session });
    const lost = await bindingOf(store, session, clouds.frontierConversation);

    emu.faults.set({ route: 'responses', dropStored: true, count: 1 });
    const reseeded = await turn(emu, onConversation, store, 'What is my name?', { session });

    expect(reseeded.result.text).toBe('Your name is Ada.');
    expect(reseeded.events.filter((event) => event.type === 'session-reseeded')).toEqual([
      expect.objectContaining({ runtimeId: clouds.frontierConversation.id }),
    ]);
    expect(reseeded.requests.map((request) => request.route)).toEqual([
      'responses',
      'conversations',
      'responses',
    ]);
    const [refused, whole] = bodies(reseeded.requests);
    expect(refused.conversation).toBe(lost!.remote.conversationId);
    expect(whole.conversation).toMatch(/^conv_/);
    expect(whole.conversation).not.toBe(lost!.remote.conversationId);
    expect(entriesOfResponses(whole)).toEqual([
      system,
      ...entriesOfItems([...reseeded.before, reseeded.result.items[0]!]),
    ]);
    expect((await bindingOf(store, session, clouds.frontierConversation))!.remote.conversationId).toBe(
      whole.conversation,
    );
  });
});

/** A weather tool that cancels the turn while it runs, after the model's tool call reached the server. */
function cancellingWeather(controller: AbortController) {
  return tool({
    name: 'get_weather',
    description: 'Current weather for a city',
    input: z.object({ city: z.string() }),
    execute: async ({ city }) => {
      controller.abort();
      return { city, tempC: 21, sky: 'clear' };
    },
  });
}

describe('a cancelled turn leaves no trace in the remote session', () => {
  it('previous-response mode: the next turn chains from the last committed response', async () => {
    const controller = new AbortController();
    const store = memoryStore();
    const agent = createAgent({
      runtime: clouds.frontier,
      store,
      tools: [cancellingWeather(controller)],
      instructions: INSTRUCTIONS,
    });
    const session = 'cancelled-chain';
    await turn(emu, agent, store, 'Hi, my name is Ada.', { session });
    const committed = await bindingOf(store, session, clouds.frontier);

    const cancelled = agent.run('Use get_weather for Oslo.', { session, signal: controller.signal });
    await expect(cancelled).rejects.toMatchObject({ code: 'aborted' });
    expect(await itemsOf(store, session)).toHaveLength(2);
    expect(await bindingOf(store, session, clouds.frontier)).toEqual(committed);

    const next = await turn(emu, agent, store, 'What is my name?', { session });
    expect(next.result.text).toBe('Your name is Ada.');
    expect(bodies(next.requests)[0].previous_response_id).toBe(committed!.remote.responseId);
  });

  it('conversation mode: the server-held conversation still matches the local transcript after a cancelled turn', async () => {
    const controller = new AbortController();
    const store = memoryStore();
    const agent = createAgent({
      runtime: clouds.frontierConversation,
      store,
      tools: [cancellingWeather(controller)],
      instructions: INSTRUCTIONS,
    });
    const session = 'cancelled-conversation';
    await turn(emu, agent, store, 'Hi, my name is Ada.', { session });
    const cancelled = agent.run('Use get_weather for Oslo.', { session, signal: controller.signal });
    await expect(cancelled).rejects.toMatchObject({ code: 'aborted' });
    expect(await itemsOf(store, session)).toHaveLength(2);

    const next = await turn(emu, agent, store, 'What is my name?', { session });
    expect(next.result.text).toBe('Your name is Ada.');
    const binding = await bindingOf(store, session, clouds.frontierConversation);
    const held = await conversationItems(emu, binding!.remote.conversationId!);
    // The cancelled turn's user message and its unanswered function_call must not stay in the
    // conversation the model reads (the Responses API rejects a function_call without output).
    expect(entriesOfResponses({ input: held })).toEqual(entriesOfItems(await itemsOf(store, session)));
  });
});
