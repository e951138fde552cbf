import { abortError, CloudhopError, messageOf } from '../core/errors.js';
import type { Runtime, StepContext, StepRequest, StepResult } from './runtime.js';

export interface RetryPolicy {
  /** Retries after the first attempt (so maxRetries 2 means at most 3 attempts). */
  maxRetries: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** A server's retry-after above this is capped to it. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 2,
  initialDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
};

type HeaderSource = Headers | Record<string, string | string[] | undefined> | undefined | null;

function header(headers: HeaderSource, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Reads a server's requested delay: `retry-after-ms`, then `x-ms-retry-after-ms`, then
 * `retry-after` in seconds or as an HTTP date. Undefined when none is usable.
 */
export function parseRetryAfter(headers: HeaderSource, now = Date.now()): number | undefined {
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const value = header(headers, name);
    if (value !== undefined && value.trim() !== '') {
      const ms = Number(value);
      if (Number.isFinite(ms) && ms >= 0) return ms;
    }
  }
  const retryAfter = header(headers, 'retry-after')?.trim();
  if (!retryAfter) return undefined;
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Full-jitter exponential backoff, or the server's delay when it gave one. */
export function retryDelay(policy: RetryPolicy, retryIndex: number, error: CloudhopError): number {
  if (error.retryAfterMs !== undefined) return Math.min(error.retryAfterMs, policy.maxRetryAfterMs);
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** retryIndex);
  return Math.round(Math.random() * ceiling);
}

/**
 * The signal of a turn that nothing can abort, shared by all such turns. It never fires, so the
 * listeners that vendor clients add to it (and never remove) are dropped instead of piling up, and
 * a runtime may skip the work of watching it.
 */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;
NEVER_ABORTED.addEventListener = () => {};

export { abortError };

/**
 * Settles with `promise`, or rejects with the abort error as soon as `signal` fires. Work that
 * completes after the abort is handed to `onLate` (e.g. to release a lease that arrived too late).
 */
export function abortable<T>(
  promise: Promise<T>,
  signal: AbortSignal,
  onLate?: (value: T) => void,
): Promise<T> {
  if (signal.aborted) {
    promise.then(onLate, () => {});
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      reject(abortError(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (aborted) onLate?.(value);
        else resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Waits `ms`, or rejects with the abort error as soon as `signal` fires (and stops the timer). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return abortable(elapsed, signal).finally(() => clearTimeout(timer));
}

export interface AttemptOptions {
  policy: RetryPolicy;
  /** The turn's signal (caller abort or turn timeout). */
  signal: AbortSignal;
  /** Per-attempt timeout. */
  timeoutMs?: number;
  runtimeId?: string;
  /** Whether another attempt is still safe (false once a stream has shown partial output). */
  canRetry?: () => boolean;
  onRetry?: (event: { attempt: number; delayMs: number; error: CloudhopError }) => void;
}

function asCloudhopError(error: unknown, runtimeId: string | undefined): CloudhopError {
  if (error instanceof CloudhopError) return error;
  return new CloudhopError('provider_error', `The runtime failed unexpectedly: ${messageOf(error)}`, {
    cause: error,
    runtimeId,
  });
}

/**
 * The signals linked to each outer signal. An outer signal gets one listener however many signals
 * share it: one listener each would pass Node's limit of 10 (MaxListenersExceededWarning) as soon as
 * an application runs its turns under one AbortController.
 */
const linkedTo = new WeakMap<AbortSignal, { linked: Set<AbortController>; onAbort: () => void }>();

function link(outer: AbortSignal, controller: AbortController): () => void {
  if (outer.aborted) {
    controller.abort(outer.reason);
    return () => {};
  }
  let entry = linkedTo.get(outer);
  if (!entry) {
    const linked = new Set<AbortController>();
    const onAbort = () => {
      linkedTo.delete(outer);
      for (const each of linked) each.abort(outer.reason);
    };
    entry = { linked, onAbort };
    linkedTo.set(outer, entry);
    outer.addEventListener('abort', onAbort, { once: true });
  }
  const { linked, onAbort } = entry;
  linked.add(controller);
  return () => {
    if (!linked.delete(controller) || linked.size > 0) return;
    linkedTo.delete(outer);
    outer.removeEventListener('abort', onAbort);
  };
}

/**
 * A signal that fires when `outer` does (with its reason) or once `timeoutMs` has passed (with the
 * error `onTimeout` makes); `dispose` unlinks it from both.
 */
export function linkedSignal(
  outer: AbortSignal | undefined,
  timeoutMs: number | undefined,
  onTimeout: () => CloudhopError,
): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const unlink = outer && link(outer, controller);
  const timer =
    timeoutMs === undefined ? undefined : setTimeout(() => controller.abort(onTimeout()), timeoutMs);
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      unlink?.();
    },
  };
}

/**
 * One step on `runtime` with the policy's retries; `options.timeoutMs` bounds each attempt and is
 * passed on to the runtime. `beforeAttempt` runs before every attempt.
 */
export function stepWithRetry(
  runtime: Runtime,
  request: StepRequest,
  emit: StepContext['emit'],
  options: AttemptOptions,
  beforeAttempt?: () => void,
): Promise<StepResult> {
  return withRetry((signal) => {
    beforeAttempt?.();
    const context: StepContext = { signal, emit };
    if (options.timeoutMs !== undefined) context.timeoutMs = options.timeoutMs;
    return runtime.step(request, context);
  }, options);
}

export async function withRetry<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  options: AttemptOptions,
): Promise<T> {
  for (let retryIndex = 0; ; retryIndex++) {
    if (options.signal.aborted) throw abortError(options.signal);
    // Without a per-attempt timeout the turn's own signal serves every attempt.
    const timeoutMs = options.timeoutMs;
    const timed =
      timeoutMs === undefined
        ? undefined
        : linkedSignal(
            options.signal,
            timeoutMs,
            () =>
              new CloudhopError(
                'timeout',
                `No complete answer within timeoutMs (${timeoutMs} ms). Raise timeoutMs or check the endpoint.`,
                { runtimeId: options.runtimeId },
              ),
          );
    const signal = timed?.signal ?? options.signal;
    let error: CloudhopError;
    try {
      return await attempt(signal);
    } catch (caught) {
      error = signal.aborted ? abortError(signal) : asCloudhopError(caught, options.runtimeId);
    } finally {
      timed?.dispose();
    }
    if (options.signal.aborted) throw abortError(options.signal);
    const mayRetry =
      error.retryable && retryIndex < options.policy.maxRetries && (options.canRetry?.() ?? true);
    if (!mayRetry) throw error;
    const delayMs = retryDelay(options.policy, retryIndex, error);
    options.onRetry?.({ attempt: retryIndex + 1, delayMs, error });
    await sleep(delayMs, options.signal);
  }
}
