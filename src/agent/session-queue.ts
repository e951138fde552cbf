import type { SessionKey, SessionStore } from '../core/store.js';
import { abortable, abortError } from '../runtime/retry.js';

/** The tail of the in-process queue of turns per store and session. */
const queues = new WeakMap<SessionStore, Map<string, Promise<unknown>>>();

/**
 * Runs `work` after every earlier turn on the same session of the same store in this process has
 * settled. Across processes the store's lease does the same job.
 */
export function serializeTurns<T>(
  store: SessionStore,
  key: SessionKey,
  work: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  let perStore = queues.get(store);
  if (!perStore) {
    perStore = new Map();
    queues.set(store, perStore);
  }
  // Namespaces and session ids were checked against the key alphabet, which has no '/'.
  const mapKey = `${key.namespace}/${key.sessionId}`;
  const previous = perStore.get(mapKey);
  // With no turn ahead of it (the common case) the work starts at once; a turn aborted while it
  // waits never starts, but keeps its place so the turns behind it still wait for those ahead.
  const next = previous
    ? previous.then(() => (signal?.aborted ? Promise.reject(abortError(signal)) : work()))
    : work();
  const tail: Promise<void> = next.then(settled, settled);
  function settled(): void {
    if (perStore!.get(mapKey) === tail) perStore!.delete(mapKey);
  }
  perStore.set(mapKey, tail);
  return previous && signal ? abortable(next, signal) : next;
}
