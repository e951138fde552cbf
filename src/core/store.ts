import type { Item, SummaryItem } from './items.js';

/** Identifies a session in a store. Stores must never mix two keys that differ in any character. */
export interface SessionKey {
  namespace: string;
  sessionId: string;
}

export const DEFAULT_NAMESPACE = 'default';

/**
 * A session key as one string, for in-process maps. The namespace's length comes first, so that
 * distinct pairs never produce the same string, whatever characters they hold.
 */
export function keyString(key: SessionKey): string {
  return `${String(key.namespace).length}:${key.namespace}:${key.sessionId}`;
}

/** How every error message names a session. */
export function sessionLabel(key: SessionKey): string {
  return `session "${key.sessionId}" (namespace "${key.namespace}")`;
}

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
  /**
   * The size of the server-held context in tokens after the last step, as the provider reported
   * it; the agent rebases a remote session that grew past the context budget.
   */
  contextTokens?: number;
}

/** Which part of the log `load` reads. Positions count from 0, the session's first item. */
export interface LoadOptions {
  /** The position of the first item to read; default 0. At or past the end: no items (an empty window). */
  fromVersion?: number;
  /** Read at most this many items from `fromVersion` on; 0 reads only the head (version, bindings, summary). */
  limit?: number;
  /**
   * The turn's signal. A store may stop waiting (a busy file, a retry) once it fires; the agent
   * stops waiting for the store either way.
   */
  signal?: AbortSignal;
}

export interface SessionSnapshot {
  /** The items of the window: positions `fromVersion` on (at most `limit` of them). */
  items: Item[];
  /** Number of items in the session; every appended item raises it by one. */
  version: number;
  /** Bindings keyed by runtime id. */
  bindings: Record<string, Binding>;
  meta?: { createdAt?: string; updatedAt?: string };
  /**
   * The position of `items[0]`. A store that ignores `LoadOptions` leaves it out and returns every
   * item; that still works (the agent then takes the window itself), only slower.
   */
  fromVersion?: number;
  /** The session's latest summary item, wherever it lies (inside the window or before it). */
  summary?: SummaryItem;
}

export interface Lease {
  token: string;
  /**
   * Frees the lease if this holder still has it. Idempotent: a second call, or a retry after a call
   * that failed, is safe and never frees a lease another holder took since.
   */
  release(): Promise<void>;
  /**
   * Optional capability: extends the lease to `ttlMs` from now. Rejects with `store_conflict` when
   * the lease was lost (it expired, was released, or another holder took it over).
   */
  renew?(ttlMs: number): Promise<void>;
}

export interface AppendOptions {
  expectedVersion: number;
  binding?: Binding;
  /**
   * More bindings written in the same atomic append (an import carries one per runtime), in order,
   * before `binding`: for one runtime id the last one given wins. Only a store that declares
   * `appendsBindings` writes them.
   */
  bindings?: Binding[];
  /** When given, the append is refused (store_conflict) if this lease expired or was taken over. */
  lease?: Lease;
  /** The turn's signal: a store that has not started writing when it fires writes nothing. */
  signal?: AbortSignal;
}

export interface LockOptions {
  waitMs?: number;
  /** The turn's signal: a store stops waiting for the lease once it fires (and holds no lease then). */
  signal?: AbortSignal;
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
 * `append` is atomic: it checks `expectedVersion`, writes items and bindings together, and throws
 * `store_conflict` (writing nothing) on a mismatch or a lost lease.
 */
export interface SessionStore {
  /**
   * Optional capability: true when sessions live in this process only (memoryStore). Turns are then
   * serialized by the agent's in-process queue alone and take no lease.
   */
  readonly processLocal?: boolean;
  /**
   * Optional capability: true when `append` writes `AppendOptions.bindings` with the items in the
   * same atomic operation. `importSession` refuses a transcript with several bindings (writing
   * nothing) for a store without it, rather than lose bindings the store would ignore.
   */
  readonly appendsBindings?: boolean;
  /** The head (version, bindings, latest summary) and a window of items; undefined for a session never written. */
  load(key: SessionKey, options?: LoadOptions): Promise<SessionSnapshot | undefined>;
  append(key: SessionKey, items: Item[], options: AppendOptions): Promise<number>;
  lock(key: SessionKey, ttlMs: number, options?: LockOptions): Promise<Lease>;
  delete(key: SessionKey): Promise<void>;
  list(options?: ListOptions): Promise<ListResult>;
  close(): Promise<void>;
}

export const DEFAULT_LOCK_WAIT_MS = 30_000;

/**
 * The window `options` asked for, whatever the store returned: a store that ignores `LoadOptions`
 * returns every item (with `fromVersion` 0 or none, and no `summary`), so the window and the summary
 * are taken here. Bundled stores return the window already, and this only checks it.
 */
export function windowOf(
  snapshot: SessionSnapshot,
  options: LoadOptions,
): SessionSnapshot & { fromVersion: number } {
  const returnedFrom = snapshot.fromVersion ?? 0;
  const wantedFrom = Math.min(options.fromVersion ?? 0, snapshot.version);
  let items = snapshot.items;
  let summary = snapshot.summary;
  // A store that honours the options names the summary; one that does not may still return it
  // among the items, and the newest one there is then the latest (a summary before them it would
  // have named).
  summary ??= items.findLast((item): item is SummaryItem => item.type === 'summary');
  const from = Math.max(returnedFrom, wantedFrom);
  if (from > returnedFrom) items = items.slice(from - returnedFrom);
  if (options.limit !== undefined && items.length > options.limit) items = items.slice(0, options.limit);
  const window: SessionSnapshot & { fromVersion: number } = {
    items,
    version: snapshot.version,
    bindings: snapshot.bindings,
    fromVersion: from,
  };
  if (snapshot.meta) window.meta = snapshot.meta;
  if (summary) window.summary = summary;
  return window;
}
