import { CloudhopError, describeThrown } from '../core/errors.js';
import type { AgentEvent, RunResult } from '../core/events.js';
import { newId } from '../core/ids.js';
import { defaultErrorText, UI_MESSAGE_STREAM_HEADERS, UIMessageChunks } from './ui-message-stream.js';

/** Options of `toUIMessageStreamResponse`: a `ResponseInit`, and what a failed turn shows. */
export interface UIMessageStreamResponseInit extends ResponseInit {
  /**
   * The `errorText` of a failed turn's `error` chunk. Default: `An error occurred (<code>).`, since
   * an error's message may describe the server's setup; return `error.message` to show it.
   */
  onError?: (error: CloudhopError) => string;
}

/** What `pipeToNodeResponse` writes: the same bodies and headers as the `to…Response` methods. */
export type WebStreamFormat = 'ui-message-stream' | 'sse' | 'text';

export interface PipeToNodeResponseOptions extends UIMessageStreamResponseInit {
  /** Default 'ui-message-stream' (what `useChat` reads). */
  format?: WebStreamFormat;
}

/**
 * The parts of Node's `http.ServerResponse` (or `http2` compatibility response) that
 * `pipeToNodeResponse` uses: any object of this shape will do, so cloudhop need not import node:http.
 */
export interface NodeResponseLike {
  writeHead(statusCode: number, ...rest: any[]): unknown;
  write(chunk: Uint8Array): boolean;
  end(): unknown;
  once(event: 'close' | 'drain', listener: () => void): unknown;
  removeListener(event: 'close' | 'drain', listener: () => void): unknown;
  destroy?(error?: Error): unknown;
  flushHeaders?(): unknown;
  readonly headersSent?: boolean;
  readonly writableEnded?: boolean;
  readonly destroyed?: boolean;
  readonly closed?: boolean;
}

/** A turn's events for one reader; `abandon` aborts the turn because nobody reads them any more. */
export interface TurnEvents {
  next(): Promise<IteratorResult<AgentEvent>>;
  abandon(): void;
}

/** How a body format writes a turn: each function returns the text to send ('' for nothing). */
interface Framing {
  headers: Readonly<Record<string, string>>;
  start(): string;
  event(event: AgentEvent): string;
  finish(result: RunResult): string;
  /** The last text of a failed turn; undefined errors the body, for a format with no way to say it. */
  fail(error: CloudhopError): string | undefined;
}

function ignore(): void {}

function asCloudhopError(error: unknown): CloudhopError {
  return error instanceof CloudhopError
    ? error
    : new CloudhopError('provider_error', `The turn failed: ${describeThrown(error)}`, { cause: error });
}

/**
 * A body that reads the turn's events as the client reads the body: a client that cancels it (or
 * disconnects, which makes the server cancel it) abandons the turn, which is aborted uncommitted.
 */
function eventBody(events: TurnEvents, framing: Framing): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let cancelled = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const opening = framing.start();
      if (opening !== '') controller.enqueue(encoder.encode(opening));
    },
    async pull(controller) {
      // One pull sends at least one piece of text, or ends the body.
      for (;;) {
        let step: IteratorResult<AgentEvent>;
        try {
          step = await events.next();
        } catch (error) {
          if (cancelled) return;
          const last = framing.fail(asCloudhopError(error));
          if (last === undefined) {
            controller.error(error);
            return;
          }
          if (last !== '') controller.enqueue(encoder.encode(last));
          controller.close();
          return;
        }
        if (cancelled) return;
        if (step.done) {
          controller.close();
          return;
        }
        const event = step.value;
        const finished = event.type === 'turn-finish';
        const text = finished ? framing.finish(event.result) : framing.event(event);
        if (text !== '') controller.enqueue(encoder.encode(text));
        if (finished) {
          controller.close();
          return;
        }
        if (text !== '') return;
      }
    },
    cancel() {
      cancelled = true;
      events.abandon();
    },
  });
}

/** The defaults, then the caller's headers over them. */
function responseOf(body: ReadableStream<Uint8Array>, framing: Framing, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers);
  for (const [name, value] of Object.entries(framing.headers)) {
    if (!headers.has(name)) headers.set(name, value);
  }
  const status = init.status ?? 200;
  return new Response(
    body,
    init.statusText === undefined ? { status, headers } : { status, statusText: init.statusText, headers },
  );
}

const textFraming = (): Framing => {
  let shownText = false;
  return {
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' },
    start: () => '',
    event(event) {
      if (event.type !== 'text-delta') return '';
      if (event.delta !== '') shownText = true;
      return event.delta;
    },
    // A turn returned from the store by its idempotency key streams no text: send its answer whole.
    finish: (result) => (shownText ? '' : result.text),
    // Plain text cannot carry an error: the body fails, so the client cannot take it for a whole answer.
    fail: () => undefined,
  };
};

/** An error as the client sees it: everything but its cause (which is the server's business). */
function errorJson(error: CloudhopError): Record<string, unknown> {
  const { cause: _cause, ...json } = error.toJSON();
  return json;
}

function sseFrame(type: string, data: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};

/** Each cloudhop event as one SSE message named by its type, its data the event as JSON. */
const sseFraming = (): Framing => ({
  headers: SSE_HEADERS,
  start: () => '',
  event: (event) =>
    sseFrame(
      event.type,
      'error' in event && event.error instanceof CloudhopError
        ? { ...event, error: errorJson(event.error) }
        : event,
    ),
  finish: (result) => sseFrame('turn-finish', { type: 'turn-finish', result }),
  fail: (error) => sseFrame('error', { type: 'error', error: errorJson(error) }),
});

const uiData = (chunks: readonly unknown[]): string =>
  chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join('');

const UI_DONE = 'data: [DONE]\n\n';

const uiFraming = (onError: (error: CloudhopError) => string): Framing => {
  const chunks = new UIMessageChunks(newId(), onError);
  return {
    headers: UI_MESSAGE_STREAM_HEADERS,
    start: () => uiData(chunks.start()),
    event: (event) => uiData(chunks.event(event)),
    finish: (result) => uiData(chunks.finish(result)) + UI_DONE,
    fail: (error) => uiData(chunks.fail(error)) + UI_DONE,
  };
};

export function textStreamResponse(events: TurnEvents, init?: ResponseInit): Response {
  const framing = textFraming();
  return responseOf(eventBody(events, framing), framing, init);
}

export function sseResponse(events: TurnEvents, init?: ResponseInit): Response {
  const framing = sseFraming();
  return responseOf(eventBody(events, framing), framing, init);
}

export function uiMessageStreamResponse(
  events: TurnEvents,
  init: UIMessageStreamResponseInit = {},
): Response {
  const { onError, ...responseInit } = init;
  const safeOnError = (error: CloudhopError): string => {
    if (!onError) return defaultErrorText(error);
    try {
      return String(onError(error));
    } catch {
      return defaultErrorText(error);
    }
  };
  const framing = uiFraming(safeOnError);
  return responseOf(eventBody(events, framing), framing, responseInit);
}

const FORMATS: Record<WebStreamFormat, (events: TurnEvents, init: UIMessageStreamResponseInit) => Response> =
  {
    'ui-message-stream': uiMessageStreamResponse,
    sse: (events, { onError: _onError, ...init }) => sseResponse(events, init),
    text: (events, { onError: _onError, ...init }) => textStreamResponse(events, init),
  };

function misuse(message: string): CloudhopError {
  return new CloudhopError('invalid_config', `pipeToNodeResponse: ${message}`);
}

/** Checks a pipeToNodeResponse call before the stream is claimed; returns the response to write. */
export function checkPipe(
  res: unknown,
  options: unknown,
): { format: (events: TurnEvents) => Response; res: NodeResponseLike } {
  const methods = ['writeHead', 'write', 'end', 'once', 'removeListener'] as const;
  if (
    typeof res !== 'object' ||
    res === null ||
    methods.some((name) => typeof (res as any)[name] !== 'function')
  ) {
    throw misuse(
      'pass a Node http.ServerResponse (or an object with writeHead, write, end, once, removeListener).',
    );
  }
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw misuse('options must be an object, e.g. { format: "ui-message-stream" }.');
  }
  const { format = 'ui-message-stream', ...init } = (options ?? {}) as PipeToNodeResponseOptions;
  if (!Object.hasOwn(FORMATS, format)) {
    throw misuse(`unknown format ${JSON.stringify(format)}: use ${Object.keys(FORMATS).join(', ')}.`);
  }
  // A response that has closed is no mistake: its client went away, so the turn is aborted.
  if ((res as NodeResponseLike).headersSent && !isClosed(res as NodeResponseLike)) {
    throw misuse('the response has already sent its headers; pass a response nothing was written to yet.');
  }
  return { format: (events) => FORMATS[format](events, init), res: res as NodeResponseLike };
}

function isClosed(res: NodeResponseLike): boolean {
  return res.destroyed === true || res.writableEnded === true || res.closed === true;
}

/**
 * Writes `response` to a Node response: its status, headers and body, waiting for 'drain' when the
 * socket is full. A response that closes before the body is written (the client went away) cancels
 * the body, which aborts the turn; so does one that was closed already.
 */
export async function pipeResponse(response: Response, res: NodeResponseLike): Promise<void> {
  const reader = response.body!.getReader();
  if (isClosed(res)) {
    await reader.cancel().catch(ignore);
    return;
  }
  let closed = false;
  let wake: () => void = ignore;
  const onClose = () => {
    closed = true;
    reader.cancel().catch(ignore);
    wake();
  };
  res.once('close', onClose);
  try {
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    if (response.statusText) res.writeHead(response.status, response.statusText, headers);
    else res.writeHead(response.status, headers);
    // The client learns at once that the answer is coming, even if the first event takes a while.
    res.flushHeaders?.();
    for (;;) {
      const { done, value } = await reader.read();
      if (closed) return;
      if (done) break;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          res.once('drain', resolve);
        });
        res.removeListener('drain', wake);
        wake = ignore;
        if (closed) return;
      }
    }
    res.removeListener('close', onClose);
    res.end();
  } catch (error) {
    // The body failed (a text stream whose turn failed): end the response so it cannot pass for whole.
    res.removeListener('close', onClose);
    await reader.cancel().catch(ignore);
    if (res.destroy) res.destroy(error instanceof Error ? error : undefined);
    else res.end();
  }
}
