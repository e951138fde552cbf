import { CloudhopError } from '../core/errors.js';
import { newId, nowIso } from '../core/ids.js';
import type { Item, SummaryItem } from '../core/items.js';
import {
  type AppendOptions,
  type Binding,
  DEFAULT_LOCK_WAIT_MS,
  keyString,
  type ListOptions,
  type ListResult,
  type SessionSnapshot,
  type SessionStore,
} from '../core/store.js';
import {
  assertLeaseTtl,
  assertLeaseWait,
  leaseConflict,
  sessionLabel,
  throwIfAborted,
  versionConflict,
} from './store-errors.js';
import {
  bindingsToWrite,
  lastSummaryIndex,
  pageOf,
  parseListOptions,
  parseLoadOptions,
  waitForLease,
} from './store-kit.js';

/**
 * The most items one chunk holds, so a window parses at most this many items besides its own,
 * also in a session imported in one append.
 */
const CHUNK_ITEMS = 64;

interface MemorySession {
  namespace: string;
  sessionId: string;
  /**
   * Each append's items as one JSON array text (split every CHUNK_ITEMS): copied once on the way
   * in, so later changes to the caller's objects never reach the store, and serialized in one call
   * per turn.
   */
  chunks: string[];
  /** The position of each chunk's first item, ascending: a window finds its first chunk by binary search. */
  chunkStarts: number[];
  /** The latest summary item's JSON text, so every load names it without looking through the log. */
  summary?: string;
  version: number;
  bindings: Record<string, Binding>;
  createdAt: string;
  updatedAt: string;
}

/** Bindings are JSON data (they must survive a transcript file); a JSON copy is the cheap deep copy. */
function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** The index of the chunk holding `position`: the last one starting at or before it. */
function chunkHolding(chunkStarts: readonly number[], position: number): number {
  let low = 0;
  let high = chunkStarts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (chunkStarts[middle]! <= position) low = middle;
    else high = middle - 1;
  }
  return low;
}

/** Parses only the chunks that hold positions `from` up to (not including) `end`. */
function itemsBetween(session: MemorySession, from: number, end: number): Item[] {
  const items: Item[] = [];
  if (from >= end) return items;
  for (let chunk = chunkHolding(session.chunkStarts, from); chunk < session.chunks.length; chunk++) {
    const start = session.chunkStarts[chunk]!;
    if (start >= end) break;
    const parsed = JSON.parse(session.chunks[chunk]!) as Item[];
    const last = Math.min(parsed.length, end - start);
    for (let index = Math.max(0, from - start); index < last; index++) items.push(parsed[index]!);
  }
  return items;
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
    appendsBindings: true,
    async load(key, options) {
      const { fromVersion, limit } = parseLoadOptions(options);
      ensureOpen();
      const session = sessions.get(keyString(key));
      if (!session) return undefined;
      const from = Math.min(fromVersion, session.version);
      const end = limit === undefined ? session.version : Math.min(session.version, from + limit);
      const snapshot: SessionSnapshot = {
        items: itemsBetween(session, from, end),
        version: session.version,
        bindings: copy(session.bindings),
        meta: { createdAt: session.createdAt, updatedAt: session.updatedAt },
        fromVersion: from,
      };
      if (session.summary !== undefined) snapshot.summary = JSON.parse(session.summary) as SummaryItem;
      return snapshot;
    },

    async append(key, items, options: AppendOptions) {
      ensureOpen();
      throwIfAborted(options.signal, `appending to ${sessionLabel(key)}`);
      const mapKey = keyString(key);
      const existing = sessions.get(mapKey);
      const version = existing?.version ?? 0;
      if (options.lease && !leaseHolds(mapKey, options.lease.token)) throw leaseConflict(key);
      if (version !== options.expectedVersion) throw versionConflict(key, options.expectedVersion, version);
      // Everything is serialized before the session changes: an item that cannot be written
      // leaves the session as it was.
      const chunks: string[] = [];
      for (let start = 0; start < items.length; start += CHUNK_ITEMS) {
        chunks.push(
          JSON.stringify(items.length <= CHUNK_ITEMS ? items : items.slice(start, start + CHUNK_ITEMS)),
        );
      }
      const summaryIndex = lastSummaryIndex(items);
      const summary = summaryIndex < 0 ? undefined : JSON.stringify(items[summaryIndex]);
      const bindings = bindingsToWrite(options).map(copy);
      const now = nowIso();
      const session: MemorySession = existing ?? {
        namespace: key.namespace,
        sessionId: key.sessionId,
        chunks: [],
        chunkStarts: [],
        version: 0,
        bindings: {},
        createdAt: now,
        updatedAt: now,
      };
      chunks.forEach((chunk, index) => {
        session.chunks.push(chunk);
        session.chunkStarts.push(session.version + index * CHUNK_ITEMS);
      });
      session.version += items.length;
      if (summary !== undefined) session.summary = summary;
      for (const binding of bindings) session.bindings[binding.runtimeId] = binding;
      session.updatedAt = now;
      sessions.set(mapKey, session);
      return session.version;
    },

    async lock(key, ttlMs, options = {}) {
      ensureOpen();
      const mapKey = keyString(key);
      const waitMs = assertLeaseWait(ttlMs, options.waitMs ?? DEFAULT_LOCK_WAIT_MS);
      return waitForLease(key, waitMs, options.signal, async () => {
        ensureOpen();
        const held = leases.get(mapKey);
        if (held && held.expiresAt > Date.now()) return undefined;
        const token = newId();
        leases.set(mapKey, { token, expiresAt: Date.now() + ttlMs });
        return {
          token,
          release: async () => {
            if (leases.get(mapKey)?.token === token) leases.delete(mapKey);
          },
          renew: async (renewTtlMs) => {
            assertLeaseTtl(renewTtlMs, 'renew');
            ensureOpen();
            if (!leaseHolds(mapKey, token)) throw leaseConflict(key);
            leases.set(mapKey, { token, expiresAt: Date.now() + renewTtlMs });
          },
        };
      });
    },

    async delete(key) {
      ensureOpen();
      sessions.delete(keyString(key));
      leases.delete(keyString(key));
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
