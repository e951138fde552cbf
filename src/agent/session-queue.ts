import { keyString, type SessionKey, type SessionStore } from '../core/store.js';
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
  // With no turn ahead of it (the common case) the work starts at once. Only the wait for the turns
  // ahead is cut short by the signal: a turn aborted while it waits never starts. Once started, the
  // work bounds itself, and its own outcome is the one reported: a commit that is landing or a lease
  // being released after it must not be reported as "nothing was committed".
  const started = previous ? bounded(previous, signal).then(() => work()) : work();
  // A turn that never started keeps its place, so the turns behind it still wait for those ahead.
  const done = previous ? previous.then(() => started) : started;
  const tail: Promise<void> = done.then(settled, settled);
  function settled(): void {
    if (perStore.get(mapKey) === tail) perStore.delete(mapKey);
  }
  perStore.set(mapKey, tail);
  return started;
}
