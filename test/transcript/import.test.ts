// An import lands whole or not at all: items and every binding in one append, never into a session
// that already exists, and never with a binding quietly lost.
import { describe, expect, it } from 'vitest';
import { CloudhopError } from '../../src/core/errors.js';
import type { Item } from '../../src/core/items.js';
import type { Binding, SessionStore } from '../../src/core/store.js';
import { importSession, MAX_TRANSCRIPT_BINDINGS, TRANSCRIPT_FORMAT } from '../../src/core/transcript.js';
import { memoryStore } from '../../src/stores/memory.js';
import { rejection } from '../helpers/errors.js';

const at = '2025-03-06T10:15:00.000Z';
const key = { namespace: 'default', sessionId: 'moved' };

const items: Item[] = [
  {
    type: 'message',
    id: '01A',
    role: 'user',
    content: [{ type: 'text', text: 'my name is Ada' }],
    createdAt: at,
  },
  {
    type: 'message',
    id: '01B',
    role: 'assistant',
    content: [{ type: 'text', text: 'Nice to meet you, Ada.' }],
    createdAt: at,
  },
];

// Handles as the Responses API and the Conversations API return them.
const openai: Binding = {
  runtimeId: 'openai-responses:gpt-4o',
  remote: { responseId: 'resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b' },
  syncedVersion: 2,
};
const azure: Binding = {
  runtimeId: 'azure-responses:gpt-4o',
  remote: { conversationId: 'conv_123' },
  syncedVersion: 2,
};

function transcript(bindings: Binding[], overrides: Record<string, unknown> = {}) {
  return {
    format: TRANSCRIPT_FORMAT,
    namespace: key.namespace,
    sessionId: key.sessionId,
    exportedAt: at,
    items,
    bindings: Object.fromEntries(bindings.map((binding) => [binding.runtimeId, binding])),
    ...overrides,
  };
}

/**
 * A memory store whose server goes away after its first write: every later append fails as a
 * networked store's would, until `recover()`.
 */
function storeThatFailsAfterOneWrite(): SessionStore & { recover(): void } {
  const inner = memoryStore();
  let writes = 0;
  let down = false;
  return {
    appendsBindings: true,
    load: (sessionKey, options) => inner.load(sessionKey, options),
    async append(sessionKey, appended, options) {
      if (down) throw new CloudhopError('store_unavailable', 'The session store is unreachable.');
      const version = await inner.append(sessionKey, appended, options);
      if (++writes === 1) down = true;
      return version;
    },
    lock: (sessionKey, ttlMs, options) => inner.lock(sessionKey, ttlMs, options),
    delete: (sessionKey) => inner.delete(sessionKey),
    list: (options) => inner.list(options),
    close: () => inner.close(),
    recover() {
      down = false;
    },
  };
}

/** A store written before `appendsBindings`: it writes `binding` and knows nothing of `bindings`. */
function storeWithoutSeveralBindings(): SessionStore {
  const inner = memoryStore();
  return {
    load: (sessionKey, options) => inner.load(sessionKey, options),
    append: (sessionKey, appended, { expectedVersion, binding, lease }) =>
      inner.append(sessionKey, appended, { expectedVersion, binding, lease }),
    lock: (sessionKey, ttlMs, options) => inner.lock(sessionKey, ttlMs, options),
    delete: (sessionKey) => inner.delete(sessionKey),
    list: (options) => inner.list(options),
    close: () => inner.close(),
  };
}

describe('importSession', () => {
  it('writes the items and every binding in one append: a store failing after one write still gets the whole session', async () => {
    const store = storeThatFailsAfterOneWrite();
    await importSession(store, transcript([openai, azure]));
    store.recover();
    const snapshot = await store.load(key);
    expect(snapshot?.items).toEqual(items);
    expect(snapshot?.bindings).toEqual({ [openai.runtimeId]: openai, [azure.runtimeId]: azure });
  });

  it('refuses to write into an existing empty session', async () => {
    const store = memoryStore();
    await store.append(key, [], { expectedVersion: 0 });
    const error = await rejection(importSession(store, transcript([openai])));
    expect(error.code).toBe('store_conflict');
    expect(error.message).toContain('already exists');
    expect(error.message).toContain('"moved"');
    const snapshot = await store.load(key);
    expect(snapshot?.version).toBe(0);
    expect(snapshot?.bindings).toEqual({});
  });

  it('with a store that cannot write several bindings at once, refuses such a file and writes nothing', async () => {
    const store = storeWithoutSeveralBindings();
    const error = await rejection(importSession(store, transcript([openai, azure])));
    expect(error.code).toBe('invalid_config');
    expect(error.message).toContain('appendsBindings');
    expect(error.message).toContain('Nothing was written');
    expect(await store.load(key)).toBeUndefined();

    // One binding travels as `binding`, which every store writes.
    await importSession(store, transcript([openai]));
    expect((await store.load(key))?.bindings).toEqual({ [openai.runtimeId]: openai });
  });

  it('refuses a binding keyed "__proto__" instead of losing it', async () => {
    const text = JSON.stringify(transcript([openai])).replace(
      `"${openai.runtimeId}":{"runtimeId":"${openai.runtimeId}"`,
      '"__proto__":{"runtimeId":"__proto__"',
    );
    expect(Object.hasOwn(JSON.parse(text).bindings, '__proto__')).toBe(true);
    const store = memoryStore();
    for (const file of [text, JSON.parse(text)]) {
      const error = await rejection(importSession(store, file));
      expect(error.code).toBe('transcript_invalid');
      expect(error.path).toBe('bindings.__proto__');
    }
    expect(await store.load(key)).toBeUndefined();
  });

  it('refuses a transcript with more bindings than runtimes a session could use, and writes nothing', async () => {
    const bindingsFor = (count: number): Binding[] =>
      Array.from({ length: count }, (_, index) => ({
        ...openai,
        runtimeId: `openai-responses:deployment-${index}`,
      }));
    const store = memoryStore();
    const error = await rejection(importSession(store, transcript(bindingsFor(MAX_TRANSCRIPT_BINDINGS + 1))));
    expect(error.code).toBe('transcript_invalid');
    expect(error.path).toBe('bindings');
    expect(error.message).toContain(`${MAX_TRANSCRIPT_BINDINGS + 1} bindings`);
    expect(error.message).toContain(`at most ${MAX_TRANSCRIPT_BINDINGS}`);
    expect(await store.load(key)).toBeUndefined();

    await importSession(store, transcript(bindingsFor(MAX_TRANSCRIPT_BINDINGS)));
    expect(Object.keys((await store.load(key))?.bindings ?? {})).toHaveLength(MAX_TRANSCRIPT_BINDINGS);
  });
});
