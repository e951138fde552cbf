import { CloudhopError } from '../core/errors.js';
import { abortable, NEVER_ABORTED } from '../runtime/retry.js';

/**
 * The turns currently linked to each caller signal. A caller signal gets one listener however many
 * turns share it: one listener per turn would pass Node's limit of 10 (MaxListenersExceededWarning)
 * as soon as an application runs its turns under one AbortController.
 */
const linkedTurns = new WeakMap<AbortSignal, { turns: Set<AbortController>; onAbort: () => void }>();

function linkToCaller(caller: AbortSignal, turn: AbortController): () => void {
  if (caller.aborted) {
    turn.abort(caller.reason);
    return () => {};
  }
  let link = linkedTurns.get(caller);
  if (!link) {
    const turns = new Set<AbortController>();
    const onAbort = () => {
      linkedTurns.delete(caller);
      for (const linked of turns) linked.abort(caller.reason);
    };
    link = { turns, onAbort };
    linkedTurns.set(caller, link);
    caller.addEventListener('abort', onAbort, { once: true });
  }
  const { turns, onAbort } = link;
  turns.add(turn);
  return () => {
    if (!turns.delete(turn) || turns.size > 0) return;
    linkedTurns.delete(caller);
    caller.removeEventListener('abort', onAbort);
  };
}

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
  const controller = new AbortController();
  const unlink = caller && linkToCaller(caller, controller);
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(
          () =>
            controller.abort(
              new CloudhopError(
                'timeout',
                `The turn ran past timeoutMs (${timeoutMs} ms); nothing was committed. Raise the turn's timeoutMs or lower maxSteps.`,
                { retryable: false },
              ),
            ),
          timeoutMs,
        );
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      unlink?.();
    },
  };
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
