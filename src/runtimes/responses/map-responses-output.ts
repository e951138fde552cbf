import {
  createItem,
  type Item,
  type MessageItem,
  type ReasoningItem,
  type ToolCallItem,
} from '../../core/items.js';
import { type Usage, usageFrom } from '../../core/usage.js';
import type { ReasoningReplayData, WireOutputItem, WireUsage } from './responses-wire.js';

/**
 * Response `output` → cloudhop items: reasoning items first, then ONE assistant message holding
 * all text (omitted when there is none), then one tool call per `function_call`. Provider item ids
 * (`msg_…`, `fc_…`) are not kept: items get cloudhop ids, tool calls keep the `call_id`.
 */
export function mapResponsesOutput(output: WireOutputItem[] | undefined, family: string): Item[] {
  const reasoning: ReasoningItem[] = [];
  const toolCalls: ToolCallItem[] = [];
  let text = '';
  for (const item of output ?? []) {
    switch (item.type) {
      case 'message':
        for (const part of item.content ?? []) {
          if (part.type === 'output_text') text += part.text ?? '';
          else if (part.type === 'refusal') text += part.refusal ?? '';
        }
        break;
      case 'function_call':
        toolCalls.push(
          createItem<ToolCallItem>({
            type: 'tool_call',
            callId: item.call_id ?? '',
            name: item.name ?? '',
            arguments: item.arguments || '{}',
          }),
        );
        break;
      case 'reasoning':
        reasoning.push(mapReasoning(item, family));
        break;
    }
  }
  const items: Item[] = [...reasoning];
  if (text !== '') {
    items.push(
      createItem<MessageItem>({ type: 'message', role: 'assistant', content: [{ type: 'text', text }] }),
    );
  }
  items.push(...toolCalls);
  return items;
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
