import type {
  ContentBlock,
  ConversationRole,
  ImageFormat,
  Message,
  ReasoningContentBlock,
  SystemContentBlock,
  ToolUseBlock,
} from '@aws-sdk/client-bedrock-runtime';
import type { ImagePart, Item, Part } from '../../core/items.js';
import type { RewrittenIds } from '../../runtime/rewrite-ids.js';

/** A JSON value as the AWS SDK types it (tool input, schemas, model fields). */
export type BedrockDocument = NonNullable<ToolUseBlock['input']>;

export interface BedrockPrompt {
  system: SystemContentBlock[];
  messages: Message[];
  /**
   * Bedrock names of the tools called in the transcript (Bedrock wants them declared whenever
   * tool blocks are sent).
   */
  toolNamesInHistory: string[];
}

/**
 * What a reasoning item of this family stores in `provider.data`: exactly what the model sent,
 * blobs as base64, so it can be replayed to Bedrock unchanged.
 */
export type BedrockReasoningData =
  | { reasoningText: { text: string; signature?: string } }
  | { redactedContent: string };

/** Bedrock rejects a conversation that opens with the assistant; this stands in for what was trimmed. */
export const OPENING_USER_TEXT = '(earlier conversation omitted)';

const IMAGE_FORMATS: Record<string, ImageFormat> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

const DATA_URL = /^data:([^;,]+)?(?:;[^,]*)?;base64,(.*)$/s;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function imageNote(part: ImagePart, why: string): ContentBlock.TextMember {
  const where = part.url && !part.url.startsWith('data:') ? ` at ${part.url}` : '';
  return { text: `[image (${part.mediaType})${where} not attached: ${why}]` };
}

/**
 * Converse takes images as bytes (or an S3 location). A base64 part or a `data:` URL is sent as
 * bytes and an `s3://` URL as an S3 location; an http(s) URL is not fetched on the caller's
 * behalf: the model gets a text note naming it, so the turn still goes through.
 */
function imageBlock(part: ImagePart, role: ConversationRole): ContentBlock {
  if (role !== 'user') return imageNote(part, 'Bedrock Converse accepts images only in user messages');
  const dataUrl = part.data === undefined && part.url ? DATA_URL.exec(part.url) : null;
  const mediaType = (dataUrl?.[1] ?? part.mediaType).toLowerCase();
  const format = IMAGE_FORMATS[mediaType];
  if (!format) return imageNote(part, 'Bedrock Converse accepts png, jpeg, gif and webp images');
  const base64 = part.data ?? dataUrl?.[2];
  if (base64 !== undefined) return { image: { format, source: { bytes: Buffer.from(base64, 'base64') } } };
  if (part.url?.startsWith('s3://')) return { image: { format, source: { s3Location: { uri: part.url } } } };
  return imageNote(part, 'Bedrock Converse accepts images as bytes or s3:// locations, not by URL');
}

function partBlocks(parts: Part[], role: ConversationRole): ContentBlock[] {
  const blocks: ContentBlock[] = [];
  for (const part of parts) {
    // Bedrock rejects blank text blocks.
    if (part.type === 'text') {
      if (part.text.trim() !== '') blocks.push({ text: part.text });
    } else {
      blocks.push(imageBlock(part, role));
    }
  }
  return blocks;
}

/** `toolUse.input` must be a JSON object; arguments that are not one are wrapped so nothing is lost. */
function toolInput(argumentsText: string): BedrockDocument {
  try {
    const parsed: unknown = JSON.parse(argumentsText === '' ? '{}' : argumentsText);
    return (isRecord(parsed) ? parsed : { arguments: parsed }) as BedrockDocument;
  } catch {
    return { arguments: argumentsText };
  }
}

function reasoningBlock(data: unknown): ReasoningContentBlock | undefined {
  if (!isRecord(data)) return undefined;
  const text = data.reasoningText;
  if (isRecord(text) && typeof text.text === 'string') {
    return {
      reasoningText: {
        text: text.text,
        ...(typeof text.signature === 'string' ? { signature: text.signature } : {}),
      },
    };
  }
  if (typeof data.redactedContent === 'string') {
    return { redactedContent: Buffer.from(data.redactedContent, 'base64') };
  }
  return undefined;
}

/** Bedrock rejects two messages of the same role in a row: consecutive blocks of one role share a message. */
function appendBlocks(messages: Message[], role: ConversationRole, blocks: ContentBlock[]): void {
  if (blocks.length === 0) return;
  const last = messages.at(-1);
  if (last?.role === role) last.content!.push(...blocks);
  else messages.push({ role, content: blocks });
}

/**
 * Items → Converse `system` + `messages`. Tool calls become assistant `toolUse` blocks, tool
 * results user `toolResult` blocks; reasoning is replayed only when it came from this family.
 */
export function convertToBedrockMessages(
  items: readonly Item[],
  options: { instructions?: string; family: string; ids: RewrittenIds; names: RewrittenIds },
): BedrockPrompt {
  const system: SystemContentBlock[] = [];
  const messages: Message[] = [];
  const toolNames = new Set<string>();
  if (options.instructions?.trim()) system.push({ text: options.instructions });

  for (const item of items) {
    switch (item.type) {
      case 'message':
        if (item.role === 'system') {
          for (const block of partBlocks(item.content, 'assistant')) {
            if (block.text !== undefined) system.push({ text: block.text });
          }
        } else {
          appendBlocks(messages, item.role, partBlocks(item.content, item.role));
        }
        break;
      case 'tool_call': {
        // A name another provider accepted (`functions.lookup`) would make Bedrock reject every later turn.
        const name = options.names.toWire(item.name);
        toolNames.add(name);
        appendBlocks(messages, 'assistant', [
          {
            toolUse: {
              toolUseId: options.ids.toWire(item.callId),
              name,
              input: toolInput(item.arguments),
            },
          },
        ]);
        break;
      }
      case 'tool_result':
        appendBlocks(messages, 'user', [
          {
            toolResult: {
              toolUseId: options.ids.toWire(item.callId),
              // Bedrock rejects blank text, and an error result without content.
              content: [{ text: item.output === '' ? '(empty)' : item.output }],
              ...(item.isError ? { status: 'error' as const } : {}),
            },
          },
        ]);
        break;
      case 'reasoning': {
        if (item.provider?.family !== options.family) break;
        const block = reasoningBlock(item.provider.data);
        if (block) appendBlocks(messages, 'assistant', [{ reasoningContent: block }]);
        break;
      }
    }
  }

  if (messages[0]?.role === 'assistant')
    messages.unshift({ role: 'user', content: [{ text: OPENING_USER_TEXT }] });
  return { system, messages, toolNamesInHistory: [...toolNames] };
}
