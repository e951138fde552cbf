import type { AgentEvent, RunResult } from '../core/events.js';

/** What `agent.stream()` returns: the turn's events as they happen, and the final result. */
export interface AgentStream<Output = unknown> extends AsyncIterable<AgentEvent> {
  /** Resolves with the same result `run()` would give; rejects with the turn's CloudhopError. */
  readonly result: Promise<RunResult<Output>>;
}

function ignore(): void {}

/**
 * Buffers events from a running turn for one consumer. The turn runs whether or not anyone
 * iterates; iteration ends after `turn-finish`, or throws the turn's error. The stream is its own
 * iterator (a class, not an async generator): each event costs one promise, not several.
 */
class EventStream<Output> implements AgentStream<Output>, AsyncIterator<AgentEvent> {
  readonly result: Promise<RunResult<Output>>;
  private readonly buffered: AgentEvent[] = [];
  private finished = false;
  private failure: unknown;
  /** The consumer waiting in next(), if any: events are handed to it directly. */
  private waiting?: { resolve: (step: IteratorResult<AgentEvent>) => void; reject: (error: unknown) => void };

  constructor(run: (emit: (event: AgentEvent) => void) => Promise<RunResult<Output>>) {
    this.result = run((event) => this.push(event)).then(
      (value) => {
        this.finish(undefined);
        return value;
      },
      (error: unknown) => {
        this.finish(error);
        throw error;
      },
    );
    // A consumer that only iterates still sees the error there; keep it from also being unhandled.
    this.result.catch(ignore);
  }

  private push(event: AgentEvent): void {
    const consumer = this.waiting;
    if (consumer) {
      this.waiting = undefined;
      consumer.resolve({ value: event, done: false });
    } else {
      this.buffered.push(event);
    }
  }

  private finish(failure: unknown): void {
    this.finished = true;
    this.failure = failure;
    const consumer = this.waiting;
    if (!consumer) return;
    this.waiting = undefined;
    if (failure !== undefined) consumer.reject(failure);
    else consumer.resolve({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<AgentEvent>> {
    if (this.buffered.length > 0) return Promise.resolve({ value: this.buffered.shift()!, done: false });
    if (this.finished) {
      return this.failure === undefined
        ? Promise.resolve({ value: undefined, done: true })
        : Promise.reject(this.failure);
    }
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<AgentEvent> {
    return this;
  }
}

export function createEventStream<Output>(
  run: (emit: (event: AgentEvent) => void) => Promise<RunResult<Output>>,
): AgentStream<Output> {
  return new EventStream(run);
}
