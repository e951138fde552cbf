import { CloudhopError } from '../core/errors.js';
import { newId, nowIso } from '../core/ids.js';
import type { Item } from '../core/items.js';
import {
  type AppendOptions,
  type Binding,
  DEFAULT_LOCK_WAIT_MS,
  type Lease,
  type ListOptions,
  type ListResult,
  type SessionKey,
  type SessionSnapshot,
  type SessionStore,
} from '../core/store.js';
import { assertLeaseWait, leaseConflict, versionConflict } from './store-errors.js';
import { delay, LOCK_POLL_MS, pageOf, parseListOptions } from './store-kit.js';

interface MemorySession {
  namespace: string;
  sessionId: string;
  /**
   * Each append's items as one JSON array text: copied once on the way in, so later changes to the
   * caller's objects never reach the store, and serialized in one call per turn.
   */
  chunks: string[];
  version: number;
  bindings: Record<string, Binding>;
  createdAt: string;
  updatedAt: string;
}

/** Bindings are JSON data (they must survive a transcript file); a JSON copy is the cheap deep copy. */
function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

interface HeldLease {
  token: string;
  expiresAt: number;
}

/** A store in this process's memory: the default, and the reference the conformance suite checks. */
export function memoryStore(): SessionStore {
  const sessions = new Map<string, MemorySession>();
  const leases = new Map<string, HeldLease>();
  let closed = false;
  // The namespace's length first: distinct pairs can never produce the same key.
  const keyOf = (key: SessionKey) => `${String(key.namespace).length}:${key.namespace}:${key.sessionId}`;
  const ensureOpen = () => {
    if (closed)
      throw new CloudhopError('store_unavailable', 'This memoryStore was closed; create a new one.');
  };

  function leaseHolds(mapKey: string, token: string): boolean {
    const held = leases.get(mapKey);
    return held !== undefined && held.token === token && held.expiresAt > Date.now();
  }

  return {
    processLocal: true,
    async load(key) {
      ensureOpen();
      const session = sessions.get(keyOf(key));
      if (!session) return undefined;
      const items: Item[] = [];
      for (const chunk of session.chunks) for (const item of JSON.parse(chunk) as Item[]) items.push(item);
      const snapshot: SessionSnapshot = {
        items,
        version: session.version,
        bindings: copy(session.bindings),
        meta: { createdAt: session.createdAt, updatedAt: session.updatedAt },
      };
      return snapshot;
    },

    async append(key, items, options: AppendOptions) {
      ensureOpen();
      const mapKey = keyOf(key);
      const existing = sessions.get(mapKey);
      const version = existing?.version ?? 0;
      if (options.lease && !leaseHolds(mapKey, options.lease.token)) throw leaseConflict(key);
      if (version !== options.expectedVersion) throw versionConflict(key, options.expectedVersion, version);
      const now = nowIso();
      const session = existing ?? {
        namespace: key.namespace,
        sessionId: key.sessionId,
        chunks: [],
        version: 0,
        bindings: {},
        createdAt: now,
        updatedAt: now,
      };
      if (items.length > 0) {
        session.chunks.push(JSON.stringify(items));
        session.version += items.length;
      }
      if (options.binding) session.bindings[options.binding.runtimeId] = copy(options.binding);
      session.updatedAt = now;
      sessions.set(mapKey, session);
      return session.version;
    },

    async lock(key, ttlMs, options = {}) {
      ensureOpen();
      const mapKey = keyOf(key);
      const waitMs = assertLeaseWait(ttlMs, options.waitMs ?? DEFAULT_LOCK_WAIT_MS);
      const deadline = Date.now() + waitMs;
      for (;;) {
        const held = leases.get(mapKey);
        if (!held || held.expiresAt <= Date.now()) {
          const token = newId();
          leases.set(mapKey, { token, expiresAt: Date.now() + ttlMs });
          const lease: Lease = {
            token,
            release: async () => {
              if (leases.get(mapKey)?.token === token) leases.delete(mapKey);
            },
          };
          return lease;
        }
        if (Date.now() >= deadline) throw leaseConflict(key, waitMs);
        await delay(Math.min(LOCK_POLL_MS, Math.max(1, deadline - Date.now())));
      }
    },

    async delete(key) {
      ensureOpen();
      sessions.delete(keyOf(key));
      leases.delete(keyOf(key));
    },

    async list(options: ListOptions = {}): Promise<ListResult> {
      ensureOpen();
      const { namespace, limit, cursor } = parseListOptions(options);
      const ids: string[] = [];
      for (const session of sessions.values()) {
        if (session.namespace === namespace && session.sessionId > cursor) ids.push(session.sessionId);
      }
      // One id past the page tells pageOf whether there is a next page.
      return pageOf(ids.sort().slice(0, limit + 1), limit);
    },

    async close() {
      closed = true;
      sessions.clear();
      leases.clear();
    },
  };
}
