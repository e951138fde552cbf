import type { FinishReason } from '../../core/events.js';
import { mapFailureCode, outputFilteredError } from './responses-errors.js';
import type { WireResponse } from './responses-wire.js';

/**
 * A finished response → the step's finish reason. A failed response or one cut by a content
 * filter throws, so a caller never mistakes a partial answer for a complete one.
 */
export function mapResponsesFinishReason(response: WireResponse, runtimeId: string): FinishReason {
  switch (response.status) {
    case 'completed':
    case undefined:
      return response.output?.some((item) => item.type === 'function_call') ? 'tool_calls' : 'stop';
    case 'incomplete': {
      const reason = response.incomplete_details?.reason;
      if (reason === 'content_filter') throw outputFilteredError(response.content_filters, runtimeId);
      return reason === 'max_output_tokens' ? 'length' : 'other';
    }
    case 'failed':
      throw mapFailureCode(response.error, runtimeId);
    default:
      return 'other';
  }
}
