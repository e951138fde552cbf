import { CloudhopError } from '../core/errors.js';
import type { AgentEvent, RunResult } from '../core/events.js';
import {
  checkPipe,
  type NodeResponseLike,
  type PipeToNodeResponseOptions,
  pipeResponse,
  sseResponse,
  type TurnEvents,
  textStreamResponse,
  type UIMessageStreamResponseInit,
  uiMessageStreamResponse,
} from './web-responses.js';

/**
 * What `agent.stream()` returns: the turn's events as they happen, and the final result. The events
 * have one consumer: iterate them, or hand them to one of the `to…Response` methods or
 * `pipeToNodeResponse`. A response's client that goes away (cancels the body, closes the
 * connection) aborts the turn, and nothing is committed — when the response is made right away, as
 * `return agent.stream(...).toUIMessageStreamResponse()` does (before the turn starts, a microtask
 * later); one made later streams the turn but cannot stop it.
 */
export interface AgentStream<Output = unknown> extends AsyncIterable<AgentEvent> {
  /** Resolves with the same result `run()` would give; rejects with the turn's CloudhopError. */
  readonly result: Promise<RunResult<Output>>;
  /**
   * The answer's text as it is written (`text/plain; charset=utf-8`). A failed turn makes the body
   * fail, so a partial answer cannot pass for a whole one.
   */
  toTextStreamResponse(init?: ResponseInit): Response;
  /**
   * Every cloudhop event as a Server-Sent Event named by its type, its data the event as JSON
   * (`text/event-stream`); a failed turn ends with an `error` event carrying the error's code,
   * message and retryable.
   */
  toSSEResponse(init?: ResponseInit): Response;
  /**
   * The Vercel AI SDK's UI message stream (header `x-vercel-ai-ui-message-stream: v1`), so `useChat`
   * front ends work unchanged: text, tool calls with their input and output, step boundaries, and
   * a `finish` whose `messageMetadata` holds the runtime that answered, the session version and the
   * usage; a failed turn ends with an `error` chunk (see `onError`), an aborted one with `abort`.
   */
  toUIMessageStreamResponse(init?: UIMessageStreamResponseInit): Response;
  /**
   * Writes one of those responses (by `format`, default 'ui-message-stream') to a Node
   * `http.ServerResponse`, minding backpressure; resolves once it is written or the client has gone.
   */
  pipeToNodeResponse(res: NodeResponseLike, options?: PipeToNodeResponseOptions): Promise<void>;
}

function ignore(): void {}

/** Makes `controller` abort, with the same reason, once `outer` does; returns the unlinking. */
export function followSignal(outer: AbortSignal, controller: AbortController): () => void {
  if (outer.aborted) {
    controller.abort(outer.reason);
    return ignore;
  }
  const onAbort = () => controller.abort(outer.reason);
  outer.addEventListener('abort', onAbort, { once: true });
  return () => outer.removeEventListener('abort', onAbort);
}

const CLIENT_GONE =
  'The client went away before the answer was complete (the response body was cancelled or its connection closed), so the turn was aborted; nothing was committed.';

/**
 * Buffers events from a running turn for one consumer. The turn runs whether or not anyone
 * iterates; iteration ends after `turn-finish`, or throws the turn's error. `run` asks `abortFor()`
 * when the turn starts: a web response made by then has a controller, through which a client that
 * went away aborts the turn; an iterated stream has none, and its turn keeps the cheaper signal.
 */
export function createEventStream<Output>(
  run: (
    emit: (event: AgentEvent) => void,
    abortFor: () => AbortController | undefined,
  ) => Promise<RunResult<Output>>,
): AgentStream<Output> {
  const buffered: AgentEvent[] = [];
  let finished = false;
  let failure: unknown;
  // The consumer waiting in next(), if any: events are handed to it directly.
  let waiting:
    | { resolve: (step: IteratorResult<AgentEvent>) => void; reject: (error: unknown) => void }
    | undefined;
  /** Who reads the events: the iterator, or the method that made a response of them. */
  let consumer: string | undefined;
  let abort: AbortController | undefined;

  const settle = () => {
    const reader = waiting;
    if (!reader) return;
    waiting = undefined;
    if (failure !== undefined) reader.reject(failure);
    else reader.resolve({ value: undefined, done: true });
  };

  const result = run(
    (event) => {
      const reader = waiting;
      if (reader) {
        waiting = undefined;
        reader.resolve({ value: event, done: false });
      } else {
        buffered.push(event);
      }
    },
    () => abort,
  ).then(
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

  const next = (): Promise<IteratorResult<AgentEvent>> => {
    if (buffered.length > 0) return Promise.resolve({ value: buffered.shift()!, done: false });
    if (finished) {
      return failure === undefined
        ? Promise.resolve({ value: undefined, done: true })
        : Promise.reject(failure);
    }
    return new Promise((resolve, reject) => {
      waiting = { resolve, reject };
    });
  };

  const events: TurnEvents = {
    next,
    abandon() {
      if (!finished) abort?.abort(new CloudhopError('aborted', CLIENT_GONE));
    },
  };

  const claim = (method: string) => {
    if (consumer === undefined) {
      consumer = method;
      if (method !== 'iterator') abort = new AbortController();
      return;
    }
    const call = method === 'iterator' ? 'Iterating the stream' : `stream.${method}()`;
    const by = consumer === 'iterator' ? 'were already iterated' : `were already given to ${consumer}()`;
    throw new CloudhopError(
      'invalid_config',
      `${call}: this stream's events ${by}. A stream has one consumer: call agent.stream() once per response.`,
    );
  };

  return {
    result,
    // A plain iterator rather than an async generator: every event costs one promise, not several.
    [Symbol.asyncIterator](): AsyncIterator<AgentEvent> {
      if (consumer !== 'iterator') claim('iterator');
      return { next };
    },
    toTextStreamResponse(init) {
      claim('toTextStreamResponse');
      return textStreamResponse(events, init);
    },
    toSSEResponse(init) {
      claim('toSSEResponse');
      return sseResponse(events, init);
    },
    toUIMessageStreamResponse(init) {
      claim('toUIMessageStreamResponse');
      return uiMessageStreamResponse(events, init);
    },
    async pipeToNodeResponse(res, options) {
      const pipe = checkPipe(res, options);
      claim('pipeToNodeResponse');
      await pipeResponse(pipe.format(events), pipe.res);
    },
  };
}
