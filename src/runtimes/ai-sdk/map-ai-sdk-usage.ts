import { type Usage, usageFrom } from '../../core/usage.js';
import type { AnyUsage, FlatUsage } from './ai-sdk-model.js';

function isFlat(usage: AnyUsage): usage is FlatUsage {
  return typeof (usage as { inputTokens?: unknown }).inputTokens !== 'object';
}

/** Usage of any specification version → cloudhop's; `requestBytes` is what was sent. */
export function mapAiSdkUsage(usage: AnyUsage | undefined, requestBytes: number): Usage {
  if (!usage) return usageFrom({}, requestBytes);
  if (isFlat(usage)) {
    return usageFrom(
      {
        input: usage.inputTokens,
        output: usage.outputTokens,
        total: usage.totalTokens,
        cached: usage.cachedInputTokens,
        reasoning: usage.reasoningTokens,
      },
      requestBytes,
    );
  }
  return usageFrom(
    {
      input: usage.inputTokens?.total,
      output: usage.outputTokens?.total,
      cached: usage.inputTokens?.cacheRead,
      reasoning: usage.outputTokens?.reasoning,
    },
    requestBytes,
  );
}
