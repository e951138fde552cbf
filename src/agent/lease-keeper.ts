import { CloudhopError, describeThrown } from '../core/errors.js';
import { type Lease, type SessionKey, type SessionStore, sessionLabel } from '../core/store.js';
import { bounded } from './turn-signal.js';

/** Keeps a turn's session lease alive while the turn runs, says when it was lost, and frees it. */
export interface LeaseKeeper {
  /** The error to stop the turn with once the lease is lost (or surely expired); else undefined. */
  lost(): CloudhopError | undefined;
  /**
   * Stops renewing and releases the lease. Never rejects; waits for the first attempt only
   * until `signal` fires. A release that fails is retried in the background (see `releaseLease`).
   */
  release(signal: AbortSignal, after?: Promise<unknown>): Promise<void>;
}

/** The release retries still pending for one store, and whether its agent closed it. */
interface ReleaseRetries {
  timers: Set<NodeJS.Timeout>;
  stopped: boolean;
}

/**
 * Per store: the retries belong to the store rather than to an agent, since every agent on a store
 * shares its sessions. Closing the store's agent stops them.
 */
const pendingReleases = new WeakMap<SessionStore, ReleaseRetries>();

function releaseRetriesOf(store: SessionStore): ReleaseRetries {
  let retries = pendingReleases.get(store);
  if (!retries) {
    retries = { timers: new Set(), stopped: false };
    pendingReleases.set(store, retries);
  }
  return retries;
}

/** Stops every release retry for `store`, pending or to come (its agent is closing it). */
export function stopReleaseRetries(store: SessionStore): void {
  const retries = releaseRetriesOf(store);
  retries.stopped = true;
  for (const timer of retries.timers) clearTimeout(timer);
  retries.timers.clear();
}

/** A failed lease call, for a debug line: its code when it is ours, else what was thrown. */
const whyFailed = (error: unknown) => (CloudhopError.is(error) ? error.code : describeThrown(error));

const FIRST_RELEASE_RETRY_MS = 50;
const MAX_RELEASE_RETRY_MS = 1_000;

/**
 * Releases `lease`. A release that fails (the store is briefly down) is tried again in the
 * background with backoff until it succeeds or the lease has lapsed by itself at `expiresAt`:
 * without that, a session would stay blocked for the rest of lockTtlMs once the store is back.
 * The returned promise settles with the first attempt and never rejects; no retry keeps the
 * process alive.
 */
export function releaseLease(
  store: SessionStore,
  lease: Lease,
  expiresAt: number,
  log?: (line: string) => void,
): Promise<void> {
  const retries = releaseRetriesOf(store);
  let delayMs = FIRST_RELEASE_RETRY_MS;
  const attempt = (): Promise<void> => {
    const releaseStart = log && performance.now();
    return Promise.resolve()
      .then(() => lease.release())
      .then(
        () => {
          if (log) log(`store release: ${Math.round(performance.now() - releaseStart!)} ms`);
        },
        (error: unknown) => {
          log?.(`lease release failed: ${whyFailed(error)}`);
          // A refused release means the lease is no longer ours: there is nothing left to free.
          if (retries.stopped || CloudhopError.is(error, 'store_conflict')) return;
          if (Date.now() + delayMs >= expiresAt) return;
          const timer = setTimeout(() => {
            retries.timers.delete(timer);
            void attempt();
          }, delayMs);
          timer.unref?.();
          retries.timers.add(timer);
          delayMs = Math.min(delayMs * 2, MAX_RELEASE_RETRY_MS);
        },
      );
  };
  return attempt();
}

function ignore(): void {}

/**
 * Renews the lease every `ttlMs / 3`, so a slow tool or model keeps it. A renewal the store refuses
 * means another process took the session over; renewals that fail for another reason (a store
 * that is briefly down) are tried again, but once `ttlMs` has passed since the last confirmed
 * renewal the lease has expired for certain. A store whose leases cannot renew is only released at
 * the end.
 */
export function keepLease(
  store: SessionStore,
  lease: Lease,
  ttlMs: number,
  key: SessionKey,
  /** When the lease was asked for: it lasts ttlMs from about then. */
  requestedAt: number,
  log?: (line: string) => void,
): LeaseKeeper {
  const renew = lease.renew?.bind(lease);
  let confirmedAt = requestedAt;
  let refused: unknown;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const every = Math.max(1, Math.floor(ttlMs / 3));
  // Every tick renews, even while an earlier renewal is pending: one that hangs (a frozen store)
  // must not hold back the next.
  const renewNow = () => {
    const started = Date.now();
    Promise.resolve()
      .then(() => renew!(ttlMs))
      .then(
        () => {
          confirmedAt = Math.max(confirmedAt, started);
        },
        (error: unknown) => {
          if (stopped) return;
          log?.(`lease renewal failed: ${whyFailed(error)}`);
          if (CloudhopError.is(error, 'store_conflict')) {
            refused = error;
            clearInterval(timer);
          }
        },
      );
  };
  if (renew) {
    timer = setInterval(renewNow, every);
    // A lease that took long to get is confirmed at once: until then only the time it was asked
    // for is known, and the first timed renewal would come too late to keep lost() from firing.
    if (Date.now() - requestedAt >= every) renewNow();
    // A turn that is still running keeps the process alive by itself; the renewal timer must not.
    timer.unref?.();
  }

  return {
    lost() {
      if (refused === undefined && Date.now() - confirmedAt < ttlMs) return undefined;
      return new CloudhopError(
        'store_conflict',
        `The lease on ${sessionLabel(key)} was lost while the turn ran (${refused === undefined ? `not renewed for lockTtlMs, ${ttlMs} ms` : 'another process took it over'}); the turn stopped and committed nothing. Retry it; raise lockTtlMs if the store is slow.`,
        { retryable: true, ...(refused === undefined ? {} : { cause: refused }) },
      );
    },
    release(signal, after) {
      stopped = true;
      clearInterval(timer);
      const free = () => releaseLease(store, lease, confirmedAt + ttlMs, log);
      return bounded(after ? after.then(free, free) : free(), signal).then(ignore, ignore);
    },
  };
}
