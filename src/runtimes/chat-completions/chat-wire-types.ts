import type { ContentFilterResultsForChoiceOutput } from '@azure/openai/types';
import type { CompletionUsage } from 'openai/resources/completions';

/**
 * A streamed chat chunk as servers really send it, looser than the SDK's type: Azure opens and
 * closes a stream with `choices: []`, and its asynchronous filter sends choices without `delta`
 * (content_filter_results + content_filter_offsets only), also after the finish chunk.
 */
export interface WireChunk {
  /** Empty in Azure's first chunk, which carries only the prompt filter results. */
  id?: string;
  model?: string;
  choices?: WireChunkChoice[] | null;
  usage?: CompletionUsage | null;
}

export interface WireChunkChoice {
  index?: number;
  delta?: WireDelta | null;
  finish_reason?: string | null;
  /** Azure only; the doc spelling with `self-harm` is accepted too. */
  content_filter_results?: ContentFilterResultsForChoiceOutput | Record<string, unknown>;
}

export interface WireDelta {
  content?: string | null;
  refusal?: string | null;
  tool_calls?: WireToolCallDelta[] | null;
}

/** The first fragment of a call carries `id` and `function.name`; later ones append `function.arguments`. */
export interface WireToolCallDelta {
  index?: number;
  id?: string | null;
  type?: string;
  function?: { name?: string | null; arguments?: string | null } | null;
}
