import { newId } from '../../core/ids.js';
import {
  createItem,
  type Item,
  type MessageItem,
  type ReasoningItem,
  type TextPart,
  type ToolCallItem,
} from '../../core/items.js';
import { type Usage, usageFrom } from '../../core/usage.js';
import type { RewrittenIds } from '../../runtime/rewrite-ids.js';
import type { ReasoningReplayData, WireOutputItem, WireUsage } from './responses-wire.js';

/**
 * Response `output` → cloudhop items, in the server's order: one assistant message per output
 * message (each text or refusal part its own part; none when it has no text), one tool call per
 * `function_call`, one reasoning item per reasoning item. Provider item ids (`msg_…`, `fc_…`) are
 * not kept: items get cloudhop ids, tool calls keep the `call_id` (mapped back when this request
 * rewrote it).
 */
export function mapResponsesOutput(
  output: WireOutputItem[] | undefined,
  family: string,
  callIds: RewrittenIds,
): Item[] {
  const items: Item[] = [];
  for (const item of output ?? []) {
    switch (item.type) {
      case 'message': {
        const content = textParts(item);
        if (content.length > 0) {
          items.push(createItem<MessageItem>({ type: 'message', role: 'assistant', content }));
        }
        break;
      }
      case 'function_call':
        items.push(
          createItem<ToolCallItem>({
            type: 'tool_call',
            // A call without an id could never be answered, and a transcript cannot hold one.
            callId: item.call_id ? callIds.fromWire(item.call_id) : `call_${newId()}`,
            name: item.name ?? '',
            arguments: item.arguments || '{}',
          }),
        );
        break;
      case 'reasoning':
        items.push(mapReasoning(item, family));
        break;
    }
  }
  return items;
}

function textParts(message: WireOutputItem): TextPart[] {
  const parts: TextPart[] = [];
  for (const part of message.content ?? []) {
    const text = part.type === 'output_text' ? part.text : part.type === 'refusal' ? part.refusal : undefined;
    if (text) parts.push({ type: 'text', text });
  }
  return parts;
}

function mapReasoning(item: WireOutputItem, family: string): ReasoningItem {
  const summary = (item.summary ?? [])
    .filter((part) => typeof part.text === 'string')
    .map((part) => ({ type: 'summary_text' as const, text: part.text! }));
  const data: ReasoningReplayData = { id: item.id ?? '', summary };
  if (typeof item.encrypted_content === 'string') data.encrypted_content = item.encrypted_content;
  const reasoning: Omit<ReasoningItem, 'id' | 'createdAt'> = {
    type: 'reasoning',
    provider: { family, data },
  };
  const summaryText = summary.map((part) => part.text).join('\n\n');
  if (summaryText !== '') reasoning.summary = summaryText;
  return createItem<ReasoningItem>(reasoning);
}

export function mapResponsesUsage(usage: WireUsage | null | undefined, requestBytes: number): Usage {
  return usageFrom(
    {
      input: usage?.input_tokens,
      output: usage?.output_tokens,
      total: usage?.total_tokens,
      cached: usage?.input_tokens_details?.cached_tokens,
      reasoning: usage?.output_tokens_details?.reasoning_tokens,
    },
    requestBytes,
  );
}
