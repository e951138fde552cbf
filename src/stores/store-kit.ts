import type * as z from 'zod/v4';
import type { Item } from '../core/items.js';
import { assertCount, FIRST_POSITION, failConfig } from '../core/options.js';
import { DEFAULT_NAMESPACE, type ListOptions, type LoadOptions } from '../core/store.js';

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
