import type { FinishReason } from '../../core/events.js';
import type { AnyFinishReason } from './ai-sdk-model.js';

/** A finish reason of any specification version: v2 sends the unified reason as a string. */
export interface UnifiedFinishReason {
  unified: string;
  raw: string | undefined;
}

export function unifiedFinishReason(reason: AnyFinishReason | undefined): UnifiedFinishReason {
  if (typeof reason === 'string') return { unified: reason === 'unknown' ? 'other' : reason, raw: undefined };
  if (reason && typeof reason.unified === 'string') return { unified: reason.unified, raw: reason.raw };
  return { unified: 'other', raw: undefined };
}

/**
 * The AI SDK's unified finish reason → cloudhop's. The reasons that end the step with an error
 * (content-filter, error, interrupted) are turned into errors before this is consulted. Some
 * providers answer `stop` on a step that calls tools, so the presence of tool calls decides.
 */
export function mapAiSdkFinishReason(unified: string, hasToolCalls: boolean): FinishReason {
  switch (unified) {
    case 'length':
      return 'length';
    case 'content-filter':
      return 'content_filter';
    case 'tool-calls':
      return hasToolCalls ? 'tool_calls' : 'other';
    case 'stop':
      return hasToolCalls ? 'tool_calls' : 'stop';
    default:
      return hasToolCalls ? 'tool_calls' : 'other';
  }
}
