import { HttpResponse } from 'msw';
import type { RuntimeEvent } from '../../../src/core/events.js';
import { createItem, type Item, type MessageItem } from '../../../src/core/items.js';
import type { StepContext, StepRequest } from '../../../src/runtime/runtime.js';
import { vendorJson, vendorText } from '../../helpers/fixtures.js';

export const AZURE_ENDPOINT = 'https://myres.openai.azure.com';
export const AZURE_DEPLOYMENT_URL = `${AZURE_ENDPOINT}/openai/deployments/gpt-4o/chat/completions`;
export const AZURE_V1_URL = `${AZURE_ENDPOINT}/openai/v1/chat/completions`;

/** A request as the server received it. */
export interface SeenRequest {
  url: URL;
  headers: Headers;
  body: any;
  bytes: number;
}

export async function record(request: Request, seen: SeenRequest[]): Promise<void> {
  const text = await request.clone().text();
  seen.push({
    url: new URL(request.url),
    headers: request.headers,
    body: JSON.parse(text),
    bytes: new TextEncoder().encode(text).byteLength,
  });
}

export function userSays(text: string): Item {
  return createItem<MessageItem>({ type: 'message', role: 'user', content: [{ type: 'text', text }] });
}

export function stepRequest(overrides: Partial<StepRequest> = {}): StepRequest {
  return { items: [userSays('Hello')], tools: [], stream: false, ...overrides };
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

/** The body of example `name` in a JSON envelope fixture. */
export function vendorExample(file: string, name: string): any {
  const example = vendorJson(file).examples.find((entry: { name: string }) => entry.name === name);
  if (!example) throw new Error(`no example ${name} in ${file}`);
  return example.body;
}

export function sse(text: string, headers: Record<string, string> = {}): Response {
  return new HttpResponse(text, { headers: { 'content-type': 'text/event-stream', ...headers } });
}

/** An SSE body from chunk objects, framed like OpenAI: `data: {json}` + blank line, then `data: [DONE]`. */
export function sseOf(chunks: unknown[]): string {
  return [...chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`), 'data: [DONE]\n\n'].join('');
}

/**
 * The two streams of azure-chat-stream.msdocs-async-filter.txt, served each on its own. The doc
 * broke one JSON line of stream 2 in two (a formatting bug the fixture README points out, not wire
 * behaviour); that line is joined back.
 */
export function asyncFilterStreams(): { passes: string; blocked: string } {
  const text = vendorText('azure-chat-stream.msdocs-async-filter.txt');
  const [, passes, blocked] = text.split(/^: ===== STREAM \d.*$/m);
  if (passes === undefined || blocked === undefined) throw new Error('fixture layout changed');
  return { passes, blocked: blocked.replace('"gpt-35- \n\nturbo"', '"gpt-35-turbo"') };
}

/** A streamed body the test releases part by part. */
export function gatedStream(): {
  body: ReadableStream<Uint8Array>;
  send(text: string): void;
  end(): void;
} {
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  return {
    body,
    send: (text) => controller.enqueue(encoder.encode(text)),
    end: () => controller.close(),
  };
}
