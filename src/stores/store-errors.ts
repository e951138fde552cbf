import { CloudhopError } from '../core/errors.js';
import { failConfig } from '../core/options.js';
import type { SessionKey } from '../core/store.js';

/** Errors every store raises with the same codes and wording. */

export function sessionLabel(key: SessionKey): string {
  return `session "${key.sessionId}" (namespace "${key.namespace}")`;
}

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
