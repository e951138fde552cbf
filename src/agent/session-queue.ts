import { keyString, type SessionKey, type SessionStore } from '../core/store.js';
import { abortError } from '../runtime/retry.js';
import { bounded } from './turn-signal.js';

/** The tail of the in-process queue of turns per store and session. */
const queues = new WeakMap<SessionStore, TurnQueue>();

/** The turns of one store in this process, by session: every agent on that store shares it. */
export type TurnQueue = Map<string, Promise<unknown>>;

/** Looked up once per agent, not per turn. */
export function turnQueueOf(store: SessionStore): TurnQueue {
  let queue = queues.get(store);
  if (!queue) {
    queue = new Map();
    queues.set(store, queue);
  }
  return queue;
}

/**
 * Runs `work` after every earlier turn on the same session of the same store in this process has
 * settled. Across processes the store's lease does the same job.
 */
export function serializeTurns<T>(
  perStore: TurnQueue,
  key: SessionKey,
  work: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const mapKey = keyString(key);
  const previous = perStore.get(mapKey);
  // With no turn ahead of it (the common case) the work starts at once; a turn aborted while it
  // waits never starts, but keeps its place so the turns behind it still wait for those ahead.
  const next = previous
    ? previous.then(() => (signal?.aborted ? Promise.reject(abortError(signal)) : work()))
    : work();
  const tail: Promise<void> = next.then(settled, settled);
  function settled(): void {
    if (perStore.get(mapKey) === tail) perStore.delete(mapKey);
  }
  perStore.set(mapKey, tail);
  return previous ? bounded(next, signal) : next;
}
