import type * as z from 'zod/v4';
import { type Item, itemSchema, type SummaryItem, summaryItemSchema } from '../core/items.js';
import { assertCount, FIRST_POSITION, failConfig, issuePath } from '../core/options.js';
import {
  type AppendOptions,
  type Binding,
  DEFAULT_NAMESPACE,
  type Lease,
  type ListOptions,
  type LoadOptions,
  type SessionKey,
} from '../core/store.js';
import { sleep } from '../runtime/retry.js';
import {
  abortedWait,
  invalidStoredItem,
  leaseConflict,
  type StoredPlace,
  sessionLabel,
  throwIfAborted,
} from './store-errors.js';

/**
 * A store's options name either what the store connects to or a handle the caller owns: exactly one
 * of the two, reported on the first.
 */
export function exactlyOneOf<S extends z.ZodObject>(
  schema: S,
  first: string,
  second: string,
  message: string,
) {
  return schema.refine(
    (options) =>
      ((options as Record<string, unknown>)[first] === undefined) !==
      ((options as Record<string, unknown>)[second] === undefined),
    { message, path: [first] },
  );
}

/** How often a waiting `lock()` asks again whether the lease is free. */
export const LOCK_POLL_MS = 15;

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits `ms`, or rejects as soon as `signal` fires (see abortedWait). */
export function pause(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
  return signal
    ? sleep(ms, signal).catch(() => {
        throw abortedWait(signal, what);
      })
    : delay(ms);
}

/**
 * The wait of every store's `lock`: asks `take` until it returns a lease, `waitMs` has passed
 * (store_conflict), or `signal` fires. A lease taken just as the signal fired is released again,
 * so an aborted lock never leaves the session locked.
 */
export async function waitForLease(
  key: SessionKey,
  waitMs: number,
  signal: AbortSignal | undefined,
  take: () => Promise<Lease | undefined>,
): Promise<Lease> {
  const what = `waiting for the lease on ${sessionLabel(key)}`;
  const deadline = Date.now() + waitMs;
  for (;;) {
    throwIfAborted(signal, what);
    const lease = await take();
    if (lease) {
      if (!signal?.aborted) return lease;
      // The lease expires by itself should this release fail.
      await lease.release().catch(() => {});
      throw abortedWait(signal, what);
    }
    if (Date.now() >= deadline) throw leaseConflict(key, waitMs);
    await pause(Math.min(LOCK_POLL_MS, Math.max(1, deadline - Date.now())), signal, what);
  }
}

/**
 * Runs `fn` once, caching its promise; a failure is not cached, so the next call tries again
 * (a store whose server was down at first use works once the server is back).
 */
export function onceUntilSuccess<T>(fn: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= fn().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

/**
 * Validates list() paging. The cursor is the last id of the previous page; no cursor means
 * "after the empty id", which every id (1 character or more) sorts after.
 */
export function parseListOptions(options: ListOptions): { namespace: string; limit: number; cursor: string } {
  const limit = options.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1)
    failConfig(`list limit must be a positive integer (got ${limit}).`);
  return { namespace: options.namespace ?? DEFAULT_NAMESPACE, limit, cursor: options.cursor ?? '' };
}

/** Turns one extra row fetched past the page into the cursor for the next page. */
export function pageOf(ids: string[], limit: number): { ids: string[]; cursor?: string } {
  if (ids.length <= limit) return { ids };
  const page = ids.slice(0, limit);
  return { ids: page, cursor: page[page.length - 1] };
}

/**
 * Validates load() options the same way in every store: positions and counts are whole numbers,
 * 0 or more. A window past the end is not an error; it is empty.
 */
export function parseLoadOptions(options: LoadOptions | undefined): { fromVersion: number; limit?: number } {
  const fromVersion = options?.fromVersion ?? 0;
  const limit = options?.limit;
  assertCount('load', 'fromVersion', fromVersion, FIRST_POSITION);
  if (limit === undefined) return { fromVersion };
  assertCount('load', 'limit', limit, '; leave it out to read to the end');
  return { fromVersion, limit };
}

/** The last summary among items being appended: the one a store keeps as the session's latest. */
export function lastSummaryIndex(items: readonly Item[]): number {
  for (let index = items.length - 1; index >= 0; index--) if (items[index]!.type === 'summary') return index;
  return -1;
}

/** Every binding an append writes, in the order they apply: `bindings`, then `binding`. */
export function bindingsToWrite(options: AppendOptions): Binding[] {
  const { binding, bindings } = options;
  if (!bindings?.length) return binding ? [binding] : [];
  return binding ? [...bindings, binding] : bindings;
}

/**
 * One item as a durable store read it back (a parsed row), checked against the item schema: a row
 * changed outside cloudhop is reported here as transcript_invalid, naming the session, the
 * position and the row, instead of failing every later turn somewhere deeper.
 */
export function storedItem(value: unknown, key: SessionKey, place: StoredPlace): Item {
  return checkedStoredItem(itemSchema, value, key, place);
}

/** The item a store keeps as the session's latest summary, checked like storedItem. */
export function storedSummary(value: unknown, key: SessionKey, place: StoredPlace): SummaryItem {
  return checkedStoredItem(summaryItemSchema, value, key, place);
}

/** Parses a row kept as JSON text and checks it as an item (see storedItem). */
export function parseStoredItem(text: string, key: SessionKey, place: StoredPlace): Item {
  return storedItem(parseRow(text, key, place), key, place);
}

export function parseStoredSummary(text: string, key: SessionKey, place: StoredPlace): SummaryItem {
  return storedSummary(parseRow(text, key, place), key, place);
}

function parseRow(text: string, key: SessionKey, place: StoredPlace): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalidStoredItem(key, place, 'not JSON', '');
  }
}

function checkedStoredItem<T extends Item>(
  schema: z.ZodType<T>,
  value: unknown,
  key: SessionKey,
  place: StoredPlace,
): T {
  const checked = schema.safeParse(value);
  // The row as it was read, not zod's copy of it: what was stored comes back exactly.
  if (checked.success) return value as T;
  const issue = checked.error.issues[0]!;
  throw invalidStoredItem(key, place, issue.message, issuePath(issue));
}
