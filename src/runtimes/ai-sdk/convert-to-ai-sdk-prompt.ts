import type {
  LanguageModelV4FilePart,
  LanguageModelV4Message,
  LanguageModelV4TextPart,
  LanguageModelV4ToolResultPart,
} from '@ai-sdk/provider';
import type { ImagePart, Item, Part } from '../../core/items.js';
import type { RequestIds } from './ai-sdk-ids.js';
import type { Prompt, ProviderMetadata, SpecificationVersion } from './ai-sdk-model.js';
import { mergeMetadata, readReplayData } from './ai-sdk-replay.js';

type AssistantMessage = Extract<LanguageModelV4Message, { role: 'assistant' }>;
type ToolMessage = Extract<LanguageModelV4Message, { role: 'tool' }>;
type UserPart = LanguageModelV4TextPart | LanguageModelV4FilePart;

/** Providers reject a conversation that opens with the assistant: this stands in for what was trimmed. */
export const OPENING_USER_TEXT = '(earlier conversation omitted)';

export interface PromptOptions {
  instructions?: string;
  /** Reasoning items of this family are replayed; those of any other family are left out. */
  family: string;
  specificationVersion: SpecificationVersion;
  ids: RequestIds;
  /** Whether the model fetches this URL itself (its `supportedUrls`); other URLs are not sent. */
  supportsUrl(mediaType: string, url: string): boolean;
}

const DATA_URL = /^data:([^;,]+)?(?:;[^,]*)?;base64,(.*)$/s;

function textOf(parts: Part[]): string {
  return parts.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

function imageNote(part: ImagePart, why: string): LanguageModelV4TextPart {
  const where = part.url && !part.url.startsWith('data:') ? ` at ${part.url}` : '';
  return { type: 'text', text: `[image (${part.mediaType})${where} not attached: ${why}]` };
}

/**
 * An image as a file part in the form the model's specification version takes: v4 tags the data
 * (`{ type: 'data' | 'url', … }`), v2 and v3 take a base64 string or a URL as they are. Inline
 * data and `data:` URLs are sent as data; another URL only when the model fetches it itself (the
 * AI SDK would download the others first; cloudhop sends a note naming the URL instead).
 */
function imagePart(part: ImagePart, options: PromptOptions): UserPart {
  const dataUrl = part.data === undefined && part.url ? DATA_URL.exec(part.url) : null;
  const mediaType = dataUrl?.[1] ?? part.mediaType;
  const base64 = part.data ?? dataUrl?.[2];
  const legacy = options.specificationVersion !== 'v4';
  if (base64 !== undefined) {
    const data = legacy ? base64 : { type: 'data' as const, data: base64 };
    return { type: 'file', mediaType, data } as LanguageModelV4FilePart;
  }
  let url: URL;
  try {
    url = new URL(part.url!);
  } catch {
    return imageNote(part, 'its URL cannot be parsed');
  }
  if (!options.supportsUrl(mediaType, url.href.toLowerCase())) {
    return imageNote(part, 'this model does not fetch images by URL');
  }
  const data = legacy ? url : { type: 'url' as const, url };
  return { type: 'file', mediaType, data } as LanguageModelV4FilePart;
}

function userParts(parts: Part[], options: PromptOptions): UserPart[] {
  const converted: UserPart[] = [];
  for (const part of parts) {
    // Providers reject blank text parts (Anthropic: "text content blocks must be non-empty").
    if (part.type === 'text') {
      if (part.text !== '') converted.push({ type: 'text', text: part.text });
    } else {
      converted.push(imagePart(part, options));
    }
  }
  return converted;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A tool call's input is a JSON object; arguments that are not one are wrapped so nothing is lost. */
function toolInput(argumentsText: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(argumentsText.trim() === '' ? '{}' : argumentsText);
    return isRecord(parsed) ? parsed : { arguments: parsed };
  } catch {
    return { arguments: argumentsText };
  }
}

function withOptions<T extends object>(part: T, providerOptions: ProviderMetadata | undefined): T {
  return providerOptions ? { ...part, providerOptions } : part;
}

/**
 * Items → the AI SDK's standardized prompt. Instructions and system messages lead (Gemini and
 * Anthropic take system text only at the start); an assistant message holds the step's reasoning,
 * text and tool calls in their order; consecutive tool results share one tool message, each named
 * after its call. Reasoning items of this family are replayed with the provider metadata they
 * came with; those of other families are left out.
 */
export function convertToAiSdkPrompt(items: readonly Item[], options: PromptOptions): Prompt {
  const { callIds, toolNames } = options.ids;
  const system: string[] = [];
  if (options.instructions?.trim()) system.push(options.instructions);
  const messages: LanguageModelV4Message[] = [];
  const callNames = new Map<string, string>();
  const callOptions = new Map<string, ProviderMetadata>();
  let assistant: AssistantMessage | undefined;
  let tool: ToolMessage | undefined;
  // Metadata of the step's text, waiting for the assistant text it belongs to.
  let pendingText: ProviderMetadata | undefined;

  const openAssistant = (): AssistantMessage => {
    tool = undefined;
    if (!assistant) {
      assistant = { role: 'assistant', content: [] };
      messages.push(assistant);
    }
    return assistant;
  };
  const closeAssistant = () => {
    // Text metadata without text (Gemini signs an empty text part) is sent as it came: empty.
    if (assistant && pendingText)
      assistant.content.push({ type: 'text', text: '', providerOptions: pendingText });
    pendingText = undefined;
    assistant = undefined;
  };

  for (const item of items) {
    switch (item.type) {
      case 'message': {
        if (item.role === 'system') {
          const text = textOf(item.content);
          if (text.trim() !== '') system.push(text);
        } else if (item.role === 'user') {
          closeAssistant();
          tool = undefined;
          const content = userParts(item.content, options);
          if (content.length > 0) messages.push({ role: 'user', content });
        } else {
          // An assistant message without text adds nothing (providers reject empty messages).
          const text = textOf(item.content);
          if (text !== '') {
            openAssistant().content.push(withOptions({ type: 'text' as const, text }, pendingText));
            pendingText = undefined;
          }
        }
        break;
      }
      case 'reasoning': {
        if (item.provider?.family !== options.family) break;
        const data = readReplayData(item.provider.data);
        if (data?.part === 'reasoning') {
          openAssistant().content.push(
            withOptions({ type: 'reasoning' as const, text: data.text }, data.providerOptions),
          );
        } else if (data?.part === 'text') {
          openAssistant();
          pendingText = mergeMetadata(pendingText, data.providerOptions);
        } else if (data?.part === 'tool-call') {
          callOptions.set(data.toolCallId, data.providerOptions);
        }
        break;
      }
      case 'tool_call': {
        callNames.set(item.callId, item.name);
        openAssistant().content.push(
          withOptions(
            {
              type: 'tool-call' as const,
              toolCallId: callIds.toWire(item.callId),
              toolName: toolNames.toWire(item.name),
              input: toolInput(item.arguments),
            },
            callOptions.get(item.callId),
          ),
        );
        callOptions.delete(item.callId);
        break;
      }
      case 'tool_result': {
        closeAssistant();
        if (!tool) {
          tool = { role: 'tool', content: [] };
          messages.push(tool);
        }
        const result: LanguageModelV4ToolResultPart = {
          type: 'tool-result',
          toolCallId: callIds.toWire(item.callId),
          // Gemini matches a result to its call by name.
          toolName: toolNames.toWire(callNames.get(item.callId) ?? 'tool'),
          output: item.isError
            ? { type: 'error-text', value: item.output }
            : { type: 'text', value: item.output },
        };
        tool.content.push(result);
        break;
      }
      case 'summary':
        system.push(`Summary of the earlier conversation:\n${item.text}`);
        break;
    }
  }
  closeAssistant();

  if (messages.length > 0 && messages[0]!.role !== 'user') {
    messages.unshift({ role: 'user', content: [{ type: 'text', text: OPENING_USER_TEXT }] });
  }
  return [...system.map((content) => ({ role: 'system' as const, content })), ...messages];
}
