import type { Item } from './items.js';

/** Identifies a session in a store. Stores must never mix two keys that differ in any character. */
export interface SessionKey {
  namespace: string;
  sessionId: string;
}

export const DEFAULT_NAMESPACE = 'default';

/** What a stateful runtime holds on its server for a session. */
export interface RemoteHandle {
  responseId?: string;
  conversationId?: string;
}

/** What a stateful runtime needs to resume: its remote handle and how much of the transcript it has seen. */
export interface Binding {
  runtimeId: string;
  remote: RemoteHandle;
  /** The session version (number of items) the remote side had seen when this binding was written. */
  syncedVersion: number;
}

export interface SessionSnapshot {
  items: Item[];
  /** Number of items in the session; every appended item raises it by one. */
  version: number;
  /** Bindings keyed by runtime id. */
  bindings: Record<string, Binding>;
  meta?: { createdAt?: string; updatedAt?: string };
}

export interface Lease {
  token: string;
  release(): Promise<void>;
}

export interface AppendOptions {
  expectedVersion: number;
  binding?: Binding;
  /** When given, the append is refused (store_conflict) if this lease expired or was taken over. */
  lease?: Lease;
}

export interface ListOptions {
  namespace?: string;
  cursor?: string;
  limit?: number;
}

export interface ListResult {
  ids: string[];
  cursor?: string;
}

/**
 * Persists sessions as an append-only log of items plus a version and the runtimes' bindings.
 * `append` is atomic: it checks `expectedVersion`, writes items and binding together, and throws
 * `store_conflict` (writing nothing) on a mismatch or a lost lease.
 */
export interface SessionStore {
  /**
   * Optional capability: true when sessions live in this process only (memoryStore). Turns are then
   * serialized by the agent's in-process queue alone and take no lease.
   */
  readonly processLocal?: boolean;
  load(key: SessionKey): Promise<SessionSnapshot | undefined>;
  append(key: SessionKey, items: Item[], options: AppendOptions): Promise<number>;
  lock(key: SessionKey, ttlMs: number, options?: { waitMs?: number }): Promise<Lease>;
  delete(key: SessionKey): Promise<void>;
  list(options?: ListOptions): Promise<ListResult>;
  close(): Promise<void>;
}

export const DEFAULT_LOCK_WAIT_MS = 30_000;
