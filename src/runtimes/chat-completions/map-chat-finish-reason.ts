import type { FinishReason } from '../../core/events.js';

/**
 * Chat `finish_reason` → cloudhop's. Some OpenAI-compatible servers answer `stop` on a message
 * that calls tools, so the presence of tool calls decides.
 */
export function mapChatFinishReason(reason: string | null | undefined, hasToolCalls: boolean): FinishReason {
  switch (reason) {
    case 'content_filter':
      return 'content_filter';
    case 'length':
      return 'length';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    case 'stop':
      return hasToolCalls ? 'tool_calls' : 'stop';
    default:
      return hasToolCalls ? 'tool_calls' : 'other';
  }
}
