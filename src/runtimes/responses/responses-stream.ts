import type { RuntimeEvent } from '../../core/events.js';
import { abortError } from '../../runtime/retry.js';
import { mapFailureCode, streamEndedEarlyError } from './responses-errors.js';
import type { WireError, WireOutputItem, WireResponse } from './responses-wire.js';

/** The fields of Responses stream events this runtime reads (every event also has `type`). */
interface StreamEvent {
  type: string;
  delta?: string;
  item_id?: string;
  output_index?: number;
  item?: WireOutputItem;
  arguments?: string;
  name?: string;
  response?: WireResponse;
  /** `error` event, nested form (real traffic). */
  error?: WireError;
  /** `error` event, flat form (the spec). */
  code?: string | null;
  message?: string | null;
}

/**
 * Reads a Responses SSE stream (as the `openai` package yields it) to the final response, emitting
 * text deltas as they arrive. Function calls are assembled from `output_item.added`, the argument
 * deltas and `output_item.done`, because `function_call_arguments.done` often lacks `name`.
 */
export async function readResponsesStream(
  events: AsyncIterable<unknown>,
  emit: (event: RuntimeEvent) => void,
  runtimeId: string,
  signal: AbortSignal,
): Promise<WireResponse> {
  const assembled = new Map<number, WireOutputItem>();
  const indexByItemId = new Map<string, number>();
  const itemFor = (event: StreamEvent): WireOutputItem | undefined => {
    const index =
      event.output_index ?? (event.item_id !== undefined ? indexByItemId.get(event.item_id) : undefined);
    return index === undefined ? undefined : assembled.get(index);
  };

  for await (const raw of events) {
    const event = raw as StreamEvent;
    switch (event.type) {
      case 'response.output_item.added':
      case 'response.output_item.done': {
        if (!event.item || event.output_index === undefined) break;
        const previous = assembled.get(event.output_index);
        const item = { ...event.item };
        if (item.type === 'function_call') {
          item.name ??= previous?.name;
          item.arguments ??= previous?.arguments;
        }
        assembled.set(event.output_index, item);
        if (item.id !== undefined) indexByItemId.set(item.id, event.output_index);
        break;
      }
      case 'response.output_text.delta':
        if (event.delta) emit({ type: 'text-delta', delta: event.delta });
        break;
      case 'response.function_call_arguments.delta': {
        const item = itemFor(event);
        if (item && event.delta) item.arguments = (item.arguments ?? '') + event.delta;
        break;
      }
      case 'response.function_call_arguments.done': {
        const item = itemFor(event);
        if (item) {
          if (event.arguments !== undefined) item.arguments = event.arguments;
          if (event.name) item.name = event.name;
        }
        break;
      }
      case 'response.completed':
      case 'response.incomplete':
        if (event.response) return withAssembledOutput(event.response, assembled);
        break;
      case 'response.failed':
        throw mapFailureCode(event.response?.error, runtimeId);
      case 'error':
        throw mapFailureCode(
          event.error ?? { code: event.code ?? null, message: event.message ?? null },
          runtimeId,
        );
    }
  }
  // The SDK ends the iteration quietly when the request is aborted.
  throw signal.aborted ? abortError(signal) : streamEndedEarlyError(runtimeId);
}

/**
 * The terminal event's `output` is authoritative; what the stream assembled fills the gaps
 * (an empty `output`, or a function call without its name).
 */
function withAssembledOutput(response: WireResponse, assembled: Map<number, WireOutputItem>): WireResponse {
  const streamed = [...assembled.entries()].sort(([a], [b]) => a - b).map(([, item]) => item);
  if (!response.output || response.output.length === 0) return { ...response, output: streamed };
  const byId = new Map(streamed.filter((item) => item.id !== undefined).map((item) => [item.id, item]));
  const output = response.output.map((item) =>
    item.type === 'function_call' && !item.name ? { ...item, name: byId.get(item.id)?.name } : item,
  );
  return { ...response, output };
}
