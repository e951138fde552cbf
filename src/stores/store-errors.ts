import { abortError, CloudhopError } from '../core/errors.js';
import { failConfig } from '../core/options.js';
import { type SessionKey, sessionLabel } from '../core/store.js';

/** Errors every store raises with the same codes and wording. */

export { sessionLabel };

export function versionConflict(key: SessionKey, expected: number, actual: number): CloudhopError {
  return new CloudhopError(
    'store_conflict',
    `The ${sessionLabel(key)} is at version ${actual}, not the expected ${expected}: another writer got there first. Reload it and retry.`,
    { retryable: true },
  );
}

export function leaseConflict(key: SessionKey, waitedMs?: number): CloudhopError {
  const message =
    waitedMs === undefined
      ? `The lease on ${sessionLabel(key)} expired or was taken over; nothing was written. Take a new lease and retry.`
      : `The ${sessionLabel(key)} stayed locked by another turn for ${waitedMs} ms. Retry later or raise waitMs.`;
  return new CloudhopError('store_conflict', message, { retryable: true });
}

/** What a store throws when the caller's signal ends its wait (see abortError). */
export function abortedWait(signal: AbortSignal, what: string): CloudhopError {
  return abortError(
    signal,
    `Stopped ${what}: the AbortSignal fired. Nothing was written; the session is as it was.`,
  );
}

export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw abortedWait(signal, what);
}

/**
 * Where a durable store keeps an item it read: the item's position in the session (none for a copy
 * kept beside the log, like Redis's latest summary) and the row, in the store's own words.
 */
export interface StoredPlace {
  position?: number;
  row: string;
}

/**
 * A stored item that is not an item any more (its row was changed outside cloudhop): every turn on
 * the session would fail on it, so the read fails here, naming the row and how to mend it.
 */
export function invalidStoredItem(
  key: SessionKey,
  place: StoredPlace,
  problem: string,
  fieldPath: string,
): CloudhopError {
  const { position } = place;
  const [base, what] =
    position === undefined
      ? ['summary', 'an invalid latest summary']
      : [`items.${position}`, `an invalid item at position ${position}`];
  return new CloudhopError(
    'transcript_invalid',
    `The ${sessionLabel(key)} holds ${what} (${problem}${fieldPath ? ` at "${fieldPath}"` : ''}): it was changed outside cloudhop. Replace ${place.row} with a valid item, or delete the session; until then no turn on this session can run.`,
    { path: fieldPath ? `${base}.${fieldPath}` : base },
  );
}

export function assertLeaseTtl(ttlMs: number, call: 'lock' | 'renew'): void {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    failConfig(`${call} ttlMs must be a positive number of milliseconds (got ${ttlMs}).`);
  }
}

export function assertLeaseWait(ttlMs: number, waitMs: number): number {
  assertLeaseTtl(ttlMs, 'lock');
  if (!Number.isFinite(waitMs) || waitMs < 0) {
    failConfig(`lock waitMs must be zero or a positive number (got ${waitMs}).`);
  }
  return waitMs;
}
