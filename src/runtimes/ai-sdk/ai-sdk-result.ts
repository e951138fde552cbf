import { newId } from '../../core/ids.js';
import {
  createItem,
  type Item,
  type MessageItem,
  type ReasoningItem,
  type ToolCallItem,
} from '../../core/items.js';
import type { RewrittenIds } from '../../runtime/rewrite-ids.js';
import type { StepResult } from '../../runtime/runtime.js';
import type { AiSdkErrorContext } from './ai-sdk-errors.js';
import { errorFinishError, filteredAnswerError, truncatedAnswerError } from './ai-sdk-errors.js';
import type { AnyFinishReason, AnyUsage, ContentPart, ProviderMetadata } from './ai-sdk-model.js';
import { type AiSdkReplayData, hasMetadata, mergeMetadata } from './ai-sdk-replay.js';
import { mapAiSdkFinishReason, unifiedFinishReason } from './map-ai-sdk-finish-reason.js';
import { mapAiSdkUsage } from './map-ai-sdk-usage.js';

export interface AnswerContext extends AiSdkErrorContext {
  family: string;
  toolNames: RewrittenIds;
  requestBytes: number;
}

/** A model's answer, from doGenerate or assembled from doStream. */
export interface Answer {
  content: ContentPart[];
  finishReason: AnyFinishReason | undefined;
  usage: AnyUsage | undefined;
  providerMetadata?: ProviderMetadata;
  response: { id?: string; model?: string };
}

function replayItem(family: string, data: AiSdkReplayData, summary?: string): ReasoningItem {
  return createItem<ReasoningItem>({
    type: 'reasoning',
    ...(summary ? { summary } : {}),
    provider: { family, data },
  });
}

/**
 * The content parts of an answer → items, in the order the model gave them: reasoning, then one
 * assistant message with all the text, then the tool calls. Provider metadata that a later request
 * to the same family needs (signatures) is kept in reasoning items; tools the provider ran itself
 * (`providerExecuted`) are its business and produce no tool call for the agent to run.
 */
export function contentToItems(content: readonly ContentPart[], context: AnswerContext): Item[] {
  const reasoning: Item[] = [];
  const calls: Item[] = [];
  let text = '';
  let textMetadata: ProviderMetadata | undefined;
  for (const part of content) {
    switch (part.type) {
      case 'reasoning': {
        const metadata = hasMetadata(part.providerMetadata) ? part.providerMetadata : undefined;
        if (part.text === '' && !metadata) break;
        const data: AiSdkReplayData = {
          part: 'reasoning',
          text: part.text,
          ...(metadata ? { providerOptions: metadata } : {}),
        };
        reasoning.push(replayItem(context.family, data, part.text));
        break;
      }
      case 'text':
        text += part.text;
        textMetadata = mergeMetadata(textMetadata, part.providerMetadata);
        break;
      case 'tool-call': {
        if (part.providerExecuted) break;
        const callId = part.toolCallId || `call_${newId()}`;
        if (hasMetadata(part.providerMetadata)) {
          calls.push(
            replayItem(context.family, {
              part: 'tool-call',
              toolCallId: callId,
              providerOptions: part.providerMetadata,
            }),
          );
        }
        const input = typeof part.input === 'string' ? part.input : JSON.stringify(part.input ?? {});
        calls.push(
          createItem<ToolCallItem>({
            type: 'tool_call',
            callId,
            name: context.toolNames.fromWire(part.toolName),
            // A call without parameters may come with empty input; the tool loop expects JSON.
            arguments: input.trim() === '' ? '{}' : input,
          }),
        );
        break;
      }
      default:
        // Sources, files, provider-executed tool results and approval requests have no cloudhop item.
        break;
    }
  }
  const textReplay = textMetadata
    ? [replayItem(context.family, { part: 'text', providerOptions: textMetadata })]
    : [];
  if (text === '') return [...reasoning, ...calls, ...textReplay];
  const message = createItem<MessageItem>({
    type: 'message',
    role: 'assistant',
    content: [{ type: 'text', text }],
  });
  return [...reasoning, ...textReplay, message, ...calls];
}

/**
 * An answer → the step's result. A filtered answer, one the model ended with an error, and a
 * stream that stopped without a finish are errors, never a committed step.
 */
export function toStepResult(answer: Answer, context: AnswerContext): StepResult {
  if (answer.finishReason === undefined) throw truncatedAnswerError(context);
  const reason = unifiedFinishReason(answer.finishReason);
  switch (reason.unified) {
    case 'content-filter':
      throw filteredAnswerError(reason.raw, answer.providerMetadata, context);
    case 'error':
      throw errorFinishError(reason.raw, context);
    case 'interrupted':
      throw truncatedAnswerError(context);
  }
  const items = contentToItems(answer.content, context);
  const hasToolCalls = items.some((item) => item.type === 'tool_call');
  const response: { id?: string; model?: string } = {};
  if (answer.response.id) response.id = answer.response.id;
  if (answer.response.model) response.model = answer.response.model;
  return {
    items,
    finishReason: mapAiSdkFinishReason(reason.unified, hasToolCalls),
    usage: mapAiSdkUsage(answer.usage, context.requestBytes),
    ...(response.id || response.model ? { response } : {}),
  };
}
