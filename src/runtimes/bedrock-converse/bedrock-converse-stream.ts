import type { ConverseStreamOutput, TokenUsage } from '@aws-sdk/client-bedrock-runtime';
import type { RuntimeEvent } from '../../core/events.js';
import type { Answer, AnswerBlock } from './bedrock-converse-result.js';

type BlockInProgress =
  | { kind: 'text'; text: string }
  | { kind: 'toolUse'; toolUseId: string; name: string; input: string }
  | { kind: 'reasoning'; text: string; signature?: string; redactedContent?: Uint8Array[] };

function base64(chunks: Uint8Array[]): string {
  return Buffer.concat(chunks).toString('base64');
}

/**
 * Reads a ConverseStream into the same answer a Converse call returns, emitting text deltas as
 * they arrive. Blocks are keyed by `contentBlockIndex`: text blocks get no `contentBlockStart`,
 * tool input arrives as JSON text fragments, and `metadata` (usage) may come before or after
 * `messageStop`. In-stream exceptions are thrown by the SDK's iterator and reach the caller as
 * they are. Returns `stopReason: undefined` when the stream ended early.
 */
export async function readConverseStream(
  stream: AsyncIterable<ConverseStreamOutput>,
  options: { emit: (event: RuntimeEvent) => void; outputToolName?: string },
): Promise<Answer> {
  const blocks = new Map<number, BlockInProgress>();
  let stopReason: string | undefined;
  let usage: TokenUsage | undefined;

  const blockAt = (index: number, fresh: () => BlockInProgress): BlockInProgress => {
    const existing = blocks.get(index);
    if (existing) return existing;
    const block = fresh();
    blocks.set(index, block);
    return block;
  };

  for await (const event of stream) {
    if (event.contentBlockStart) {
      const { contentBlockIndex = 0, start } = event.contentBlockStart;
      if (start?.toolUse) {
        blocks.set(contentBlockIndex, {
          kind: 'toolUse',
          toolUseId: start.toolUse.toolUseId ?? '',
          name: start.toolUse.name ?? '',
          input: '',
        });
      }
    } else if (event.contentBlockDelta) {
      const { contentBlockIndex = 0, delta } = event.contentBlockDelta;
      if (delta?.text !== undefined) {
        const block = blockAt(contentBlockIndex, () => ({ kind: 'text', text: '' }));
        if (block.kind === 'text' && delta.text !== '') {
          block.text += delta.text;
          options.emit({ type: 'text-delta', delta: delta.text });
        }
      } else if (delta?.toolUse) {
        const block = blocks.get(contentBlockIndex);
        if (block?.kind === 'toolUse') {
          const fragment = delta.toolUse.input ?? '';
          block.input += fragment;
          // The structured-output answer streams as tool input: show it as the text it becomes.
          if (block.name === options.outputToolName && fragment !== '') {
            options.emit({ type: 'text-delta', delta: fragment });
          }
        }
      } else if (delta?.reasoningContent) {
        const block = blockAt(contentBlockIndex, () => ({ kind: 'reasoning', text: '' }));
        if (block.kind === 'reasoning') {
          const { text, signature, redactedContent } = delta.reasoningContent;
          if (text) block.text += text;
          if (signature) block.signature = (block.signature ?? '') + signature;
          if (redactedContent) block.redactedContent = [...(block.redactedContent ?? []), redactedContent];
        }
      }
    } else if (event.messageStop) {
      stopReason = event.messageStop.stopReason;
    } else if (event.metadata) {
      usage = event.metadata.usage;
    }
  }

  const answerBlocks = [...blocks.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, block]): AnswerBlock => {
      if (block.kind !== 'reasoning') return block;
      const { redactedContent, ...reasoning } = block;
      return redactedContent ? { ...reasoning, redactedContent: base64(redactedContent) } : reasoning;
    });
  return { blocks: answerBlocks, stopReason, usage };
}
