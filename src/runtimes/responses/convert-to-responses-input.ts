import { type Item, type MessageItem, type Part, type ReasoningItem, textOf } from '../../core/items.js';
import type { RewrittenIds } from '../../runtime/rewrite-ids.js';
import type { InputItem, InputMessage, ReasoningInput, ReasoningReplayData } from './responses-wire.js';

export interface ConvertOptions {
  /** This runtime's provider family: reasoning items of any other family are dropped. */
  family: string;
  /** False after the server refused replayed reasoning (e.g. another model of the same family). */
  replayReasoning: boolean;
  /** The wire `call_id` of each tool call and result. */
  callIds: RewrittenIds;
}

/**
 * Items → Responses `input`. Input items never carry an `id` (a placeholder or another provider's
 * item id is rejected by peers), except a reasoning item replayed to its own family, which the
 * server knows by its `rs_…` id.
 */
export function convertToResponsesInput(items: Item[], options: ConvertOptions): InputItem[] {
  const input: InputItem[] = [];
  for (const item of items) {
    switch (item.type) {
      case 'message':
        input.push(convertMessage(item));
        break;
      case 'tool_call':
        input.push({
          type: 'function_call',
          call_id: options.callIds.toWire(item.callId),
          name: item.name,
          arguments: item.arguments,
        });
        break;
      case 'tool_result':
        input.push({
          type: 'function_call_output',
          call_id: options.callIds.toWire(item.callId),
          output: item.output,
        });
        break;
      case 'reasoning': {
        const replay = options.replayReasoning ? replayableReasoning(item, options.family) : undefined;
        if (replay) input.push(replay);
        break;
      }
    }
  }
  return input;
}

export function hasReplayableReasoning(items: Item[], family: string): boolean {
  return items.some((item) => item.type === 'reasoning' && replayableReasoning(item, family) !== undefined);
}

function convertMessage(item: MessageItem): InputMessage {
  if (item.role === 'assistant') {
    // String content: the schema's assistant form with content parts is the output message, which
    // needs the server's own item id and status.
    return { type: 'message', role: 'assistant', content: textOf(item) };
  }
  return { type: 'message', role: item.role, content: item.content.map(convertInputPart) };
}

function convertInputPart(part: Part) {
  if (part.type === 'text') return { type: 'input_text' as const, text: part.text };
  const imageUrl = part.data !== undefined ? `data:${part.mediaType};base64,${part.data}` : part.url!;
  return { type: 'input_image' as const, image_url: imageUrl, detail: 'auto' as const };
}

function replayableReasoning(item: ReasoningItem, family: string): ReasoningInput | undefined {
  if (item.provider?.family !== family) return undefined;
  const data = item.provider.data as Partial<ReasoningReplayData> | null | undefined;
  if (!data || typeof data.id !== 'string' || data.id === '') return undefined;
  const replay: ReasoningInput = {
    type: 'reasoning',
    id: data.id,
    summary: Array.isArray(data.summary) ? data.summary : [],
  };
  if (typeof data.encrypted_content === 'string') replay.encrypted_content = data.encrypted_content;
  return replay;
}
