import type { Item, SummaryItem } from '../core/items.js';
import {
  type Binding,
  type LoadOptions,
  type SessionKey,
  type SessionSnapshot,
  type SessionStore,
  windowOf,
} from '../core/store.js';

/*
 * The one suite every SessionStore passes. It takes the test functions it uses instead of
 * importing a test runner, so `cloudhop/testing` loads without vitest installed:
 *
 *   import { describe, it, expect } from 'vitest';
 *   runStoreConformance(() => myStore(), { describe, it, expect });
 *
 * Every test makes its own store with `makeStore()`, closes it at the end, and writes only under
 * namespaces it invents, so stores made by `makeStore` may share one database.
 */

/** What the suite needs of an `expect` (vitest's and jest's both fit). */
export interface ConformanceMatchers {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toStrictEqual(expected: unknown): void;
  toBeUndefined(): void;
}

export interface ConformanceTestApi {
  describe: (name: string, body: () => void) => unknown;
  it: (name: string, body: () => Promise<void>, timeoutMs?: number) => unknown;
  expect: (actual: any) => ConformanceMatchers;
}

export interface ConformanceOptions {
  /** Suite title; default "SessionStore conformance". */
  name?: string;
  /** Per-test timeout in ms; default 30,000 (the large-session test gets four times that). */
  timeoutMs?: number;
  /** Items in the large-session test; default 10,000. */
  largeSessionItems?: number;
  /**
   * Whether `load` honours `LoadOptions` (default true). A store that ignores them and returns
   * every item passes with false: the window cases then check that it returns every item from the
   * position it names (0 when it names none), and take the window from that with `windowOf`, as
   * the agent does. Invalid options are then not checked (such a store never looks at them).
   */
  windowedReads?: boolean;
  /**
   * Whether `append` writes `AppendOptions.bindings` atomically with the items and the store says
   * so with `appendsBindings` (default true). A store without it passes with false: those cases
   * are skipped, and `importSession` then refuses transcripts with several bindings for it.
   */
  appendsBindings?: boolean;
}

/** A lease ttl long enough that no test's own work outlasts it. */
const LONG_TTL_MS = 60_000;

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let idCounter = 0;
function unique(prefix: string): string {
  idCounter += 1;
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}-${idCounter}`;
}

function stamp(index: number): string {
  return new Date(Date.UTC(2025, 0, 1, 0, 0, 0, index % 1000)).toISOString();
}

function summaryItem(text: string, covers: SummaryItem['covers']): SummaryItem {
  return {
    type: 'summary',
    id: `summary-${covers.fromVersion}-${covers.toVersion}-${text.slice(0, 16)}`,
    text,
    covers,
    createdAt: stamp(covers.toVersion),
    runtimeId: 'conformance:summarizer',
  };
}

function textItem(text: string, index = 0, role: 'user' | 'assistant' = 'user'): Item {
  return {
    type: 'message',
    id: `item-${index}-${text.slice(0, 24)}`,
    role,
    content: [{ type: 'text', text }],
    createdAt: stamp(index),
  };
}

/** One of every item shape, with the awkward values a store must keep exactly. */
function conformanceItems(): Item[] {
  return [
    {
      type: 'message',
      id: '01JCONFORMANCE0000000000001',
      role: 'system',
      content: [{ type: 'text', text: 'Be brief.' }],
      createdAt: '2025-01-01T00:00:00.000Z',
    },
    {
      type: 'message',
      id: '01JCONFORMANCE0000000000002',
      role: 'user',
      content: [
        {
          type: 'text',
          text: 'What is in this picture? Ünïcödé 日本語 العربية 🙂👍🏽 e\u0301 \u2028\u2029 tab\tnul\u0000end "quoted" \\ back',
        },
        {
          type: 'image',
          mediaType: 'image/png',
          data: 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
        },
        { type: 'image', mediaType: 'image/jpeg', url: 'https://example.com/cat.jpg?size=large&x=%20' },
      ],
      createdAt: '2025-01-01T00:00:01.000Z',
    },
    {
      type: 'reasoning',
      id: '01JCONFORMANCE0000000000003',
      summary: 'Looked at the image; need the weather tool.',
      provider: {
        family: 'openai-responses',
        data: {
          encrypted_content: 'gAAAAABo-opaque==',
          nested: { list: [1, 2.5, -3e-7, null, true, false, 'x'], empty: {}, emptyList: [] },
          big: 9007199254740991,
        },
      },
      createdAt: '2025-01-01T00:00:02.000Z',
    },
    {
      type: 'reasoning',
      id: '01JCONFORMANCE0000000000004',
      createdAt: '2025-01-01T00:00:02.500Z',
    },
    {
      type: 'tool_call',
      id: '01JCONFORMANCE0000000000005',
      callId: 'call_abc123',
      name: 'get_weather',
      arguments: '{"city":"Zürich","unit":"c","nested":{"a":[1,2]}}',
      createdAt: '2025-01-01T00:00:03.000Z',
    },
    {
      type: 'tool_result',
      id: '01JCONFORMANCE0000000000006',
      callId: 'call_abc123',
      output: '{"error":"upstream timed out"}',
      isError: true,
      createdAt: '2025-01-01T00:00:04.000Z',
    },
    {
      type: 'tool_result',
      id: '01JCONFORMANCE0000000000007',
      callId: 'tooluse_Xyz-9',
      output: '',
      createdAt: '2025-01-01T00:00:05.000Z',
    },
    {
      type: 'message',
      id: '01JCONFORMANCE0000000000008',
      role: 'assistant',
      content: [
        { type: 'text', text: 'It is 21 °C in Zürich.' },
        { type: 'text', text: '' },
      ],
      createdAt: '2025-01-01T00:00:06.000Z',
    },
  ];
}

/** Registers the conformance suite for the store that `makeStore` builds. */
export function runStoreConformance(
  makeStore: () => SessionStore | Promise<SessionStore>,
  { describe, it, expect }: ConformanceTestApi,
  options: ConformanceOptions = {},
): void {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const largeSessionItems = options.largeSessionItems ?? 10_000;
  const windowedReads = options.windowedReads ?? true;
  const appendsBindings = options.appendsBindings ?? true;

  /** Gives the test a fresh store and closes it afterwards, whatever happened. */
  function test(name: string, body: (store: SessionStore) => Promise<void>, timeout = timeoutMs): void {
    it(
      name,
      async () => {
        const store = await makeStore();
        try {
          await body(store);
        } finally {
          await store.close();
        }
      },
      timeout,
    );
  }

  async function expectStoreError(promise: Promise<unknown>, code: string): Promise<void> {
    let outcome: unknown = 'resolved';
    try {
      await promise;
    } catch (error) {
      outcome = (error as { code?: unknown }).code ?? error;
    }
    expect(outcome).toBe(code);
  }

  async function appendWithRetry(store: SessionStore, key: SessionKey, item: Item): Promise<number> {
    for (;;) {
      const version = (await store.load(key))?.version ?? 0;
      try {
        return await store.append(key, [item], { expectedVersion: version });
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'store_conflict') throw error;
      }
    }
  }

  const ids = async (store: SessionStore, key: SessionKey) =>
    (await store.load(key))?.items.map((item) => item.id);

  /**
   * Loads the window `options` ask for. A windowed store must return it as asked and name where it
   * starts; a store that ignores the options must return every item from the position it names,
   * and the window is then taken from that (`all` is every item of the session).
   */
  async function loadWindow(
    store: SessionStore,
    key: SessionKey,
    options: LoadOptions,
    all: readonly Item[],
  ): Promise<SessionSnapshot | undefined> {
    const snapshot = await store.load(key, options);
    if (!snapshot || windowedReads) return snapshot;
    expect(snapshot.items).toStrictEqual(all.slice(snapshot.fromVersion ?? 0));
    return windowOf(snapshot, options);
  }

  /** Checks one window of a session whose items are `all`: the slice it asked for, the full head. */
  async function expectWindow(
    store: SessionStore,
    key: SessionKey,
    options: LoadOptions,
    all: readonly Item[],
    bindings: Record<string, Binding>,
  ): Promise<SessionSnapshot | undefined> {
    const window = await loadWindow(store, key, options, all);
    const from = Math.min(options.fromVersion ?? 0, all.length);
    const end = options.limit === undefined ? undefined : from + options.limit;
    // The options ride along in what is compared, so a failure names the window that failed.
    expect({ options, fromVersion: window?.fromVersion }).toStrictEqual({ options, fromVersion: from });
    expect({ options, items: window?.items }).toStrictEqual({ options, items: all.slice(from, end) });
    expect(window?.version).toBe(all.length);
    expect(window?.bindings).toStrictEqual(bindings);
    return window;
  }

  describe(options.name ?? 'SessionStore conformance', () => {
    describe('round trip', () => {
      test('a session that was never written loads as undefined', async (store) => {
        expect(await store.load({ namespace: unique('ns'), sessionId: 'missing' })).toBeUndefined();
      });

      test('every item type comes back deep-equal, in order', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'round-trip' };
        const items = conformanceItems();
        expect(await store.append(key, items.slice(0, 3), { expectedVersion: 0 })).toBe(3);
        expect(await store.append(key, items.slice(3), { expectedVersion: 3 })).toBe(items.length);
        const snapshot = await store.load(key);
        expect(snapshot?.items).toStrictEqual(items);
        expect(snapshot?.version).toBe(items.length);
        expect(snapshot?.bindings).toStrictEqual({});
      });

      test('the loaded items are copies: changing them does not change the store', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'copies' };
        const items = conformanceItems();
        await store.append(key, items, { expectedVersion: 0 });
        items[0]!.id = 'changed-after-append';
        const first = await store.load(key);
        first!.items.pop();
        expect((await store.load(key))?.items).toStrictEqual(conformanceItems());
      });

      test('bindings round-trip per runtime id, the latest one winning', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'bindings' };
        const azure: Binding = {
          runtimeId: 'azure-responses:gpt-4o',
          remote: { responseId: 'resp_1' },
          syncedVersion: 1,
        };
        const aws: Binding = {
          runtimeId: 'frontier:us-east-1:gpt',
          remote: { conversationId: 'conv_9' },
          syncedVersion: 2,
          contextTokens: 123_456,
        };
        const azureLater: Binding = {
          runtimeId: azure.runtimeId,
          remote: { responseId: 'resp_2' },
          syncedVersion: 3,
        };
        await store.append(key, [textItem('one', 1)], { expectedVersion: 0, binding: azure });
        await store.append(key, [textItem('two', 2)], { expectedVersion: 1, binding: aws });
        await store.append(key, [textItem('three', 3)], { expectedVersion: 2, binding: azureLater });
        expect((await store.load(key))?.bindings).toStrictEqual({
          [azure.runtimeId]: azureLater,
          [aws.runtimeId]: aws,
        });
      });

      test('an append of no items can write a binding without changing the version', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'binding-only' };
        const binding: Binding = { runtimeId: 'rt', remote: {}, syncedVersion: 1 };
        await store.append(key, [textItem('hello')], { expectedVersion: 0 });
        expect(await store.append(key, [], { expectedVersion: 1, binding })).toBe(1);
        const snapshot = await store.load(key);
        expect(snapshot?.version).toBe(1);
        expect(snapshot?.bindings).toStrictEqual({ rt: binding });
      });
    });

    describe('compare-and-set', () => {
      test('a stale or future expectedVersion throws store_conflict and writes nothing', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'cas' };
        await store.append(key, [textItem('first', 1)], { expectedVersion: 0 });
        const binding: Binding = { runtimeId: 'rt', remote: { responseId: 'resp_x' }, syncedVersion: 2 };
        await expectStoreError(
          store.append(key, [textItem('stale', 2)], { expectedVersion: 0, binding }),
          'store_conflict',
        );
        await expectStoreError(
          store.append(key, [textItem('future', 3)], { expectedVersion: 5, binding }),
          'store_conflict',
        );
        const snapshot = await store.load(key);
        expect(snapshot?.items).toStrictEqual([textItem('first', 1)]);
        expect(snapshot?.version).toBe(1);
        expect(snapshot?.bindings).toStrictEqual({});
      });

      test('a conflicting first append does not create the session', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'cas-new' };
        await expectStoreError(store.append(key, [textItem('x')], { expectedVersion: 1 }), 'store_conflict');
        expect(await store.load(key)).toBeUndefined();
        expect((await store.list({ namespace: key.namespace })).ids).toStrictEqual([]);
      });

      test('20 concurrent writers retrying on conflict each land exactly once, in commit order', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'concurrent' };
        const writers = Array.from({ length: 20 }, (_, index) => textItem(`writer ${index}`, index));
        const versions = await Promise.all(writers.map((item) => appendWithRetry(store, key, item)));
        expect([...versions].sort((a, b) => a - b)).toStrictEqual(
          Array.from({ length: 20 }, (_, i) => i + 1),
        );
        const snapshot = await store.load(key);
        expect(snapshot?.version).toBe(20);
        // The item at position v - 1 is the one whose append returned version v.
        const expected: Item[] = [];
        versions.forEach((version, writer) => {
          expected[version - 1] = writers[writer]!;
        });
        expect(snapshot?.items).toStrictEqual(expected);
      });
    });

    describe('signals', () => {
      test('an append whose signal has already fired throws aborted and writes nothing', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'aborted-append' };
        const binding: Binding = { runtimeId: 'rt', remote: { responseId: 'resp_a' }, syncedVersion: 1 };
        await expectStoreError(
          store.append(key, [textItem('never')], {
            expectedVersion: 0,
            binding,
            signal: AbortSignal.abort(),
          }),
          'aborted',
        );
        expect(await store.load(key)).toBeUndefined();
        expect(await store.append(key, [textItem('later')], { expectedVersion: 0 })).toBe(1);
      });

      test('a lock waiting for a held lease ends with aborted once its signal fires, and takes nothing', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'aborted-lock' };
        const held = await store.lock(key, LONG_TTL_MS);
        const controller = new AbortController();
        // Ends long after the abort: a store that ignores the signal gives store_conflict here.
        const waiting = store.lock(key, LONG_TTL_MS, { waitMs: 5_000, signal: controller.signal });
        await delay(100);
        controller.abort();
        await expectStoreError(waiting, 'aborted');
        await held.release();
        const next = await store.lock(key, LONG_TTL_MS, { waitMs: 0 });
        await next.release();
      });

      test('a lock whose signal has already fired throws aborted, also when the lease is free', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'aborted-free-lock' };
        await expectStoreError(store.lock(key, LONG_TTL_MS, { signal: AbortSignal.abort() }), 'aborted');
        const lease = await store.lock(key, LONG_TTL_MS, { waitMs: 0 });
        await lease.release();
      });
    });

    if (appendsBindings) {
      describe('several bindings in one append', () => {
        const binding = (
          runtimeId: string,
          syncedVersion: number,
          responseId = `resp_${runtimeId}`,
        ): Binding => ({
          runtimeId,
          remote: { responseId },
          syncedVersion,
        });

        test('the store declares appendsBindings', async (store) => {
          expect(store.appendsBindings).toBe(true);
        });

        test('items and every binding land together; per runtime id the last one given wins', async (store) => {
          const key = { namespace: unique('ns'), sessionId: 'bindings-together' };
          const items = [textItem('one', 1), textItem('two', 2)];
          const conversation: Binding = {
            runtimeId: 'conversation-rt',
            remote: { conversationId: 'conv_1' },
            syncedVersion: 2,
            contextTokens: 4_321,
          };
          const last = binding('twice', 2, 'resp_second');
          expect(
            await store.append(key, items, {
              expectedVersion: 0,
              bindings: [binding('twice', 1, 'resp_first'), conversation, last],
              binding: binding('single', 2),
            }),
          ).toBe(2);
          const snapshot = await store.load(key);
          expect(snapshot?.items).toStrictEqual(items);
          expect(snapshot?.bindings).toStrictEqual({
            twice: last,
            [conversation.runtimeId]: conversation,
            single: binding('single', 2),
          });

          // An append of no items updates only the bindings it names.
          const moved = binding('single', 2, 'resp_moved');
          expect(await store.append(key, [], { expectedVersion: 2, bindings: [moved] })).toBe(2);
          expect((await store.load(key))?.bindings).toStrictEqual({
            twice: last,
            [conversation.runtimeId]: conversation,
            single: moved,
          });
        });

        test('a refused append writes none of its bindings', async (store) => {
          const key = { namespace: unique('ns'), sessionId: 'bindings-refused' };
          const first = binding('a', 1);
          await store.append(key, [textItem('first', 1)], { expectedVersion: 0, binding: first });
          const bindings = [binding('a', 2, 'resp_new'), binding('b', 2)];
          await expectStoreError(
            store.append(key, [textItem('stale', 2)], { expectedVersion: 0, bindings }),
            'store_conflict',
          );
          const lease = await store.lock(key, LONG_TTL_MS);
          await lease.release();
          await expectStoreError(
            store.append(key, [textItem('unleased', 3)], { expectedVersion: 1, bindings, lease }),
            'store_conflict',
          );
          const snapshot = await store.load(key);
          expect(snapshot?.items).toStrictEqual([textItem('first', 1)]);
          expect(snapshot?.bindings).toStrictEqual({ a: first });
        });

        test('a reader never sees an append’s items without its bindings', async (store) => {
          const key = { namespace: unique('ns'), sessionId: 'bindings-atomic' };
          const rounds = 20;
          const torn: unknown[] = [];
          let writing = true;
          const reader = (async () => {
            do {
              const head = await store.load(key, { limit: 0 });
              if (!head) continue;
              const synced = Object.values(head.bindings).map((each) => each.syncedVersion);
              const expected = head.version === 0 ? [] : [head.version, head.version];
              if (JSON.stringify(synced) !== JSON.stringify(expected))
                torn.push({ version: head.version, synced });
            } while (writing);
          })();
          for (let version = 0; version < rounds; version++) {
            await store.append(key, [textItem(`round ${version}`, version)], {
              expectedVersion: version,
              bindings: [binding('a', version + 1), binding('b', version + 1)],
            });
          }
          writing = false;
          await reader;
          expect(torn).toStrictEqual([]);
          expect((await store.load(key, { limit: 0 }))?.bindings).toStrictEqual({
            a: binding('a', rounds),
            b: binding('b', rounds),
          });
        });
      });
    }

    describe('leases', () => {
      test('a second lock waits for the holder, then gets the lease once it is released', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'lease-wait' };
        const first = await store.lock(key, LONG_TTL_MS);
        let secondSettled = false;
        const second = store.lock(key, LONG_TTL_MS, { waitMs: 20_000 }).finally(() => {
          secondSettled = true;
        });
        await delay(200);
        expect(secondSettled).toBe(false);
        await first.release();
        const lease = await second;
        expect(lease.token === first.token).toBe(false);
        await lease.release();
      });

      test('a lock that cannot get the lease within waitMs throws store_conflict', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'lease-timeout' };
        const held = await store.lock(key, LONG_TTL_MS);
        const started = Date.now();
        await expectStoreError(store.lock(key, LONG_TTL_MS, { waitMs: 300 }), 'store_conflict');
        // It waited: a lock may not give up before waitMs (a few ms of timer slack allowed).
        expect(Date.now() - started >= 290).toBe(true);
        await held.release();
      });

      test('leases on different sessions and namespaces do not block each other', async (store) => {
        const namespace = unique('ns');
        const a = await store.lock({ namespace, sessionId: 'x' }, LONG_TTL_MS);
        const b = await store.lock({ namespace, sessionId: 'y' }, LONG_TTL_MS, { waitMs: 0 });
        const c = await store.lock({ namespace: `${namespace}-other`, sessionId: 'x' }, LONG_TTL_MS, {
          waitMs: 0,
        });
        await Promise.all([a.release(), b.release(), c.release()]);
      });

      test('a crashed holder’s lease expires and can be taken over', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'lease-expiry' };
        await store.lock(key, 150); // never released, as if the holder had crashed
        await delay(400);
        const lease = await store.lock(key, LONG_TTL_MS, { waitMs: 0 });
        await lease.release();
      });

      test('an append under a live lease is written', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'lease-ok' };
        const lease = await store.lock(key, LONG_TTL_MS);
        expect(await store.append(key, [textItem('held')], { expectedVersion: 0, lease })).toBe(1);
        await lease.release();
        expect(await ids(store, key)).toStrictEqual([textItem('held').id]);
      });

      test('an append with an expired lease writes nothing (fencing)', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'lease-expired' };
        await store.append(key, [textItem('before', 1)], { expectedVersion: 0 });
        const lease = await store.lock(key, 150);
        await delay(400);
        await expectStoreError(
          store.append(key, [textItem('late', 2)], { expectedVersion: 1, lease }),
          'store_conflict',
        );
        expect(await ids(store, key)).toStrictEqual([textItem('before', 1).id]);
      });

      test('an append with a lease taken over by another holder writes nothing (fencing)', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'lease-taken' };
        const stale = await store.lock(key, 150);
        await delay(400);
        const current = await store.lock(key, LONG_TTL_MS, { waitMs: 0 });
        await expectStoreError(
          store.append(key, [textItem('stale', 1)], { expectedVersion: 0, lease: stale }),
          'store_conflict',
        );
        expect(await store.load(key)).toBeUndefined();
        // The stale holder's release must not free the current holder's lease.
        await stale.release();
        await expectStoreError(store.lock(key, LONG_TTL_MS, { waitMs: 0 }), 'store_conflict');
        expect(
          await store.append(key, [textItem('current', 2)], { expectedVersion: 0, lease: current }),
        ).toBe(1);
        await current.release();
      });

      test('release is idempotent: called again, or retried after another holder took the lease, it frees nothing', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'release-twice' };
        const first = await store.lock(key, LONG_TTL_MS);
        await first.release();
        await first.release();
        const second = await store.lock(key, LONG_TTL_MS, { waitMs: 0 });
        await first.release();
        await expectStoreError(store.lock(key, LONG_TTL_MS, { waitMs: 0 }), 'store_conflict');
        expect(await store.append(key, [textItem('held')], { expectedVersion: 0, lease: second })).toBe(1);
        await second.release();
        await second.release();
        const third = await store.lock(key, LONG_TTL_MS, { waitMs: 0 });
        await third.release();
      });

      test('an append with a released lease writes nothing', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'lease-released' };
        const lease = await store.lock(key, LONG_TTL_MS);
        await lease.release();
        await expectStoreError(
          store.append(key, [textItem('x')], { expectedVersion: 0, lease }),
          'store_conflict',
        );
        expect(await store.load(key)).toBeUndefined();
      });

      // Renewing is an optional capability: a store whose leases have no renew skips these cases.
      test('a renewed lease outlives its first ttl: appends with it are written, no one else gets it', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'renew' };
        const lease = await store.lock(key, 300);
        if (!lease.renew) return lease.release();
        await lease.renew(LONG_TTL_MS);
        await delay(600);
        expect(await store.append(key, [textItem('renewed')], { expectedVersion: 0, lease })).toBe(1);
        await expectStoreError(store.lock(key, LONG_TTL_MS, { waitMs: 0 }), 'store_conflict');
        await lease.renew(LONG_TTL_MS);
        expect(await store.append(key, [textItem('again', 1)], { expectedVersion: 1, lease })).toBe(2);
        await lease.release();
      });

      test('renewing a released lease throws store_conflict and does not take it back', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'renew-released' };
        const lease = await store.lock(key, LONG_TTL_MS);
        if (!lease.renew) return lease.release();
        await lease.release();
        await expectStoreError(lease.renew(LONG_TTL_MS), 'store_conflict');
        const next = await store.lock(key, LONG_TTL_MS, { waitMs: 0 });
        await next.release();
      });

      test('renewing an expired lease throws store_conflict, also when no one took it over', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'renew-expired' };
        const lease = await store.lock(key, 150);
        if (!lease.renew) return lease.release();
        await delay(400);
        await expectStoreError(lease.renew(LONG_TTL_MS), 'store_conflict');
        await expectStoreError(
          store.append(key, [textItem('late')], { expectedVersion: 0, lease }),
          'store_conflict',
        );
        const next = await store.lock(key, LONG_TTL_MS, { waitMs: 0 });
        await next.release();
      });

      test('renewing a lease taken over by another holder throws store_conflict; the new holder keeps it', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'renew-taken' };
        const stale = await store.lock(key, 150);
        if (!stale.renew) return stale.release();
        await delay(400);
        const current = await store.lock(key, LONG_TTL_MS, { waitMs: 0 });
        await expectStoreError(stale.renew(LONG_TTL_MS), 'store_conflict');
        await expectStoreError(store.lock(key, LONG_TTL_MS, { waitMs: 0 }), 'store_conflict');
        expect(await store.append(key, [textItem('current')], { expectedVersion: 0, lease: current })).toBe(
          1,
        );
        await current.release();
      });

      test('renew with a ttl that is not a positive number throws invalid_config and keeps the lease', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'renew-invalid' };
        const lease = await store.lock(key, LONG_TTL_MS);
        if (!lease.renew) return lease.release();
        for (const ttlMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
          await expectStoreError(lease.renew(ttlMs), 'invalid_config');
        }
        await expectStoreError(store.lock(key, LONG_TTL_MS, { waitMs: 0 }), 'store_conflict');
        expect(await store.append(key, [textItem('held')], { expectedVersion: 0, lease })).toBe(1);
        await lease.release();
      });
    });

    describe('windowed reads', () => {
      test('a window holds the items from fromVersion on, with the head of a full load', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'window' };
        const all = Array.from({ length: 12 }, (_, index) => textItem(`w${index}`, index));
        const binding: Binding = { runtimeId: 'rt', remote: { responseId: 'resp_w' }, syncedVersion: 9 };
        await store.append(key, all.slice(0, 5), { expectedVersion: 0 });
        await store.append(key, all.slice(5, 9), { expectedVersion: 5, binding });
        await store.append(key, all.slice(9), { expectedVersion: 9 });
        const bindings = { rt: binding };
        const windows: LoadOptions[] = [
          {},
          { fromVersion: 0 },
          { fromVersion: 4 },
          { fromVersion: 5 },
          { fromVersion: 11 },
          { fromVersion: 12 },
          { fromVersion: 13 },
          { fromVersion: 1_000_000 },
          { limit: 2 },
          { fromVersion: 3, limit: 1 },
          { fromVersion: 3, limit: 4 },
          { fromVersion: 8, limit: 100 },
          { fromVersion: 11, limit: 1 },
          { fromVersion: 12, limit: 3 },
          { fromVersion: 20, limit: 3 },
        ];
        for (const window of windows) {
          const snapshot = await expectWindow(store, key, window, all, bindings);
          expect(snapshot?.summary).toBeUndefined();
        }
      });

      test('limit 0 reads only the head: version, bindings and the latest summary', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'head' };
        const summary = summaryItem('They said hello twice.', { fromVersion: 0, toVersion: 2 });
        const all = [textItem('hello', 0), textItem('hello again', 1), summary, textItem('after', 3)];
        const binding: Binding = { runtimeId: 'rt', remote: {}, syncedVersion: 4 };
        await store.append(key, all, { expectedVersion: 0, binding });
        for (const fromVersion of [0, 2, 4, 9]) {
          const head = await expectWindow(store, key, { fromVersion, limit: 0 }, all, { rt: binding });
          expect(head?.items).toStrictEqual([]);
          expect(head?.summary).toStrictEqual(summary);
        }
      });

      test('a session of no items has an empty window; one never written loads undefined', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'empty-window' };
        expect(await store.append(key, [], { expectedVersion: 0 })).toBe(0);
        for (const window of [
          {},
          { fromVersion: 0 },
          { fromVersion: 3 },
          { limit: 0 },
          { fromVersion: 1, limit: 2 },
        ]) {
          const snapshot = await expectWindow(store, key, window, [], {});
          expect(snapshot?.summary).toBeUndefined();
        }
        const missing = { namespace: key.namespace, sessionId: 'never-written' };
        expect(await store.load(missing, { fromVersion: 0 })).toBeUndefined();
        expect(await store.load(missing, { fromVersion: 5, limit: 0 })).toBeUndefined();
      });

      test('the latest summary is named wherever it lies, and a later one replaces it', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'summary' };
        const all: Item[] = Array.from({ length: 4 }, (_, index) => textItem(`s${index}`, index));
        await store.append(key, all, { expectedVersion: 0 });
        const first = summaryItem('The first four items.', { fromVersion: 0, toVersion: 4 });
        all.push(first);
        await store.append(key, [first], { expectedVersion: 4 });
        const after = Array.from({ length: 3 }, (_, index) => textItem(`t${index}`, 5 + index));
        all.push(...after);
        await store.append(key, after, { expectedVersion: 5 });

        const beyond = await expectWindow(store, key, { fromVersion: 6 }, all, {});
        expect(beyond?.summary).toStrictEqual(first);
        const containing = await expectWindow(store, key, { fromVersion: 2, limit: 4 }, all, {});
        expect(containing?.items[2]).toStrictEqual(first);
        expect(containing?.summary).toStrictEqual(first);
        const before = await expectWindow(store, key, { fromVersion: 0, limit: 2 }, all, {});
        expect(before?.summary).toStrictEqual(first);
        expect((await loadWindow(store, key, {}, all))?.summary).toStrictEqual(first);

        // Two summaries in one append: the later of them is the latest.
        const middle = summaryItem('Items up to six.', { fromVersion: 0, toVersion: 6 });
        const latest = summaryItem('Everything so far.', { fromVersion: 0, toVersion: 10 });
        const batch = [middle, textItem('u0', 9), latest, textItem('u1', 11)];
        all.push(...batch);
        await store.append(key, batch, { expectedVersion: 8 });
        for (const fromVersion of [0, 6, 10, 11, 12, 40]) {
          const window = await expectWindow(store, key, { fromVersion }, all, {});
          expect(window?.summary).toStrictEqual(latest);
        }
        const next = textItem('v0', 12);
        all.push(next);
        await store.append(key, [next], { expectedVersion: 12 });
        expect((await expectWindow(store, key, { fromVersion: 12 }, all, {}))?.summary).toStrictEqual(latest);
      });

      test('a window and its summary are copies: changing them does not change the store', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'window-copies' };
        const summary = summaryItem('Two greetings.', { fromVersion: 0, toVersion: 2 });
        const all = [textItem('a', 0), textItem('b', 1), summary, textItem('c', 3)];
        await store.append(key, all, { expectedVersion: 0 });
        const window = await loadWindow(store, key, { fromVersion: 1 }, all);
        window!.items.pop();
        (window!.items[0] as { id: string }).id = 'changed';
        window!.summary!.text = 'changed';
        window!.summary!.covers.toVersion = 99;
        const again = await expectWindow(store, key, { fromVersion: 1 }, all, {});
        expect(again?.summary).toStrictEqual(summary);
      });

      if (windowedReads) {
        test('a position or count that is not a whole number of 0 or more throws invalid_config', async (store) => {
          const key = { namespace: unique('ns'), sessionId: 'bad-window' };
          await store.append(key, [textItem('x')], { expectedVersion: 0 });
          const missing = { namespace: key.namespace, sessionId: 'never-written' };
          const invalid: LoadOptions[] = [
            { fromVersion: -1 },
            { fromVersion: 1.5 },
            { fromVersion: Number.NaN },
            { fromVersion: Number.POSITIVE_INFINITY },
            { limit: -1 },
            { limit: 2.5 },
            { fromVersion: 0, limit: Number.NaN },
          ];
          for (const options of invalid) {
            await expectStoreError(store.load(key, options), 'invalid_config');
            await expectStoreError(store.load(missing, options), 'invalid_config');
          }
        });
      }
    });

    describe('keys and namespaces', () => {
      test('keys that collide under naive joining stay apart (a + b:c vs a:b + c)', async (store) => {
        const root = unique('ns');
        const left = { namespace: root, sessionId: 'b:c' };
        const right = { namespace: `${root}:b`, sessionId: 'c' };
        await store.append(left, [textItem('left')], { expectedVersion: 0 });
        await store.append(right, [textItem('right'), textItem('right again', 1)], { expectedVersion: 0 });
        expect(await ids(store, left)).toStrictEqual([textItem('left').id]);
        expect((await store.load(right))?.version).toBe(2);
        expect((await store.list({ namespace: root })).ids).toStrictEqual(['b:c']);
        expect((await store.list({ namespace: `${root}:b` })).ids).toStrictEqual(['c']);
        await store.delete(left);
        expect((await store.load(right))?.version).toBe(2);
      });

      test('SQL wildcards, path segments, globs, quotes and unicode are plain characters', async (store) => {
        const namespace = unique('ns');
        const sessionIds = [
          'a_c',
          'abc',
          'a%',
          'a%c',
          'a',
          '%',
          '_',
          '*',
          'a*',
          '?',
          '[a]',
          '..',
          '../a',
          'a/..',
          '/',
          'a/b',
          '\\',
          "it's",
          '"q"',
          '`b`',
          "'; DROP TABLE cloudhop_items; --",
          '{tag}',
          ' a',
          'a ',
          'A',
          'é',
          'e\u0301',
          'セッション',
          '🙂',
          'x'.repeat(256),
        ];
        for (const [index, sessionId] of sessionIds.entries()) {
          await store.append({ namespace, sessionId }, [textItem(`item for ${index}`, index)], {
            expectedVersion: 0,
          });
        }
        for (const [index, sessionId] of sessionIds.entries()) {
          expect(await ids(store, { namespace, sessionId })).toStrictEqual([
            textItem(`item for ${index}`, index).id,
          ]);
        }
        const listed: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.list({ namespace, cursor, limit: 7 });
          listed.push(...page.ids);
          cursor = page.cursor;
        } while (cursor !== undefined);
        expect([...listed].sort()).toStrictEqual([...sessionIds].sort());
        expect(new Set(listed).size).toBe(sessionIds.length);
      });

      test('namespaces that are wildcards, prefixes or paths of each other stay apart', async (store) => {
        const root = unique('ns');
        const namespaces = [
          root,
          `${root}_`,
          `${root}%`,
          `${root}x`,
          `${root}/..`,
          `${root}*`,
          `${root}:`,
          `${root}🙂`,
        ];
        for (const [index, namespace] of namespaces.entries()) {
          await store.append({ namespace, sessionId: 's' }, [textItem(`in ${index}`, index)], {
            expectedVersion: 0,
          });
        }
        for (const [index, namespace] of namespaces.entries()) {
          expect(await ids(store, { namespace, sessionId: 's' })).toStrictEqual([
            textItem(`in ${index}`, index).id,
          ]);
          expect((await store.list({ namespace })).ids).toStrictEqual(['s']);
        }
        const unrelated = { namespace: `${root}-unrelated`, sessionId: 's' };
        expect(await store.load(unrelated)).toBeUndefined();
        expect((await store.list({ namespace: unrelated.namespace })).ids).toStrictEqual([]);
      });

      test('the default namespace is "default"', async (store) => {
        const sessionId = unique('in-default');
        const key = { namespace: 'default', sessionId };
        await store.append(key, [textItem('x')], { expectedVersion: 0 });
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.list({ cursor });
          seen.push(...page.ids);
          cursor = page.cursor;
        } while (cursor !== undefined);
        expect(seen.includes(sessionId)).toBe(true);
        await store.delete(key);
      });
    });

    describe('large sessions', () => {
      test(
        `a ${largeSessionItems}-item session keeps every item, in order`,
        async (store) => {
          const key = { namespace: unique('ns'), sessionId: 'large' };
          const all = Array.from({ length: largeSessionItems }, (_, index) => textItem(`#${index}`, index));
          const batch = 250;
          let version = 0;
          while (version < largeSessionItems) {
            version = await store.append(key, all.slice(version, version + batch), {
              expectedVersion: version,
            });
          }
          const snapshot = await store.load(key);
          expect(snapshot?.version).toBe(largeSessionItems);
          expect(snapshot?.items.length).toBe(largeSessionItems);
          const outOfOrder = snapshot!.items.findIndex(
            (item, index) =>
              item.type !== 'message' ||
              item.content[0]?.type !== 'text' ||
              item.content[0].text !== `#${index}`,
          );
          expect(outOfOrder).toBe(-1);
          const middle = Math.floor(largeSessionItems / 2) - 3;
          for (const window of [
            { fromVersion: Math.max(0, largeSessionItems - 10) },
            { fromVersion: middle, limit: 130 },
            { fromVersion: largeSessionItems },
          ]) {
            await expectWindow(store, key, window, all, {});
          }
          expect(
            await store.append(key, [textItem('one more')], { expectedVersion: largeSessionItems }),
          ).toBe(largeSessionItems + 1);
        },
        timeoutMs * 4,
      );
    });

    describe('delete and list', () => {
      test('delete removes items, bindings and the listing; the id can start over', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'to-delete' };
        const binding: Binding = { runtimeId: 'rt', remote: { responseId: 'resp_1' }, syncedVersion: 2 };
        await store.append(key, [textItem('a', 1), textItem('b', 2)], { expectedVersion: 0, binding });
        await store.delete(key);
        expect(await store.load(key)).toBeUndefined();
        expect((await store.list({ namespace: key.namespace })).ids).toStrictEqual([]);
        expect(await store.append(key, [textItem('fresh', 3)], { expectedVersion: 0 })).toBe(1);
        const snapshot = await store.load(key);
        expect(snapshot?.items).toStrictEqual([textItem('fresh', 3)]);
        expect(snapshot?.bindings).toStrictEqual({});
      });

      test('deleting a session that does not exist is not an error', async (store) => {
        await store.delete({ namespace: unique('ns'), sessionId: 'never-written' });
      });

      test('list pages through the ids of one namespace in order, 100 by default', async (store) => {
        const namespace = unique('ns');
        const sessionIds = Array.from({ length: 105 }, (_, i) => `s-${String(i).padStart(3, '0')}`);
        const shuffled = [...sessionIds].sort(() => Math.random() - 0.5);
        for (const sessionId of shuffled) {
          await store.append({ namespace, sessionId }, [textItem(sessionId)], { expectedVersion: 0 });
        }
        await store.append({ namespace: `${namespace}x`, sessionId: 's-000a' }, [textItem('other')], {
          expectedVersion: 0,
        });

        const first = await store.list({ namespace });
        expect(first.ids).toStrictEqual(sessionIds.slice(0, 100));
        expect(typeof first.cursor).toBe('string');
        const rest = await store.list({ namespace, cursor: first.cursor });
        expect(rest).toStrictEqual({ ids: sessionIds.slice(100) });

        const pages: string[][] = [];
        let cursor: string | undefined;
        do {
          const page = await store.list({ namespace, cursor, limit: 10 });
          pages.push(page.ids);
          cursor = page.cursor;
        } while (cursor !== undefined);
        expect(pages.map((page) => page.length)).toStrictEqual([10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 5]);
        expect(pages.flat()).toStrictEqual(sessionIds);

        const exact = await store.list({ namespace, cursor: sessionIds[94], limit: 10 });
        expect(exact).toStrictEqual({ ids: sessionIds.slice(95) });
      });

      test('a session created by an append of no items is listed and loads empty', async (store) => {
        const key = { namespace: unique('ns'), sessionId: 'empty' };
        expect(await store.append(key, [], { expectedVersion: 0 })).toBe(0);
        const snapshot = await store.load(key);
        expect(snapshot?.items).toStrictEqual([]);
        expect(snapshot?.version).toBe(0);
        expect(snapshot?.bindings).toStrictEqual({});
        expect((await store.list({ namespace: key.namespace })).ids).toStrictEqual(['empty']);
      });
    });

    describe('close', () => {
      it(
        'close can be called twice, and a closed store rejects with store_unavailable',
        async () => {
          const store = await makeStore();
          const key = { namespace: unique('ns'), sessionId: 'closed' };
          await store.append(key, [textItem('x')], { expectedVersion: 0 });
          await store.close();
          await store.close();
          await expectStoreError(store.load(key), 'store_unavailable');
          await expectStoreError(
            store.append(key, [textItem('y')], { expectedVersion: 1 }),
            'store_unavailable',
          );
        },
        timeoutMs,
      );
    });
  });
}
