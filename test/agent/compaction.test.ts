import { describe, expect, it } from 'vitest';
import { estimateTokens } from '../../src/agent/context-policy.js';
import { textOf } from '../../src/core/items.js';
import {
  type AgentEvent,
  CloudhopError,
  createAgent,
  type Item,
  memoryStore,
  type SessionKey,
  type StepRequest,
} from '../../src/index.js';
import { scriptedRuntime } from '../../src/testing/index.js';
import { conversationItems, fakeStateful, seedSession, spyStore } from '../helpers/long-session.js';

const key = (sessionId: string): SessionKey => ({ namespace: 'default', sessionId });
const isSummaryRequest = (request: StepRequest) =>
  /summarize the conversation/i.test(request.instructions ?? '');
const promptOf = (request: StepRequest) => {
  const [prompt] = request.items;
  return prompt?.type === 'message' ? textOf(prompt) : '';
};

/** A model that answers "ok" and summarizes by listing how many lines it read, keeping any name. */
function summarizingModel(options: { failSummaries?: boolean; summary?: (prompt: string) => string } = {}) {
  return scriptedRuntime((request) => {
    if (!isSummaryRequest(request)) return 'ok';
    if (options.failSummaries) {
      return { error: new CloudhopError('provider_unavailable', 'summarizer down', { retryable: false }) };
    }
    const prompt = promptOf(request);
    if (options.summary) return options.summary(prompt);
    const name = [...prompt.matchAll(/my name is (\w+)/g)].at(-1)?.[1];
    return `Summary${name ? ` (my name is ${name})` : ''}: ${prompt.split('\n').length} lines.`;
  });
}

async function collect(stream: AsyncIterable<AgentEvent> & { result: Promise<unknown> }) {
  const events: AgentEvent[] = [];
  for await (const event of stream) events.push(event);
  await stream.result;
  return events;
}

const tokensOf = (items: Item[]) => items.reduce((sum, item) => sum + estimateTokens(item), 0);

describe('portable compaction', () => {
  it('summarizes the oldest part once the context passes triggerTokens and commits the summary first', async () => {
    const store = memoryStore();
    const all = conversationItems(200, { 0: 'Hi, my name is Ada.' });
    await seedSession(store, key('compact'), all);
    const runtime = summarizingModel();
    const agent = createAgent({
      runtime,
      store,
      context: { maxInputTokens: 8_000, compaction: { triggerTokens: 4_000, keepRecentTokens: 1_000 } },
    });

    const stream = agent.stream('What is my name?', { session: 'compact' });
    const events = await collect(stream);
    const result = await stream.result;

    const summary = result.items[0]!;
    expect(summary).toMatchObject({ type: 'summary', covers: { fromVersion: 0 }, runtimeId: runtime.id });
    if (summary.type !== 'summary') throw new Error('no summary');
    expect(summary.text).toContain('my name is Ada');
    const cut = summary.covers.toVersion;
    // What is kept word for word fits keepRecentTokens and starts at a user message, not mid-pair.
    expect(tokensOf(all.slice(cut))).toBeLessThanOrEqual(1_000);
    expect(all[cut]!.type).not.toBe('tool_result');
    expect(events.find((event) => event.type === 'compacted')).toEqual({
      type: 'compacted',
      fromVersion: 0,
      toVersion: cut,
      runtimeId: runtime.id,
    });
    expect(result.items[1]).toMatchObject({
      role: 'user',
      content: [{ type: 'text', text: 'What is my name?' }],
    });

    // The model's request: the summary as a system message, then only what it does not cover.
    const answer = runtime.requests.find((request) => !isSummaryRequest(request))!;
    expect(answer.items[0]).toMatchObject({ role: 'system' });
    expect(textOf(answer.items[0] as never)).toContain('my name is Ada');
    expect(answer.items.slice(1, -1)).toEqual(all.slice(cut));

    // Committed with the turn; the log is append-only, so every covered item is still there.
    const stored = await agent.session('compact').items();
    expect(stored.slice(0, all.length)).toEqual(all);
    expect(stored[all.length]).toEqual(summary);
    expect((await store.load(key('compact'), { limit: 0 }))!.summary).toEqual(summary);
    expect(result.sessionVersion).toBe(all.length + result.items.length);
  });

  it('the next turns use the summary without summarizing again until the trigger is passed again', async () => {
    const store = memoryStore();
    await seedSession(store, key('again'), conversationItems(200, { 0: 'my name is Ada' }));
    const runtime = summarizingModel();
    const agent = createAgent({
      runtime,
      store,
      context: { compaction: { triggerTokens: 4_000, keepRecentTokens: 1_000 } },
    });
    const summaries = () => runtime.requests.filter(isSummaryRequest).length;
    await agent.run('one', { session: 'again' });
    expect(summaries()).toBe(1);
    await agent.run('two', { session: 'again' });
    expect(summaries()).toBe(1);

    // Grow the session past the trigger again: the new summary folds the previous one in.
    await seedSession(store, key('again'), conversationItems(60, { 1: 'my name is Grace' }));
    const third = await agent.run('three', { session: 'again' });
    expect(summaries()).toBe(2);
    const prompt = promptOf(runtime.requests.filter(isSummaryRequest)[1]!);
    expect(prompt).toMatch(/^Previous summary:\nSummary \(my name is Ada\)/);
    const second = third.items[0]!;
    expect(second).toMatchObject({ type: 'summary', covers: { fromVersion: 0 } });
    if (second.type === 'summary') expect(second.text).toContain('my name is Grace');
  });

  it('a session that never had a summary is summarized in chunks, each folding in the one before', async () => {
    const store = spyStore(memoryStore());
    await seedSession(store, key('catch-up'), conversationItems(3_000, { 0: 'my name is Ada' }));
    store.loads.length = 0;
    const runtime = summarizingModel();
    const agent = createAgent({
      runtime,
      store,
      context: { maxInputTokens: 6_000, compaction: { triggerTokens: 3_000, keepRecentTokens: 500 } },
    });

    const result = await agent.run('What is my name?', { session: 'catch-up' });

    const chunks = runtime.requests.filter(isSummaryRequest);
    expect(chunks.length).toBeGreaterThan(10);
    // Every summarizer request fits maxInputTokens, instructions included.
    for (const chunk of chunks) {
      expect(Math.ceil((promptOf(chunk).length + chunk.instructions!.length) / 4)).toBeLessThanOrEqual(6_000);
    }
    for (const chunk of chunks.slice(1))
      expect(promptOf(chunk)).toMatch(/^Previous summary:\nSummary \(my name is Ada\)/);
    expect(result.items[0]).toMatchObject({ type: 'summary', covers: { fromVersion: 0 } });
    // Read once, page by page: about the session's length, not once per chunk.
    expect(store.itemsRead()).toBeLessThan(3_000 * 1.2);
  });

  it('a summarizer that fails leaves the turn uncompacted, with a compaction-failed event, never a lost turn', async () => {
    const store = memoryStore();
    const all = conversationItems(200);
    await seedSession(store, key('failing'), all);
    const agent = createAgent({
      runtime: summarizingModel({ failSummaries: true }),
      store,
      retry: { maxRetries: 0 },
      context: { maxInputTokens: 3_000, compaction: { triggerTokens: 2_000, keepRecentTokens: 500 } },
    });

    const stream = agent.stream('Hello?', { session: 'failing' });
    const events = await collect(stream);
    const result = await stream.result;

    expect(result.text).toBe('ok');
    const failed = events.find((event) => event.type === 'compaction-failed');
    expect(failed).toMatchObject({ error: { code: 'provider_unavailable' } });
    expect(events.map((event) => event.type)).not.toContain('compacted');
    expect(result.items.map((item) => item.type)).toEqual(['message', 'message']);
    expect((await store.load(key('failing'), { limit: 0 }))!.summary).toBeUndefined();
  });

  it('after a failed compaction the summarizer is not asked again until the session has grown', async () => {
    const store = memoryStore();
    await seedSession(store, key('backoff'), conversationItems(200));
    const runtime = summarizingModel({ failSummaries: true });
    const agent = createAgent({
      runtime,
      store,
      retry: { maxRetries: 0 },
      context: { compaction: { triggerTokens: 2_000, keepRecentTokens: 500 } },
    });
    const summaryRequests = () => runtime.requests.filter(isSummaryRequest).length;
    for (const input of ['one', 'two', 'three']) await agent.run(input, { session: 'backoff' });
    expect(summaryRequests()).toBe(1);
    await seedSession(store, key('backoff'), conversationItems(20));
    await agent.run('four', { session: 'backoff' });
    expect(summaryRequests()).toBe(2);
  });

  it('a resubmitted turn that compacted returns its summary too, and nothing of the next turn', async () => {
    const store = memoryStore();
    await seedSession(store, key('replay'), conversationItems(200));
    const runtime = summarizingModel();
    const agent = createAgent({
      runtime,
      store,
      context: { compaction: { triggerTokens: 2_000, keepRecentTokens: 500 } },
    });
    const first = await agent.run('Book it', { session: 'replay', idempotencyKey: 'book-1' });
    expect(first.items[0]!.type).toBe('summary');
    // The next turn starts with a summary of its own.
    const version = first.sessionVersion;
    const next = conversationItems(2).map((item) => ({ ...item, id: `next-${item.id}` }));
    await store.append(key('replay'), [{ ...first.items[0]!, id: 'next-summary' } as Item, ...next], {
      expectedVersion: version,
    });
    const requests = runtime.requests.length;

    const again = await agent.run('Book it', { session: 'replay', idempotencyKey: 'book-1' });

    expect(runtime.requests).toHaveLength(requests);
    expect(again.items).toEqual(first.items);
    expect(again.sessionVersion).toBe(version);
  });

  it('an empty or over-budget summary is not committed', async () => {
    for (const summary of ['   ', 'x'.repeat(4 * 2_000)]) {
      const store = memoryStore();
      await seedSession(store, key('bad-summary'), conversationItems(200));
      const stream = createAgent({
        runtime: summarizingModel({ summary: () => summary }),
        store,
        context: { compaction: { triggerTokens: 2_000, keepRecentTokens: 500 } },
      }).stream('Hi', { session: 'bad-summary' });
      const events = await collect(stream);
      const result = await stream.result;
      expect(events.find((event) => event.type === 'compaction-failed')).toBeDefined();
      expect(result.items.some((item) => item.type === 'summary')).toBe(false);
      expect((await store.load(key('bad-summary'), { limit: 0 }))!.summary).toBeUndefined();
    }
  });

  it('compaction.runtime writes the summaries while the agent answers on its own runtime', async () => {
    const store = memoryStore();
    await seedSession(store, key('cheap'), conversationItems(200));
    const cheap = summarizingModel();
    const main = fakeStateful();
    const result = await createAgent({
      runtime: main,
      store,
      context: { compaction: { runtime: cheap, triggerTokens: 2_000, keepRecentTokens: 500 } },
    }).run('Hi', { session: 'cheap' });
    expect(cheap.requests.every(isSummaryRequest)).toBe(true);
    expect(cheap.requests.length).toBeGreaterThan(0);
    expect(main.requests.some(isSummaryRequest)).toBe(false);
    expect(result.items[0]).toMatchObject({ type: 'summary', runtimeId: cheap.id });
    // The stateful runtime had no handle: it was seeded with the summary and recent items.
    expect(main.requests[0]!.items[0]).toMatchObject({ role: 'system' });
  });

  it('a stateful runtime whose server context passed the trigger is compacted and rebased', async () => {
    const store = memoryStore();
    const main = fakeStateful({ contextTokens: 500 });
    const all = conversationItems(200, { 0: 'my name is Ada' });
    await seedSession(store, key('rebase'), all);
    await store.append(key('rebase'), [], {
      expectedVersion: all.length,
      binding: {
        runtimeId: main.id,
        remote: { responseId: 'resp_full' },
        syncedVersion: all.length,
        contextTokens: 9_000,
      },
    });
    const summarizer = summarizingModel();
    const result = await createAgent({
      runtime: main,
      store,
      context: { compaction: { runtime: summarizer, triggerTokens: 4_000, keepRecentTokens: 1_000 } },
    }).run('Hi', { session: 'rebase' });
    expect(summarizer.requests).toHaveLength(1);
    expect(main.requests[0]!.remoteState).toBeUndefined();
    expect(textOf(main.requests[0]!.items[0] as never)).toContain('my name is Ada');
    expect(tokensOf(main.requests[0]!.items)).toBeLessThanOrEqual(4_000);
    expect(result.items[0]!.type).toBe('summary');
  });

  it('a stateful runtime with a small current handle is not compacted and reads nothing back', async () => {
    const store = spyStore(memoryStore());
    const main = fakeStateful();
    const all = conversationItems(2_000);
    await seedSession(store, key('small-handle'), all);
    await store.append(key('small-handle'), [], {
      expectedVersion: all.length,
      binding: {
        runtimeId: main.id,
        remote: { responseId: 'resp_ok' },
        syncedVersion: all.length,
        contextTokens: 100,
      },
    });
    store.loads.length = 0;
    const summarizer = summarizingModel();
    await createAgent({
      runtime: main,
      store,
      context: { compaction: { runtime: summarizer, triggerTokens: 4_000, keepRecentTokens: 1_000 } },
    }).run('Hi', { session: 'small-handle' });
    expect(summarizer.requests).toHaveLength(0);
    expect(store.itemsRead()).toBe(0);
  });

  it('triggerTokens not above keepRecentTokens is invalid_config naming the option', () => {
    for (const compaction of [
      { triggerTokens: 1_000, keepRecentTokens: 1_000 },
      { triggerTokens: 500, keepRecentTokens: 2_000 },
    ]) {
      let error: unknown;
      try {
        createAgent({ runtime: scriptedRuntime([]), context: { compaction } });
      } catch (caught) {
        error = caught;
      }
      expect(CloudhopError.is(error, 'invalid_config')).toBe(true);
      expect((error as Error).message).toContain('compaction.triggerTokens');
    }
  });
});
