import type {
  ChatCompletionAssistantMessageParam,
  ChatCompletionContentPart,
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import type { Item, MessageItem, Part } from '../../core/items.js';

function textOfParts(parts: Part[]): string {
  return parts.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

function toContentPart(part: Part): ChatCompletionContentPart {
  if (part.type === 'text') return { type: 'text', text: part.text };
  // Inline data wins over a URL: it is what the user actually had, and needs no fetch by the server.
  const url = part.data !== undefined ? `data:${part.mediaType};base64,${part.data}` : part.url!;
  return { type: 'image_url', image_url: { url } };
}

function toUserMessage(item: MessageItem): ChatCompletionMessageParam {
  const [only] = item.content;
  if (item.content.length === 1 && only?.type === 'text') return { role: 'user', content: only.text };
  return { role: 'user', content: item.content.map(toContentPart) };
}

/**
 * Items → chat-completions messages. Instructions become a leading system message; consecutive
 * tool calls become one assistant message's `tool_calls` (joined to the assistant text right
 * before them); tool results become `role: 'tool'` messages. Reasoning items are left out: chat
 * completions has no way to replay them. Assistant and system messages carry text only, which is
 * all the chat format accepts for those roles.
 */
export function convertToChatMessages(
  items: Item[],
  instructions: string | undefined,
): ChatCompletionMessageParam[] {
  const messages: ChatCompletionMessageParam[] = [];
  if (instructions) messages.push({ role: 'system', content: instructions });
  // The assistant message that tool calls may still join; reset by any other kind of message.
  let openAssistant: ChatCompletionAssistantMessageParam | undefined;

  for (const item of items) {
    switch (item.type) {
      case 'reasoning':
        continue;
      case 'message':
        if (item.role === 'assistant') {
          openAssistant = { role: 'assistant', content: textOfParts(item.content) };
          messages.push(openAssistant);
          continue;
        }
        messages.push(
          item.role === 'system'
            ? { role: 'system', content: textOfParts(item.content) }
            : toUserMessage(item),
        );
        break;
      case 'tool_call': {
        const call: ChatCompletionMessageFunctionToolCall = {
          id: item.callId,
          type: 'function',
          function: { name: item.name, arguments: item.arguments },
        };
        if (openAssistant) {
          openAssistant.tool_calls = [...(openAssistant.tool_calls ?? []), call];
        } else {
          openAssistant = { role: 'assistant', content: null, tool_calls: [call] };
          messages.push(openAssistant);
        }
        continue;
      }
      case 'tool_result':
        messages.push({ role: 'tool', tool_call_id: item.callId, content: item.output });
        break;
    }
    openAssistant = undefined;
  }
  return messages;
}
