import { CloudhopError } from '../core/errors.js';
import type { Item, MessageItem, Part } from '../core/items.js';
import type { Usage } from '../core/usage.js';

/**
 * What cloudhop puts in a UI message's `metadata`: when a stored message was written and which
 * runtime answered (`toUIMessages`), or, at the end of a streamed answer, the runtime, the session
 * version it was committed at and its usage.
 */
export interface UIMessageMetadata {
  createdAt?: string;
  runtimeId?: string;
  sessionVersion?: number;
  usage?: Usage;
}

/** A tool call as the Vercel AI SDK shows it: `type` is `tool-<name>`. */
export type ToolUIPart = { type: `tool-${string}`; toolCallId: string } & (
  | { state: 'input-available'; input: unknown }
  | { state: 'output-available'; input: unknown; output: unknown }
  | { state: 'output-error'; input: unknown; errorText: string }
);

/** The parts of a UI message cloudhop produces: a subset of the Vercel AI SDK's `UIMessagePart`. */
export type UIMessagePart =
  | { type: 'text'; text: string; state?: 'streaming' | 'done' }
  | { type: 'reasoning'; text: string; state?: 'streaming' | 'done' }
  | { type: 'file'; mediaType: string; url: string }
  | { type: 'step-start' }
  | ToolUIPart;

/** One message of `useChat`'s list (the Vercel AI SDK's `UIMessage` shape). */
export interface UIMessage {
  id: string;
  role: 'system' | 'user' | 'assistant';
  metadata?: UIMessageMetadata;
  parts: UIMessagePart[];
}

/**
 * A tool's arguments as the UI shows them: the parsed object, or the text itself when the model
 * sent arguments that are not JSON.
 */
export function toolInputOf(args: string): unknown {
  try {
    return JSON.parse(args || '{}');
  } catch {
    return args;
  }
}

/**
 * A tool's output as the UI shows it. Tools' results are stored as text (an object as its JSON);
 * an object or array is handed to the UI parsed, so `part.output.tempC` reads as it does with the
 * AI SDK's own tools, and any other text as it is.
 */
export function toolOutputOf(output: string): unknown {
  const first = output.trimStart()[0];
  if (first !== '{' && first !== '[') return output;
  try {
    return JSON.parse(output);
  } catch {
    return output;
  }
}

function partsOf(content: readonly Part[]): UIMessagePart[] {
  const parts: UIMessagePart[] = [];
  for (const part of content) {
    if (part.type === 'text') {
      if (part.text !== '') parts.push({ type: 'text', text: part.text, state: 'done' });
    } else {
      const url = part.data !== undefined ? `data:${part.mediaType};base64,${part.data}` : part.url!;
      parts.push({ type: 'file', mediaType: part.mediaType, url });
    }
  }
  return parts;
}

const ITEM_TYPES = new Set(['message', 'tool_call', 'tool_result', 'reasoning', 'summary']);

function badItems(message: string): never {
  throw new CloudhopError('invalid_config', `toUIMessages: ${message}`);
}

/**
 * A stored transcript as `useChat`'s message list (the Vercel AI SDK's `UIMessage[]`), e.g. to show
 * a conversation again after a reload: `toUIMessages(await agent.session(id).items())`.
 *
 * Each user or system message is one UI message; what the model and the tools wrote between two
 * user messages is one assistant message, a `step-start` part before each model step, every tool
 * call a `tool-<name>` part holding its input and output (or error). Images become `file` parts
 * (base64 data as a data: URL), reasoning with a summary a `reasoning` part; reasoning without
 * one (only a provider's encrypted state) and summaries (the items they condense stay in the
 * session and are shown) are left out. Message ids are the ids of the items they start with.
 */
export function toUIMessages(items: readonly Item[]): UIMessage[] {
  if (!Array.isArray(items)) {
    badItems('pass an array of items, e.g. await agent.session(id).items() or parseTranscript(file).items.');
  }
  const messages: UIMessage[] = [];
  let answer: UIMessage | undefined;
  let calls = new Map<string, ToolUIPart>();
  let newStep = true;

  const startAnswer = (item: Item): UIMessage => {
    answer = { id: item.id, role: 'assistant', metadata: { createdAt: item.createdAt }, parts: [] };
    calls = new Map();
    newStep = true;
    messages.push(answer);
    return answer;
  };
  const add = (message: UIMessage, parts: UIMessagePart[]) => {
    if (parts.length === 0) return;
    if (newStep) message.parts.push({ type: 'step-start' });
    newStep = false;
    message.parts.push(...parts);
  };

  items.forEach((item: Item, index) => {
    const type = (item as { type?: unknown } | null)?.type;
    if (typeof type !== 'string' || !ITEM_TYPES.has(type)) {
      badItems(`items[${index}] is not a cloudhop item (its type is ${JSON.stringify(type)}).`);
    }
    if (item.type === 'summary') return;
    if (item.type === 'message' && item.role !== 'assistant') {
      answer = undefined;
      const parts = partsOf((item as MessageItem).content);
      // An empty message has nothing to show, and the AI SDK requires a part on user messages.
      if (parts.length > 0) {
        messages.push({ id: item.id, role: item.role, metadata: { createdAt: item.createdAt }, parts });
      }
      return;
    }
    if (item.type === 'tool_result') {
      // A page of items may begin after the call a result answers: that result is left out.
      const call = answer && calls.get(item.callId);
      if (!call) return;
      const { input } = call as { input: unknown };
      const done: ToolUIPart = item.isError
        ? {
            type: call.type,
            toolCallId: call.toolCallId,
            state: 'output-error',
            input,
            errorText: item.output,
          }
        : {
            type: call.type,
            toolCallId: call.toolCallId,
            state: 'output-available',
            input,
            output: toolOutputOf(item.output),
          };
      Object.assign(call, done);
      // Whatever the model writes after its tools' results belongs to its next step.
      newStep = true;
      return;
    }
    const message = answer ?? startAnswer(item);
    if (item.runtimeId !== undefined) message.metadata!.runtimeId = item.runtimeId;
    if (item.type === 'message') {
      add(message, partsOf(item.content));
    } else if (item.type === 'tool_call') {
      const part: ToolUIPart = {
        type: `tool-${item.name}`,
        toolCallId: item.callId,
        state: 'input-available',
        input: toolInputOf(item.arguments),
      };
      calls.set(item.callId, part);
      add(message, [part]);
    } else if (item.summary) {
      add(message, [{ type: 'reasoning', text: item.summary, state: 'done' }]);
    }
  });
  return messages;
}
