import { describe, expect, it } from 'vitest';
import { estimateTokens, summaryMessage, textTokens } from '../../src/agent/context-policy.js';
import { createItem, type Item, type SummaryItem } from '../../src/core/items.js';
import {
  type AgentEvent,
  CloudhopError,
  createAgent,
  memoryStore,
  type SessionKey,
} from '../../src/index.js';
import { scriptedRuntime } from '../../src/testing/index.js';
import { rejection } from '../helpers/errors.js';
import {
  conversationItems,
  fakeStateful,
  ignoringStore,
  seedSession,
  spyStore,
} from '../helpers/long-session.js';

const key = (sessionId: string): SessionKey => ({ namespace: 'default', sessionId });

/** Every tool result sent has its call before it in the same request, and every call its result. */
function pairsIntact(items: Item[]): boolean {
  const calls = new Set<string>();
  const answered = new Set<string>();
  for (const item of items) {
    if (item.type === 'tool_call') calls.add(item.callId);
    if (item.type === 'tool_result') {
      if (!calls.has(item.callId)) return false;
      answered.add(item.callId);
    }
  }
  return [...calls].every((callId) => answered.has(callId));
}

const tokensOf = (items: Item[]) => items.reduce((sum, item) => sum + estimateTokens(item), 0);

describe('long sessions: the agent reads only what the step needs', () => {
  it('a stateful runtime with a current handle reads the head only and sends only the new input', async () => {
    const store = spyStore(memoryStore());
    const runtime = fakeStateful();
    const version = await seedSession(store, key('current'), conversationItems(2_000));
    await store.append(key('current'), [], {
      expectedVersion: version,
      binding: { runtimeId: runtime.id, remote: { responseId: 'resp_old' }, syncedVersion: version },
    });
    store.loads.length = 0;
    const agent = createAgent({ runtime, store });

    const result = await agent.run('And now?', { session: 'current' });

    expect(store.itemsRead()).toBe(0);
    expect(store.loads.map((load) => load.options)).toEqual([{ limit: 0 }]);
    const [request] = runtime.requests;
    expect(request!.remoteState).toEqual({ remote: { responseId: 'resp_old' }, syncedCount: 0 });
    expect(request!.items).toHaveLength(1);
    expect(request!.items[0]).toMatchObject({ role: 'user', content: [{ type: 'text', text: 'And now?' }] });
    expect(result.sessionVersion).toBe(version + 2);
  });

  it('a stale handle gets exactly the items after syncedVersion, read as one small window', async () => {
    const store = spyStore(memoryStore());
    const runtime = fakeStateful();
    const all = conversationItems(1_000);
    await seedSession(store, key('stale'), all);
    await store.append(key('stale'), [], {
      expectedVersion: all.length,
      binding: {
        runtimeId: runtime.id,
        remote: { responseId: 'resp_behind' },
        syncedVersion: all.length - 6,
      },
    });
    store.loads.length = 0;

    await createAgent({ runtime, store }).run('Go on', { session: 'stale' });

    const [request] = runtime.requests;
    expect(request!.remoteState?.remote.responseId).toBe('resp_behind');
    expect(request!.items.slice(0, 6)).toEqual(all.slice(-6));
    expect(request!.items).toHaveLength(7);
    expect(store.itemsRead()).toBeLessThanOrEqual(32);
  });

  it('a handle too far behind is rebased on the context view instead of sent the whole gap', async () => {
    const store = memoryStore();
    const runtime = fakeStateful();
    const all = conversationItems(1_000);
    await seedSession(store, key('behind'), all);
    await store.append(key('behind'), [], {
      expectedVersion: all.length,
      binding: { runtimeId: runtime.id, remote: { responseId: 'resp_ancient' }, syncedVersion: 10 },
    });

    await createAgent({ runtime, store, context: { maxInputTokens: 2_000 } }).run('Hello again', {
      session: 'behind',
    });

    const [request] = runtime.requests;
    expect(request!.remoteState).toBeUndefined();
    expect(tokensOf(request!.items)).toBeLessThanOrEqual(2_000);
    expect(request!.items.at(-2)).toEqual(all.at(-1));
    expect(pairsIntact(request!.items)).toBe(true);
  });

  it('a server-held context past the budget is rebased, and the new binding records its size', async () => {
    const store = memoryStore();
    const runtime = fakeStateful({ contextTokens: 900 });
    const all = conversationItems(200);
    await seedSession(store, key('grown'), all);
    await store.append(key('grown'), [], {
      expectedVersion: all.length,
      binding: {
        runtimeId: runtime.id,
        remote: { responseId: 'resp_big' },
        syncedVersion: all.length,
        contextTokens: 5_000,
      },
    });
    const agent = createAgent({ runtime, store, context: { maxInputTokens: 4_000 } });

    await agent.run('Next', { session: 'grown' });
    expect(runtime.requests[0]!.remoteState).toBeUndefined();
    expect(tokensOf(runtime.requests[0]!.items)).toBeLessThanOrEqual(4_000);
    const binding = (await store.load(key('grown'), { limit: 0 }))!.bindings[runtime.id]!;
    expect(binding).toEqual({
      runtimeId: runtime.id,
      remote: { responseId: 'resp_1' },
      syncedVersion: all.length + 2,
      contextTokens: 900,
    });

    await agent.run('And next', { session: 'grown' });
    expect(runtime.requests[1]!.remoteState?.remote.responseId).toBe('resp_1');
    expect(runtime.requests[1]!.items).toHaveLength(1);
  });

  it('the first turn of a 10,000-item session without a handle sends the context view, reading a few pages', async () => {
    const store = spyStore(memoryStore());
    const runtime = fakeStateful();
    const all = conversationItems(10_000);
    await seedSession(store, key('move'), all);
    store.loads.length = 0;

    await createAgent({ runtime, store, context: { maxInputTokens: 8_000 } }).run('Continue', {
      session: 'move',
    });

    const [request] = runtime.requests;
    expect(request!.remoteState).toBeUndefined();
    const sent = request!.items;
    // A new remote session is seeded with half the budget, so it can grow for many turns before
    // it is rebased; that half is filled.
    expect(tokensOf(sent)).toBeLessThanOrEqual(4_000);
    expect(tokensOf(sent)).toBeGreaterThan(4_000 - 2 * estimateTokens(all.at(-1)!));
    expect(sent.slice(0, -1)).toEqual(all.slice(all.length - (sent.length - 1)));
    expect(pairsIntact(sent)).toBe(true);
    expect(store.itemsRead()).toBeLessThan(4 * sent.length);
  });

  it('a stateful runtime past the budget is rebased once, then grows from the seed for many turns', async () => {
    const store = memoryStore();
    const instructions = 'Answer briefly and to the point. '.repeat(120);
    const runtime = fakeStateful({ countContext: true });
    const all = conversationItems(400);
    await seedSession(store, key('regrow'), all);
    const agent = createAgent({ runtime, store, instructions, context: { maxInputTokens: 4_000 } });
    for (let turn = 0; turn < 10; turn++) await agent.run(`Turn ${turn}`, { session: 'regrow' });
    const seeded = runtime.requests.filter((request) => request.remoteState === undefined);
    expect(seeded).toHaveLength(1);
    // The instructions count against the budget too.
    expect(tokensOf(seeded[0]!.items) + textTokens(instructions)).toBeLessThanOrEqual(2_000);
  });

  it('a stateless runtime gets the newest history within maxInputTokens, never a split tool pair', async () => {
    for (const budget of [600, 700, 800, 900, 1_000, 1_100]) {
      const store = spyStore(memoryStore());
      const all = conversationItems(3_000);
      await seedSession(store, key('stateless'), all);
      store.loads.length = 0;
      const runtime = scriptedRuntime(['fine']);

      await createAgent({ runtime, store, context: { maxInputTokens: budget } }).run('Hi', {
        session: 'stateless',
      });

      const sent = runtime.requests[0]!.items;
      expect(tokensOf(sent)).toBeLessThanOrEqual(budget);
      expect(sent[0]!.type).not.toBe('tool_result');
      expect(pairsIntact(sent)).toBe(true);
      expect(sent.slice(0, -1)).toEqual(all.slice(all.length - (sent.length - 1)));
      expect(store.itemsRead()).toBeLessThan(200);
    }
  });

  it("maxItems counts this turn's items and history together, as before", async () => {
    const store = memoryStore();
    const all = conversationItems(100);
    await seedSession(store, key('counted'), all);
    const runtime = scriptedRuntime(['fine']);
    await createAgent({ runtime, store, context: { maxItems: 9 } }).run('Hi', { session: 'counted' });
    const sent = runtime.requests[0]!.items;
    expect(sent.length).toBeLessThanOrEqual(9);
    expect(sent.length).toBeGreaterThanOrEqual(6);
    expect(pairsIntact(sent)).toBe(true);
  });

  it('a store that ignores load options gives the same requests and results, only reading more', async () => {
    const run = async (flavor: 'windowed' | 'ignoring' | 'from zero') => {
      const inner = memoryStore();
      const store =
        flavor === 'windowed' ? inner : ignoringStore(inner, { sayFromZero: flavor === 'from zero' });
      await seedSession(inner, key('ignored'), conversationItems(500));
      const stateless = scriptedRuntime((request) =>
        /summarize the conversation/i.test(request.instructions ?? '')
          ? 'Summary: five hundred items.'
          : 'answer',
      );
      const stateful = fakeStateful();
      const agent = createAgent({
        runtime: stateless,
        store,
        context: { maxInputTokens: 1_500, compaction: { triggerTokens: 1_200, keepRecentTokens: 300 } },
      });
      await agent.run('First', { session: 'ignored' });
      await agent.withRuntime(stateful).run('Second', { session: 'ignored' });
      await agent.withRuntime(stateful).run('Third', { session: 'ignored' });
      await agent.run('Fourth', { session: 'ignored' });
      const strip = (items: Item[]) =>
        items.map((item) => (item.type === 'message' ? item.content : item.type));
      return {
        stateless: stateless.requests.map((request) => strip(request.items)),
        stateful: stateful.requests.map((request) => [
          strip(request.items),
          request.remoteState?.syncedCount,
        ]),
        summaries: (await agent.session('ignored').items()).filter((item) => item.type === 'summary').length,
      };
    };
    const windowed = await run('windowed');
    expect(windowed.summaries).toBe(1);
    expect(await run('ignoring')).toEqual(windowed);
    expect(await run('from zero')).toEqual(windowed);
  });

  it('a reseed reads the context view only when the server says the handle is gone', async () => {
    const store = spyStore(memoryStore());
    const runtime = fakeStateful({ gone: ['resp_expired'] });
    const all = conversationItems(5_000, { 0: 'Hi, my name is Ada.' });
    await seedSession(store, key('reseed'), all);
    await store.append(key('reseed'), [], {
      expectedVersion: all.length,
      binding: { runtimeId: runtime.id, remote: { responseId: 'resp_expired' }, syncedVersion: all.length },
    });
    const events: AgentEvent[] = [];
    const stream = createAgent({ runtime, store, context: { maxInputTokens: 3_000 } }).stream(
      'Still there?',
      {
        session: 'reseed',
      },
    );
    for await (const event of stream) events.push(event);
    await stream.result;

    expect(events.map((event) => event.type)).toContain('session-reseeded');
    const [seed] = runtime.reseeds;
    expect(tokensOf(seed!)).toBeLessThanOrEqual(3_000);
    expect(seed!.at(-1)).toMatchObject({ role: 'user', content: [{ type: 'text', text: 'Still there?' }] });
    expect(seed!.at(-2)).toEqual(all.at(-1));
    expect(store.itemsRead()).toBeLessThan(4 * seed!.length);
  });

  it('the latest summary leads the view as a system message, and nothing it covers is sent', async () => {
    const store = memoryStore();
    const all = conversationItems(400, { 0: 'Hi, my name is Ada.' });
    await seedSession(store, key('summarized'), all.slice(0, 300));
    const summary = createItem<SummaryItem>({
      type: 'summary',
      text: 'The user said "my name is Ada".',
      covers: { fromVersion: 0, toVersion: 296 },
    });
    await store.append(key('summarized'), [summary, ...all.slice(300)], { expectedVersion: 300 });
    const runtime = scriptedRuntime(['ok']);

    await createAgent({ runtime, store }).run('What is my name?', { session: 'summarized' });

    const sent = runtime.requests[0]!.items;
    expect(sent[0]).toEqual(summaryMessage(summary));
    expect(sent[0]).toMatchObject({ role: 'system' });
    // History from the summary's end on, the summary item itself only as the leading message.
    expect(sent.slice(1, -1)).toEqual(all.slice(296));
    expect(sent.filter((item) => item.type === 'summary')).toEqual([]);
  });
});

describe('long sessions: a store that fails or answers half while a turn reads back', () => {
  /** Fails (or shortens) every load that reads items back, after the head has been read. */
  function faultyPages(fault: 'throw' | 'half') {
    const inner = memoryStore();
    let armed = false;
    const store = Object.assign(Object.create(inner) as typeof inner, {
      processLocal: true,
      async load(sessionKey: SessionKey, options?: { fromVersion?: number; limit?: number }) {
        const snapshot = await inner.load(sessionKey, options);
        if (!armed || !options?.limit) return snapshot;
        if (fault === 'throw') throw new Error('connection reset while reading a page');
        return (
          snapshot && { ...snapshot, items: snapshot.items.slice(0, Math.floor(snapshot.items.length / 2)) }
        );
      },
    });
    return { inner, store, arm: (on: boolean) => (armed = on) };
  }

  for (const [fault, code] of [
    ['throw', 'store_unavailable'],
    ['half', 'store_conflict'],
  ] as const) {
    it(`a page read that ${fault === 'throw' ? 'fails' : 'comes back short'} fails the turn with ${code}; nothing is committed, the next turn works`, async () => {
      const { inner, store, arm } = faultyPages(fault);
      await seedSession(inner, key('faulty'), conversationItems(300));
      const runtime = scriptedRuntime(['never sent', 'fine']);
      const agent = createAgent({ runtime, store, context: { maxInputTokens: 3_000 } });
      arm(true);
      const error = await rejection(agent.run('Hi', { session: 'faulty' }));
      expect(error.code).toBe(code);
      expect(runtime.requests).toHaveLength(0);
      expect((await inner.load(key('faulty'), { limit: 0 }))!.version).toBe(300);
      arm(false);
      expect((await agent.run('Hi again', { session: 'faulty' })).sessionVersion).toBe(302);
    });
  }
});

describe('long sessions: a model whose window is smaller than the budget', () => {
  const tooLong = () =>
    new CloudhopError('context_length_exceeded', 'This model maximum context length is 1500 tokens.', {
      retryable: false,
    });

  it('a stateless request the model refuses as too long is sent once more with half the budget', async () => {
    const store = memoryStore();
    await seedSession(store, key('small-window'), conversationItems(500));
    const runtime = scriptedRuntime((request) =>
      tokensOf(request.items) > 1_500 ? { error: tooLong() } : 'fits',
    );
    const stream = createAgent({ runtime, store, context: { maxInputTokens: 2_500 } }).stream('Hi', {
      session: 'small-window',
    });
    const events: AgentEvent[] = [];
    for await (const event of stream) events.push(event);
    const result = await stream.result;

    expect(result.text).toBe('fits');
    expect(events.filter((event) => event.type === 'retry')).toEqual([
      {
        type: 'retry',
        attempt: 1,
        delayMs: 0,
        error: expect.objectContaining({ code: 'context_length_exceeded' }),
      },
    ]);
    const [refused, accepted] = runtime.requests;
    expect(tokensOf(refused!.items)).toBeGreaterThan(1_500);
    expect(tokensOf(accepted!.items)).toBeLessThanOrEqual(1_250);
    expect(pairsIntact(accepted!.items)).toBe(true);
  });

  it('a server-held context the model refuses as too long is rebased on the context view', async () => {
    const store = memoryStore();
    const runtime = fakeStateful({ refuse: (request) => (request.remoteState ? tooLong() : undefined) });
    const all = conversationItems(300);
    await seedSession(store, key('server-too-long'), all);
    await store.append(key('server-too-long'), [], {
      expectedVersion: all.length,
      binding: { runtimeId: runtime.id, remote: { responseId: 'resp_huge' }, syncedVersion: all.length },
    });
    const result = await createAgent({ runtime, store, context: { maxInputTokens: 3_000 } }).run('Hi', {
      session: 'server-too-long',
    });
    expect(result.text).toBe('ok');
    expect(runtime.requests.map((request) => request.remoteState?.remote.responseId)).toEqual([
      'resp_huge',
      undefined,
    ]);
    expect(tokensOf(runtime.requests[1]!.items)).toBeLessThanOrEqual(3_000);
  });

  it('a context still too long after that fails the turn with context_length_exceeded; nothing is committed', async () => {
    const store = memoryStore();
    await seedSession(store, key('never-fits'), conversationItems(50));
    const runtime = scriptedRuntime(() => ({ error: tooLong() }));
    const error = await rejection(createAgent({ runtime, store }).run('Hi', { session: 'never-fits' }));
    expect(error.code).toBe('context_length_exceeded');
    expect(runtime.requests).toHaveLength(2);
    expect((await store.load(key('never-fits'), { limit: 0 }))!.version).toBe(50);
  });
});

describe('long sessions: paging through a session', () => {
  it('items({ limit }) gives the newest items, items({ fromVersion, limit }) a page, version() the count', async () => {
    const store = spyStore(memoryStore());
    const all = conversationItems(1_000);
    await seedSession(store, key('paged'), all);
    const session = createAgent({ runtime: scriptedRuntime([]), store }).session('paged');
    store.loads.length = 0;

    expect(await session.items({ limit: 50 })).toEqual(all.slice(-50));
    expect(await session.items({ fromVersion: 100, limit: 20 })).toEqual(all.slice(100, 120));
    expect(await session.items({ fromVersion: 990 })).toEqual(all.slice(990));
    expect(await session.items({ fromVersion: 1_000 })).toEqual([]);
    expect(await session.items({ fromVersion: 5_000, limit: 3 })).toEqual([]);
    expect(await session.version()).toBe(1_000);
    expect(store.itemsRead()).toBe(50 + 20 + 10);
    expect(await session.items()).toEqual(all);
    expect(
      await createAgent({ runtime: scriptedRuntime([]) })
        .session('never')
        .version(),
    ).toBe(0);
  });

  it('bad page options reject with invalid_config naming the option', async () => {
    const session = createAgent({ runtime: scriptedRuntime([]) }).session('x');
    for (const [options, name] of [
      [{ fromVersion: -1 }, 'fromVersion'],
      [{ fromVersion: 1.5 }, 'fromVersion'],
      [{ fromVersion: '3' }, 'fromVersion'],
      [{ limit: -2 }, 'limit'],
      [{ limit: Number.NaN }, 'limit'],
      [{ offset: 3 }, 'offset'],
    ] as const) {
      const error = await rejection(session.items(options as never));
      expect(error.code).toBe('invalid_config');
      expect(error.message).toContain(`"${name}"`);
    }
  });
});

describe('long sessions: idempotency keys in a long session', () => {
  it('a resubmitted turn is found among the newest items without reading the session', async () => {
    const store = spyStore(memoryStore());
    const runtime = scriptedRuntime(['first answer', 'should not run']);
    await seedSession(store, key('retry'), conversationItems(5_000));
    const agent = createAgent({ runtime, store });
    const first = await agent.run('Book it', { session: 'retry', idempotencyKey: 'turn-42' });
    store.loads.length = 0;

    const again = await agent.run('Book it', { session: 'retry', idempotencyKey: 'turn-42' });

    expect(again.text).toBe('first answer');
    expect(again.items).toEqual(first.items);
    expect(again.sessionVersion).toBe(first.sessionVersion);
    expect(runtime.requests).toHaveLength(1);
    expect(store.itemsRead()).toBeLessThanOrEqual(256);
  });
});
