import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { HttpResponse } from 'msw';
import type { RuntimeEvent } from '../../../src/core/events.js';
import {
  createItem,
  type Item,
  type MessageItem,
  type ToolCallItem,
  type ToolResultItem,
} from '../../../src/core/items.js';
import type { StepContext, StepRequest } from '../../../src/runtime/runtime.js';
import { vendorJson } from '../../helpers/fixtures.js';

export const REGION = 'us-east-1';
export const MODEL = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
export const BEDROCK_URL = `https://bedrock-runtime.${REGION}.amazonaws.com`;
/** A secret planted in the credentials: it must never show up in an error. */
export const PLANTED_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYPLANTEDKEY';
export const CREDENTIALS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: PLANTED_SECRET };

/** A client as a user would build one for tests: HTTP/1.1 handler (msw cannot see HTTP/2), no SDK retries. */
export function testClient(): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    region: REGION,
    credentials: CREDENTIALS,
    requestHandler: new NodeHttpHandler(),
    maxAttempts: 1,
  });
}

export function converseUrl(model = MODEL, base = BEDROCK_URL): string {
  return `${base}/model/${encodeURIComponent(model)}/converse`;
}

export function converseStreamUrl(model = MODEL, base = BEDROCK_URL): string {
  return `${base}/model/${encodeURIComponent(model)}/converse-stream`;
}

export function stepContext(signal: AbortSignal = new AbortController().signal): StepContext & {
  events: RuntimeEvent[];
} {
  const events: RuntimeEvent[] = [];
  return { signal, events, emit: (event) => events.push(event) };
}

export function stepRequest(items: Item[], extra: Partial<StepRequest> = {}): StepRequest {
  return { items, tools: [], stream: false, ...extra };
}

export function user(text: string): Item {
  return createItem<MessageItem>({ type: 'message', role: 'user', content: [{ type: 'text', text }] });
}

export function assistant(text: string): Item {
  return createItem<MessageItem>({ type: 'message', role: 'assistant', content: [{ type: 'text', text }] });
}

export function toolCall(callId: string, name: string, args: unknown): Item {
  return createItem<ToolCallItem>({ type: 'tool_call', callId, name, arguments: JSON.stringify(args) });
}

export function toolResult(callId: string, output: string, isError?: boolean): Item {
  return createItem<ToolResultItem>({
    type: 'tool_result',
    callId,
    output,
    ...(isError === undefined ? {} : { isError }),
  });
}

interface ConverseExample {
  name: string;
  body: Record<string, any>;
}

/** A Converse response body from test/fixtures/vendor/bedrock-converse-response.json, by name prefix. */
export function converseFixture(namePrefix: string): Record<string, any> {
  const fixture = vendorJson<{ examples: ConverseExample[] }>('bedrock-converse-response.json');
  const example = fixture.examples.find((e) => e.name.startsWith(namePrefix));
  if (!example) throw new Error(`no Converse example named ${namePrefix}`);
  return structuredClone(example.body);
}

export type StreamEvent = Record<string, Record<string, unknown>>;

/** A ConverseStream event sequence from bedrock-converse-stream-events.json, by name prefix. */
export function streamFixture(namePrefix: string): StreamEvent[] {
  const fixture = vendorJson<{ sequences: { name: string; events: StreamEvent[] }[] }>(
    'bedrock-converse-stream-events.json',
  );
  const sequence = fixture.sequences.find((s) => s.name.startsWith(namePrefix));
  if (!sequence) throw new Error(`no stream sequence named ${namePrefix}`);
  return structuredClone(sequence.events);
}

const codec = new EventStreamCodec(toUtf8, fromUtf8);

function stringHeaders(headers: Record<string, string>) {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, { type: 'string' as const, value }]),
  );
}

/** One `application/vnd.amazon.eventstream` frame carrying an event, with Bedrock's `p` padding. */
export function eventFrame(event: StreamEvent): Uint8Array {
  const [eventType, payload] = Object.entries(event)[0]!;
  return codec.encode({
    headers: stringHeaders({
      ':event-type': eventType,
      ':content-type': 'application/json',
      ':message-type': 'event',
    }),
    body: fromUtf8(JSON.stringify({ ...payload, p: 'abcdefghijklmnopqrstuvwxyzABCDEFGH' })),
  });
}

/** A mid-stream failure frame, e.g. `exceptionFrame('throttlingException', { message })`. */
export function exceptionFrame(exceptionType: string, payload: Record<string, unknown>): Uint8Array {
  return codec.encode({
    headers: stringHeaders({
      ':exception-type': exceptionType,
      ':content-type': 'application/json',
      ':message-type': 'exception',
    }),
    body: fromUtf8(JSON.stringify(payload)),
  });
}

/** A 200 ConverseStream response whose body is the given frames, in real event-stream framing. */
export function eventStreamResponse(frames: Uint8Array[]): HttpResponse<ReadableStream<Uint8Array>> {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const frame of frames) controller.enqueue(frame);
      controller.close();
    },
  });
  return new HttpResponse(body, { headers: { 'content-type': 'application/vnd.amazon.eventstream' } });
}

/** A Bedrock HTTP error as rest-json sends it: the type in `x-amzn-ErrorType`, the message in the body. */
export function bedrockError(
  status: number,
  errorType: string,
  message: string,
  headers: Record<string, string> = {},
): HttpResponse<any> {
  return HttpResponse.json(
    { message },
    {
      status,
      headers: {
        'x-amzn-ErrorType': `${errorType}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
        'x-amzn-RequestId': '6f3c1f2e-7a1b-4c1d-9e2f-0123456789ab',
        ...headers,
      },
    },
  );
}

/** A complete Converse response: the vendor examples omit `usage` and `metrics`, which the service always sends. */
export function converseBody(content: unknown[], stopReason = 'end_turn', usage?: Record<string, number>) {
  return {
    output: { message: { role: 'assistant', content } },
    stopReason,
    usage: usage ?? { inputTokens: 10, outputTokens: 5, totalTokens: 15 },
    metrics: { latencyMs: 42 },
  };
}
