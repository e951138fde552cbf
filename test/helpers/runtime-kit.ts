import type { RuntimeEvent } from '../../src/core/events.js';
import { createItem, type MessageItem } from '../../src/core/items.js';
import type { StepContext, StepRequest } from '../../src/runtime/runtime.js';

/** A request as the server received it. */
export interface SeenRequest {
  method: string;
  url: URL;
  headers: Headers;
  /** The parsed JSON body; undefined when the request had none. */
  body: any;
  bytes: number;
}

/** Appends what the server received in `request` to `seen` (the request itself stays readable). */
export async function record(request: Request, seen: SeenRequest[]): Promise<void> {
  const text = await request.clone().text();
  seen.push({
    method: request.method,
    url: new URL(request.url),
    headers: request.headers,
    body: text === '' ? undefined : JSON.parse(text),
    bytes: new TextEncoder().encode(text).byteLength,
  });
}

export function user(text: string): MessageItem {
  return createItem<MessageItem>({ type: 'message', role: 'user', content: [{ type: 'text', text }] });
}

/** A non-streamed step request saying "Hello", without tools, unless `overrides` says otherwise. */
export function stepRequest(overrides: Partial<StepRequest> = {}): StepRequest {
  return { items: [user('Hello')], tools: [], stream: false, ...overrides };
}

/** A step context that records the events a runtime emits. */
export function recordingContext(signal: AbortSignal = new AbortController().signal): StepContext & {
  events: RuntimeEvent[];
  deltas(): string[];
} {
  const events: RuntimeEvent[] = [];
  return {
    signal,
    events,
    emit: (event) => events.push(event),
    deltas: () => events.flatMap((event) => (event.type === 'text-delta' ? [event.delta] : [])),
  };
}
