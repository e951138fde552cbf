import type { FinishReason } from '../core/events.js';
import type { Item, Part } from '../core/items.js';
import { redactSecrets } from '../core/secrets.js';

/**
 * Items as the OpenTelemetry GenAI conventions record messages (`gen_ai.input.messages`,
 * `gen_ai.output.messages`: role + parts). Only built with `recordContent: true`.
 */
type GenAiPart =
  | { type: 'text'; content: string }
  | { type: 'uri'; modality: 'image'; mime_type: string; uri: string }
  | { type: 'blob'; modality: 'image'; mime_type: string; content: string }
  | { type: 'reasoning'; content: string }
  | { type: 'tool_call'; id: string; name: string; arguments: unknown }
  | { type: 'tool_call_response'; id: string; response: string };

interface GenAiMessage {
  role: 'user' | 'assistant' | 'system' | 'tool';
  parts: GenAiPart[];
  finish_reason?: FinishReason;
}

function contentPart(part: Part): GenAiPart {
  if (part.type === 'text') return { type: 'text', content: part.text };
  return part.url !== undefined
    ? { type: 'uri', modality: 'image', mime_type: part.mediaType, uri: part.url }
    : { type: 'blob', modality: 'image', mime_type: part.mediaType, content: part.data ?? '' };
}

/** Tool arguments as the object the model meant, or the text it sent when that is not JSON. */
function argumentsOf(text: string): unknown {
  try {
    return JSON.parse(text || '{}');
  } catch {
    return text;
  }
}

function partsOf(item: Item): { role: GenAiMessage['role']; part: GenAiPart[] } | undefined {
  switch (item.type) {
    case 'message':
      return { role: item.role, part: item.content.map(contentPart) };
    case 'tool_call':
      return {
        role: 'assistant',
        part: [
          { type: 'tool_call', id: item.callId, name: item.name, arguments: argumentsOf(item.arguments) },
        ],
      };
    case 'tool_result':
      return { role: 'tool', part: [{ type: 'tool_call_response', id: item.callId, response: item.output }] };
    case 'reasoning':
      return item.summary
        ? { role: 'assistant', part: [{ type: 'reasoning', content: item.summary }] }
        : undefined;
    case 'summary':
      return { role: 'system', part: [{ type: 'text', content: item.text }] };
  }
}

/** Consecutive items of one role make one message, as a provider would see them. */
export function genAiMessages(items: Item[], finishReason?: FinishReason): GenAiMessage[] {
  const messages: GenAiMessage[] = [];
  for (const item of items) {
    const found = partsOf(item);
    if (!found) continue;
    const last = messages.at(-1);
    // Each message item stays a message of its own; tool calls and results join their neighbours.
    if (last && last.role === found.role && item.type !== 'message') last.parts.push(...found.part);
    else messages.push({ role: found.role, parts: found.part });
  }
  if (finishReason !== undefined) {
    for (const message of messages) message.finish_reason = finishReason;
  }
  return messages;
}

/** The JSON an attribute carries, with every registered secret and secret-shaped string redacted. */
export function contentAttribute(value: unknown): string {
  return redactSecrets(JSON.stringify(value));
}
