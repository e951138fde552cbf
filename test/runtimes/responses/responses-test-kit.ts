import { HttpResponse } from 'msw';
import {
  createItem,
  type MessageItem,
  type ReasoningItem,
  type ToolCallItem,
  type ToolResultItem,
} from '../../../src/core/items.js';
import { vendorJson } from '../../helpers/fixtures.js';

export { record, recordingContext, type SeenRequest, stepRequest, user } from '../../helpers/runtime-kit.js';

export const OPENAI_URL = 'https://api.openai.com/v1';

export function assistant(text: string): MessageItem {
  return createItem<MessageItem>({ type: 'message', role: 'assistant', content: [{ type: 'text', text }] });
}

export function toolCall(callId: string, name: string, args: unknown): ToolCallItem {
  return createItem<ToolCallItem>({ type: 'tool_call', callId, name, arguments: JSON.stringify(args) });
}

export function toolResult(callId: string, output: unknown): ToolResultItem {
  return createItem<ToolResultItem>({ type: 'tool_result', callId, output: JSON.stringify(output) });
}

export function reasoning(family: string, id: string, encrypted: string): ReasoningItem {
  return createItem<ReasoningItem>({
    type: 'reasoning',
    summary: 'thinking',
    provider: {
      family,
      data: { id, summary: [{ type: 'summary_text', text: 'thinking' }], encrypted_content: encrypted },
    },
  });
}

/** The body of example `name` in responses-create.json (a fresh copy each call). */
export function responseExample(name: string): any {
  const example = vendorJson('responses-create.json').examples.find((entry: { name: string }) =>
    entry.name.startsWith(name),
  );
  if (!example) throw new Error(`no example ${name} in responses-create.json`);
  return structuredClone(example.body);
}

export const MESSAGE_RESPONSE = 'spec-text-input';
export const FUNCTION_CALL_RESPONSE = 'spec-functions';

/**
 * A stream fixture served byte for byte as `text/event-stream`. The body is a closed
 * ReadableStream because msw never settles the cancel of a string body, and a client that stops
 * reading at `response.completed` (or on an error event) cancels the body.
 */
export function sse(text: string): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text));
      controller.close();
    },
  });
  return new HttpResponse(body, { headers: { 'content-type': 'text/event-stream' } });
}

/** The OpenAI error envelope. */
export function errorBody(
  status: number,
  error: { message: string; type?: string | null; code?: string | null; param?: string | null },
  headers: Record<string, string> = {},
): Response {
  return HttpResponse.json(
    { error: { type: 'invalid_request_error', param: null, code: null, ...error } },
    { status, headers },
  );
}

/** `previous_response_not_found` as responses-errors.md recommends reproducing it. */
export function previousResponseNotFound(id: string): Response {
  return errorBody(400, {
    message: `Previous response with id '${id}' not found.`,
    param: 'previous_response_id',
    code: 'previous_response_not_found',
  });
}
