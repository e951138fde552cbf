import { describe, expect, it } from 'vitest';
import type { SessionStore } from '../../src/core/store.js';
import { memoryStore } from '../../src/stores/memory.js';
import { runStoreConformance } from '../../src/testing/index.js';

/**
 * A store written before windowed reads, lease renewal and several bindings per append: its load
 * takes no options and returns every item without naming a window or a summary, its leases cannot
 * be renewed, and it does not declare appendsBindings. The suite still passes it, taking each
 * window from what it returns.
 */
function storeIgnoringWindows(): SessionStore {
  const inner = memoryStore();
  return {
    async load(key) {
      const snapshot = await inner.load(key);
      if (!snapshot) return undefined;
      const { fromVersion: _fromVersion, summary: _summary, ...everything } = snapshot;
      return everything;
    },
    append: (key, items, options) => inner.append(key, items, options),
    async lock(key, ttlMs, options) {
      const { token, release } = await inner.lock(key, ttlMs, options);
      return { token, release };
    },
    delete: (key) => inner.delete(key),
    list: (options) => inner.list(options),
    close: () => inner.close(),
  };
}

runStoreConformance(
  () => storeIgnoringWindows(),
  { describe, it, expect },
  { name: 'a store that ignores load options', windowedReads: false, appendsBindings: false },
);
