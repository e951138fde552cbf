import { CloudhopError, messageOf } from '../core/errors.js';
import type { Lease, SessionKey } from '../core/store.js';
import { sessionLabel } from '../stores/store-errors.js';

/** Keeps a turn's session lease alive while the turn runs, and says when it was lost. */
export interface LeaseKeeper {
  /** The error to stop the turn with once the lease is lost (or surely expired); else undefined. */
  lost(): CloudhopError | undefined;
  stop(): void;
}

const NOTHING_TO_KEEP: LeaseKeeper = { lost: () => undefined, stop: () => {} };

/**
 * Renews the lease every `ttlMs / 3`, so a slow tool or model keeps it. A renewal the store refuses
 * means another process took the session over; renewals that fail for another reason (a store
 * that is briefly down) are tried again, but once `ttlMs` has passed since the last confirmed
 * renewal the lease has expired for certain. A store whose leases cannot renew is left as it is.
 */
export function keepLease(
  lease: Lease,
  ttlMs: number,
  key: SessionKey,
  /** When the lease was asked for: it lasts ttlMs from about then. */
  requestedAt: number,
  log?: (line: string) => void,
): LeaseKeeper {
  const renew = lease.renew?.bind(lease);
  if (!renew) return NOTHING_TO_KEEP;
  let confirmedAt = requestedAt;
  let refused: unknown;
  let renewing = false;
  const renewNow = () => {
    if (renewing) return;
    renewing = true;
    const started = Date.now();
    renew(ttlMs).then(
      () => {
        confirmedAt = started;
        renewing = false;
      },
      (error: unknown) => {
        renewing = false;
        log?.(`lease renewal failed: ${CloudhopError.is(error) ? error.code : messageOf(error)}`);
        if (CloudhopError.is(error, 'store_conflict')) {
          refused = error;
          clearInterval(timer);
        }
      },
    );
  };
  const every = Math.max(1, Math.floor(ttlMs / 3));
  const timer = setInterval(renewNow, every);
  // A lease that took long to get is confirmed at once: until then only the time it was asked for
  // is known, and the first timed renewal would come too late to keep lost() from firing.
  if (Date.now() - requestedAt >= every) renewNow();
  // A turn that is still running keeps the process alive by itself; the renewal timer must not.
  timer.unref?.();

  return {
    lost() {
      if (refused === undefined && Date.now() - confirmedAt < ttlMs) return undefined;
      return new CloudhopError(
        'store_conflict',
        `The lease on ${sessionLabel(key)} was lost while the turn ran (${refused === undefined ? `not renewed for lockTtlMs, ${ttlMs} ms` : 'another process took it over'}); the turn stopped and committed nothing. Retry it; raise lockTtlMs if the store is slow.`,
        { retryable: true, ...(refused === undefined ? {} : { cause: refused }) },
      );
    },
    stop() {
      clearInterval(timer);
    },
  };
}
