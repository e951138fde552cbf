import type { AgentEvent, RunResult } from '../core/events.js';

/** What `agent.stream()` returns: the turn's events as they happen, and the final result. */
export interface AgentStream<Output = unknown> extends AsyncIterable<AgentEvent> {
  /** Resolves with the same result `run()` would give; rejects with the turn's CloudhopError. */
  readonly result: Promise<RunResult<Output>>;
}

function ignore(): void {}

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
  // The consumer waiting in next(), if any: events are handed to it directly.
  let waiting:
    | { resolve: (step: IteratorResult<AgentEvent>) => void; reject: (error: unknown) => void }
    | undefined;

  const settle = () => {
    const consumer = waiting;
    if (!consumer) return;
    waiting = undefined;
    if (failure !== undefined) consumer.reject(failure);
    else consumer.resolve({ value: undefined, done: true });
  };

  const result = run((event) => {
    const consumer = waiting;
    if (consumer) {
      waiting = undefined;
      consumer.resolve({ value: event, done: false });
    } else {
      buffered.push(event);
    }
  }).then(
    (value) => {
      finished = true;
      settle();
      return value;
    },
    (error: unknown) => {
      finished = true;
      failure = error;
      settle();
      throw error;
    },
  );
  // A consumer that only iterates still sees the error there; keep it from also being unhandled.
  result.catch(ignore);

  return {
    result,
    // A plain iterator rather than an async generator: every event costs one promise, not several.
    [Symbol.asyncIterator](): AsyncIterator<AgentEvent> {
      return {
        next() {
          if (buffered.length > 0) return Promise.resolve({ value: buffered.shift()!, done: false });
          if (finished) {
            return failure === undefined
              ? Promise.resolve({ value: undefined, done: true })
              : Promise.reject(failure);
          }
          return new Promise((resolve, reject) => {
            waiting = { resolve, reject };
          });
        },
      };
    },
  };
}
