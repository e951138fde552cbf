import type { ProviderMetadata } from './ai-sdk-model.js';

/**
 * What a reasoning item of an AI SDK runtime keeps in `provider.data`: the provider metadata a
 * model attached to a part of its answer, so that the part can be sent back to a runtime of the
 * same family exactly as the provider needs it (`providerMetadata` in an answer is
 * `providerOptions` in a prompt):
 * - `reasoning`: a reasoning part (Anthropic thinking with its `signature` or `redactedData`, Gemini
 *   thought summaries), replayed as a reasoning part;
 * - `tool-call`: the metadata of the tool call `toolCallId` (Gemini's `thoughtSignature`), put back
 *   on that call;
 * - `text`: the metadata of the step's text (Gemini's `thoughtSignature`), put back on the text of
 *   the assistant message that follows.
 */
export type AiSdkReplayData =
  | { part: 'reasoning'; text: string; providerOptions?: ProviderMetadata }
  | { part: 'text'; providerOptions: ProviderMetadata }
  | { part: 'tool-call'; toolCallId: string; providerOptions: ProviderMetadata };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Provider metadata: an object of objects, e.g. `{ google: { thoughtSignature } }`. */
export function isProviderMetadata(value: unknown): value is ProviderMetadata {
  return isRecord(value) && Object.values(value).every(isRecord);
}

/** Metadata worth keeping: at least one provider with at least one field. */
export function hasMetadata(value: unknown): value is ProviderMetadata {
  return isProviderMetadata(value) && Object.values(value).some((entry) => Object.keys(entry).length > 0);
}

/**
 * Two metadata objects merged per provider, the later field winning: a stream spreads one part's
 * metadata over its start, delta and end parts (Anthropic's signature comes in the last delta).
 */
export function mergeMetadata(
  earlier: ProviderMetadata | undefined,
  later: ProviderMetadata | undefined,
): ProviderMetadata | undefined {
  if (!hasMetadata(later)) return earlier;
  if (!earlier) return later;
  const merged: ProviderMetadata = { ...earlier };
  for (const [provider, fields] of Object.entries(later))
    merged[provider] = { ...merged[provider], ...fields };
  return merged;
}

/** Reads stored replay data back; anything of another shape (another runtime's data) is undefined. */
export function readReplayData(data: unknown): AiSdkReplayData | undefined {
  if (!isRecord(data)) return undefined;
  const options = data.providerOptions;
  switch (data.part) {
    case 'reasoning':
      if (typeof data.text !== 'string' || (options !== undefined && !isProviderMetadata(options)))
        return undefined;
      return {
        part: 'reasoning',
        text: data.text,
        ...(options === undefined ? {} : { providerOptions: options }),
      };
    case 'text':
      return isProviderMetadata(options) ? { part: 'text', providerOptions: options } : undefined;
    case 'tool-call':
      return typeof data.toolCallId === 'string' && isProviderMetadata(options)
        ? { part: 'tool-call', toolCallId: data.toolCallId, providerOptions: options }
        : undefined;
    default:
      return undefined;
  }
}
