import { describe, expect, it } from 'vitest';
import { createAgent, memoryStore, type Runtime, type SessionStore } from '../../src/index.js';
import { scriptedRuntime } from '../../src/testing/index.js';
import { rejection } from '../helpers/errors.js';

/** A runtime that counts how often its clients were closed. */
function closable(id: string, answer: string): Runtime & { closes: number } {
  const runtime = Object.assign(
    scriptedRuntime(() => answer, { id }),
    {
      closes: 0,
      async close() {
        runtime.closes += 1;
      },
    },
  );
  return runtime;
}

/** A memory store that counts how often it was closed. */
function countingStore(): SessionStore & { closes: number } {
  const inner = memoryStore();
  const store = Object.assign(Object.create(inner) as SessionStore, {
    closes: 0,
    async close() {
      store.closes += 1;
      await inner.close();
    },
  });
  return store;
}

describe('agent.close() closes only what the agent was given', () => {
  it('an agent from withRuntime() closes its runtime, not the store it shares with its parent', async () => {
    const store = countingStore();
    const parentRuntime = closable('parent', 'from parent');
    const parent = createAgent({ runtime: parentRuntime, store });
    const childRuntime = closable('child', 'from child');
    const child = parent.withRuntime(childRuntime);
    await child.run('Hello', { session: 's' });

    await child.close();

    expect(childRuntime.closes).toBe(1);
    expect(store.closes).toBe(0);
    expect(parentRuntime.closes).toBe(0);
    const result = await parent.run('Still there?', { session: 's' });
    expect(result.text).toBe('from parent');
    expect(result.sessionVersion).toBe(4);

    await parent.close();
    expect(store.closes).toBe(1);
    expect(parentRuntime.closes).toBe(1);
    expect((await rejection(parent.run('Gone?', { session: 's' }))).code).toBe('store_unavailable');
  });

  it('an agent from withStore() closes its store, not the runtime it shares with its parent', async () => {
    const parentStore = countingStore();
    const runtime = closable('shared', 'hello');
    const parent = createAgent({ runtime, store: parentStore });
    const childStore = countingStore();
    const child = parent.withStore(childStore);
    await child.run('Hello', { session: 's' });

    await child.close();

    expect(childStore.closes).toBe(1);
    expect(runtime.closes).toBe(0);
    expect(parentStore.closes).toBe(0);
    expect((await parent.run('Hello', { session: 's' })).text).toBe('hello');
  });

  it('an agent made from a derived agent shares, and so leaves open, the store of the agent it came from', async () => {
    const store = countingStore();
    const parent = createAgent({ runtime: closable('first', 'one'), store });
    const grandchild = parent.withRuntime(closable('second', 'two')).withRuntime(closable('third', 'three'));

    await grandchild.close();

    expect(store.closes).toBe(0);
    expect((await parent.run('Hello', { session: 's' })).text).toBe('one');
  });
});
