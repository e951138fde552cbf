import { abortError, NEVER_ABORTED } from '../../runtime/retry.js';
import type { StepContext } from '../../runtime/runtime.js';
import type { ContentPart, ProviderMetadata, StreamPart } from './ai-sdk-model.js';
import { mergeMetadata } from './ai-sdk-replay.js';
import type { Answer } from './ai-sdk-result.js';

interface Block {
  type: 'text' | 'reasoning';
  text: string;
  providerMetadata?: ProviderMetadata;
}

/**
 * Reads a model's stream into the answer doGenerate would have given: text and reasoning blocks
 * (their deltas joined, the metadata of their start, deltas and end merged) and tool calls in the
 * order they started, the finish, usage and response metadata. Text deltas are emitted as they
 * arrive. An `error` part is thrown as it came; the caller maps it.
 */
export async function readAiSdkStream(
  stream: ReadableStream<StreamPart>,
  context: Pick<StepContext, 'emit' | 'signal'>,
): Promise<Answer> {
  const content: Array<Block | ContentPart> = [];
  const blocks = new Map<string, Block>();
  const answer: Answer = { content: [], finishReason: undefined, usage: undefined, response: {} };

  const block = (type: Block['type'], id: string, metadata: ProviderMetadata | undefined): Block => {
    const key = `${type}:${id}`;
    let found = blocks.get(key);
    if (!found) {
      found = { type, text: '' };
      blocks.set(key, found);
      content.push(found);
    }
    found.providerMetadata = mergeMetadata(found.providerMetadata, metadata);
    return found;
  };

  for await (const part of untilAborted(stream, context.signal)) {
    switch (part.type) {
      case 'text-start':
      case 'text-end':
        block('text', part.id, part.providerMetadata);
        break;
      case 'text-delta': {
        const text = block('text', part.id, part.providerMetadata);
        text.text += part.delta;
        if (part.delta) context.emit({ type: 'text-delta', delta: part.delta });
        break;
      }
      case 'reasoning-start':
      case 'reasoning-end':
        block('reasoning', part.id, part.providerMetadata);
        break;
      case 'reasoning-delta':
        block('reasoning', part.id, part.providerMetadata).text += part.delta;
        break;
      case 'tool-call':
        content.push(part);
        break;
      case 'response-metadata':
        if (part.id) answer.response.id ??= part.id;
        if (part.modelId) answer.response.model ??= part.modelId;
        break;
      case 'finish':
        answer.finishReason = part.finishReason;
        answer.usage = part.usage;
        if (part.providerMetadata) answer.providerMetadata = part.providerMetadata;
        break;
      case 'error':
        throw part.error;
      default:
        // tool-input-* (the final tool-call part carries the whole input), sources, files, raw chunks.
        break;
    }
  }
  answer.content = content.map((entry) =>
    entry.type === 'text' || entry.type === 'reasoning'
      ? ({ type: entry.type, text: entry.text, providerMetadata: entry.providerMetadata } as ContentPart)
      : entry,
  );
  return answer;
}

/**
 * The stream's parts until it ends or `signal` aborts, whichever comes first: a model whose stream
 * ignores the abort must not hold the step. The stream is cancelled whenever reading stops early.
 */
async function* untilAborted<T>(stream: ReadableStream<T>, signal: AbortSignal): AsyncGenerator<T> {
  const reader = stream.getReader();
  let onAbort: (() => void) | undefined;
  const aborted =
    signal === NEVER_ABORTED
      ? undefined
      : new Promise<never>((_, reject) => {
          onAbort = () => reject(abortError(signal));
          signal.addEventListener('abort', onAbort, { once: true });
        });
  aborted?.catch(() => {});
  let done = false;
  try {
    while (true) {
      if (signal.aborted) throw abortError(signal);
      const pending = reader.read();
      // Left behind on abort; whatever it settles with later must not surface as unhandled.
      pending.catch(() => {});
      const next = aborted ? await Promise.race([pending, aborted]) : await pending;
      if (next.done) {
        done = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
    if (!done) reader.cancel().catch(() => {});
  }
}
