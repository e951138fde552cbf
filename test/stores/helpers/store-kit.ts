import { expect } from 'vitest';
import type { CloudhopError } from '../../../src/core/errors.js';
import type { Item } from '../../../src/core/items.js';
import type { SessionKey, SessionStore } from '../../../src/core/store.js';
import type { TcpProxy } from './tcp-proxy.js';

/** A message item with a stable id and timestamp, so stored and expected items compare equal. */
export const message = (text: string, role: 'user' | 'assistant' = 'user'): Item => ({
  type: 'message',
  id: `m-${text}`,
  role,
  content: [{ type: 'text', text }],
  createdAt: '2025-01-01T00:00:00.000Z',
});

/** Awaits a promise that must reject, and returns what it rejected with (its class is not checked). */
export async function rejection(promise: Promise<unknown>): Promise<CloudhopError> {
  try {
    await promise;
  } catch (error) {
    return error as CloudhopError;
  }
  throw new Error('expected the call to reject');
}

/** Retries `fn` until it succeeds: the store reconnects in the background once the server is back. */
export async function eventually<T>(fn: () => Promise<T>, attempts = 100): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * A networked store reached through `proxy` while its server goes away: an append cut off
 * mid-request and every call while the server is down fail with store_unavailable and commit
 * nothing; once the server is back the store reconnects and carries on from the last commit.
 */
export async function expectOutageRecovery(
  store: SessionStore,
  proxy: TcpProxy,
  key: SessionKey,
): Promise<void> {
  await store.append(key, [message('before')], { expectedVersion: 0 });

  // Dropped mid-operation: the append reached the wire, the connection died before a reply.
  const dropped = proxy.dropNextRequest();
  const midway = await rejection(store.append(key, [message('lost')], { expectedVersion: 1 }));
  await dropped;
  expect(midway.code).toBe('store_unavailable');

  await proxy.down();
  expect((await rejection(store.load(key))).code).toBe('store_unavailable');
  expect((await rejection(store.append(key, [message('while down')], { expectedVersion: 1 }))).code).toBe(
    'store_unavailable',
  );

  await proxy.up();
  const snapshot = await eventually(() => store.load(key));
  expect(snapshot?.items).toEqual([message('before')]);
  expect(await store.append(key, [message('after')], { expectedVersion: 1 })).toBe(2);
}
