import type { ContentBlock, TokenUsage } from '@aws-sdk/client-bedrock-runtime';
import {
  createItem,
  type Item,
  type MessageItem,
  type ReasoningItem,
  type ToolCallItem,
} from '../../core/items.js';
import { type Usage, usageFrom } from '../../core/usage.js';
import type { RewrittenIds } from '../../runtime/rewrite-ids.js';
import type { StepResult } from '../../runtime/runtime.js';
import { type BedrockErrorContext, stopReasonError } from './bedrock-converse-errors.js';
import type { BedrockReasoningData } from './convert-to-bedrock-messages.js';
import { mapBedrockFinishReason } from './map-bedrock-finish-reason.js';

/** One content block of the answer, the same whether it came whole (Converse) or in deltas (ConverseStream). */
export type AnswerBlock =
  | { kind: 'text'; text: string }
  | { kind: 'toolUse'; toolUseId: string; name: string; input: string /* JSON text */ }
  | { kind: 'reasoning'; text: string; signature?: string; redactedContent?: string /* base64 */ };

export interface Answer {
  blocks: AnswerBlock[];
  stopReason: string | undefined;
  usage: TokenUsage | undefined;
}

/** What the runtime knows about the request the answer belongs to. */
export interface AnswerContext extends BedrockErrorContext {
  family: string;
  ids: RewrittenIds;
  names: RewrittenIds;
  requestBytes: number;
  /** The synthetic tool carrying a structured-output answer, when the request asked for one. */
  outputToolName?: string;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Converse `output.message.content` → answer blocks (blocks cloudhop does not use are skipped). */
export function answerBlocks(content: readonly ContentBlock[]): AnswerBlock[] {
  const blocks: AnswerBlock[] = [];
  for (const block of content) {
    if (block.text !== undefined) {
      blocks.push({ kind: 'text', text: block.text });
    } else if (block.toolUse) {
      blocks.push({
        kind: 'toolUse',
        toolUseId: block.toolUse.toolUseId ?? '',
        name: block.toolUse.name ?? '',
        input: JSON.stringify(block.toolUse.input ?? {}),
      });
    } else if (block.reasoningContent?.reasoningText) {
      const { text, signature } = block.reasoningContent.reasoningText;
      blocks.push({ kind: 'reasoning', text: text ?? '', ...(signature === undefined ? {} : { signature }) });
    } else if (block.reasoningContent?.redactedContent) {
      blocks.push({
        kind: 'reasoning',
        text: '',
        redactedContent: base64(block.reasoningContent.redactedContent),
      });
    }
  }
  return blocks;
}

/**
 * Bedrock's `inputTokens` leaves out tokens read from or written to the prompt cache; cloudhop
 * counts every input token in `inputTokens` (as OpenAI does), with the cache reads as
 * `cachedInputTokens`. Unknown usage keys are ignored.
 */
export function normalizeUsage(usage: TokenUsage | undefined, requestBytes: number): Usage {
  // Bedrock counts cache reads and writes apart from inputTokens; cloudhop's input is all of them.
  const cacheRead = usage?.cacheReadInputTokens;
  const input = (usage?.inputTokens ?? 0) + (cacheRead ?? 0) + (usage?.cacheWriteInputTokens ?? 0);
  return usageFrom({ input, output: usage?.outputTokens, cached: cacheRead }, requestBytes);
}

/** The structured-output answer as the assistant's text: compact JSON when it parses, else as sent. */
function outputText(input: string): string {
  try {
    return JSON.stringify(JSON.parse(input));
  } catch {
    return input;
  }
}

function reasoningData(block: Extract<AnswerBlock, { kind: 'reasoning' }>): BedrockReasoningData {
  if (block.redactedContent !== undefined) return { redactedContent: block.redactedContent };
  return {
    reasoningText: {
      text: block.text,
      ...(block.signature === undefined ? {} : { signature: block.signature }),
    },
  };
}

/**
 * Answer → StepResult: reasoning items, one assistant message (when there is text), one
 * tool_call per toolUse. A call of the structured-output tool is the answer itself: its input
 * becomes the message text, not a tool call.
 */
export function toStepResult(answer: Answer, context: AnswerContext): StepResult {
  const refused = stopReasonError(answer.stopReason, context);
  if (refused) throw refused;

  const reasoning: Item[] = [];
  const calls: Item[] = [];
  let text = '';
  let structuredOutput: string | undefined;
  for (const block of answer.blocks) {
    if (block.kind === 'text') {
      text += block.text;
    } else if (block.kind === 'reasoning') {
      reasoning.push(
        createItem<ReasoningItem>({
          type: 'reasoning',
          ...(block.text ? { summary: block.text } : {}),
          provider: { family: context.family, data: reasoningData(block) },
        }),
      );
    } else if (block.name === context.outputToolName) {
      structuredOutput = outputText(block.input);
    } else {
      calls.push(
        createItem<ToolCallItem>({
          type: 'tool_call',
          callId: context.ids.fromWire(block.toolUseId),
          name: context.names.fromWire(block.name),
          arguments: block.input === '' ? '{}' : block.input,
        }),
      );
    }
  }

  // With a structured-output answer, the JSON is the message: text around it would break parsing.
  const messageText = structuredOutput ?? text;
  const items: Item[] = [...reasoning];
  if (messageText !== '') {
    items.push(
      createItem<MessageItem>({
        type: 'message',
        role: 'assistant',
        content: [{ type: 'text', text: messageText }],
      }),
    );
  }
  items.push(...calls);

  // Bedrock says tool_use for the structured-output call, but for the caller that is the final answer.
  const answeredWithOutput =
    structuredOutput !== undefined && calls.length === 0 && answer.stopReason === 'tool_use';
  const finishReason = answeredWithOutput ? 'stop' : mapBedrockFinishReason(answer.stopReason);
  return { items, finishReason, usage: normalizeUsage(answer.usage, context.requestBytes) };
}
