import type { FinishReason } from '../../core/events.js';

/**
 * Converse `stopReason` → cloudhop finish reason. The stop reasons that end the step with an
 * error (filtered content, context window) are turned into errors by `stopReasonError` before
 * this is consulted; `malformed_*` and unknown reasons are 'other'.
 */
export function mapBedrockFinishReason(stopReason: string | undefined): FinishReason {
  switch (stopReason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'tool_use':
      return 'tool_calls';
    case 'max_tokens':
      return 'length';
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'content_filter';
    default:
      return 'other';
  }
}
