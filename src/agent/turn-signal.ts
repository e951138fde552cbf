import { CloudhopError } from '../core/errors.js';
import { abortable, linkedSignal, NEVER_ABORTED } from '../runtime/retry.js';

const UNABORTABLE_TURN = { signal: NEVER_ABORTED };

/**
 * One signal per turn, never the caller's own: vendor clients add an abort listener to the signal of
 * every request and never remove it, so a long-lived signal would collect them turn after turn. It
 * fires when the caller's signal does (with its reason) or once `timeoutMs` has passed; `dispose`
 * unlinks it from both.
 */
export function turnSignal(
  caller: AbortSignal | undefined,
  timeoutMs: number | undefined,
): { signal: AbortSignal; dispose?: () => void } {
  if (caller === undefined && timeoutMs === undefined) return UNABORTABLE_TURN;
  return linkedSignal(
    caller,
    timeoutMs,
    () =>
      new CloudhopError(
        'timeout',
        `The turn ran past timeoutMs (${timeoutMs} ms); nothing was committed. Raise the turn's timeoutMs or lower maxSteps.`,
        { retryable: false },
      ),
  );
}

/** Whether anything can abort a turn with this signal. */
export const canAbort = (signal: AbortSignal | undefined): signal is AbortSignal =>
  signal !== undefined && signal !== NEVER_ABORTED;

/**
 * `work`, which the turn stops waiting for once its signal fires (rejecting with the turn's abort
 * error): whatever a turn awaits — a store, a schema, a tool — cannot hold it past an abort or its
 * timeout. A turn that nothing can abort awaits `work` itself, with no promise around it.
 */
export function bounded<T>(
  work: Promise<T>,
  signal: AbortSignal | undefined,
  onLate?: (value: T) => void,
): Promise<T> {
  return canAbort(signal) ? abortable(work, signal, onLate) : work;
}
