import type { AgentEvent, RunResult } from '../core/events.js';

/** What `agent.stream()` returns: the turn's events as they happen, and the final result. */
export interface AgentStream<Output = unknown> extends AsyncIterable<AgentEvent> {
  /** Resolves with the same result `run()` would give; rejects with the turn's CloudhopError. */
  readonly result: Promise<RunResult<Output>>;
}

/**
 * Buffers events from a running turn for one consumer. The turn runs whether or not anyone
 * iterates; iteration ends after `turn-finish`, or throws the turn's error.
 */
export function createEventStream<Output>(
  run: (emit: (event: AgentEvent) => void) => Promise<RunResult<Output>>,
): AgentStream<Output> {
  const buffered: AgentEvent[] = [];
  let finished = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };

  const result = run((event) => {
    buffered.push(event);
    notify();
  }).then(
    (value) => {
      finished = true;
      notify();
      return value;
    },
    (error: unknown) => {
      finished = true;
      failure = error;
      notify();
      throw error;
    },
  );
  // A consumer that only iterates still sees the error there; keep it from also being unhandled.
  result.catch(() => {});

  return {
    result,
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (buffered.length > 0) {
          yield buffered.shift()!;
          continue;
        }
        if (finished) {
          if (failure !== undefined) throw failure;
          return;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
  };
}
