import * as z from 'zod/v4';
import {
  type AgentEvent,
  type CloudhopError,
  createAgent,
  type Item,
  memoryStore,
  parseTranscript,
  type SessionStore,
  type Tool,
  TRANSCRIPT_FORMAT,
  TRANSCRIPT_FORMAT_V1,
  tool,
} from '../../src/index.js';
import { type Script, scriptedRuntime } from '../../src/testing/index.js';

export const weather = tool({
  name: 'get_weather',
  description: 'Current weather for a city',
  input: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, tempC: 21, sky: 'clear' }),
});

/** Two steps: some text and a weather call, then the answer. */
export const TOOL_SCRIPT = [
  {
    text: 'Let me check.',
    toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' }, callId: 'call_1' }],
  },
  'It is 21 degrees in Paris.',
];

export function scriptedAgent(script: Script, options: { tools?: Tool[]; store?: SessionStore } = {}) {
  const store = options.store ?? memoryStore();
  const agent = createAgent({
    runtime: scriptedRuntime(script),
    store,
    tools: options.tools ?? [weather],
    retry: { initialDelayMs: 0, maxDelayMs: 0 },
  });
  return { agent, store };
}

/**
 * A tool that never answers on its own: it reports its call, then waits for the turn's signal and
 * records the reason, so a test can end the turn mid-tool and see that the tool was told.
 */
export function blockingTool() {
  let called!: () => void;
  const calledPromise = new Promise<void>((resolve) => {
    called = resolve;
  });
  const seen: { abortReason?: unknown } = {};
  const wait = tool({
    name: 'wait_forever',
    description: 'Waits until the turn is aborted',
    input: z.object({}),
    execute: (_input, { signal }) =>
      new Promise((_resolve, reject) => {
        called();
        signal.addEventListener('abort', () => {
          seen.abortReason = signal.reason;
          reject(signal.reason);
        });
      }),
  });
  return { tool: wait, called: calledPromise, seen };
}

/** A first step that writes text and calls wait_forever, which holds the turn until it is aborted. */
export const BLOCKING_SCRIPT = [
  { text: 'Working on it.', toolCalls: [{ name: 'wait_forever', arguments: {}, callId: 'call_wait' }] },
  'never reached',
];

/** Reads a body until its text so far satisfies `done`; returns that text, leaving the rest unread. */
export async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  done: (text: string) => boolean,
): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  while (!done(text)) {
    const { value, done: ended } = await reader.read();
    if (ended) throw new Error(`the body ended before the expected text; it held: ${text}`);
    text += decoder.decode(value, { stream: true });
  }
  return text;
}

/** The JSON chunks of a UI message stream body, with '[DONE]' kept as a string. */
export function uiChunks(body: string): any[] {
  return sseMessages(body).map(({ data }) => (data === '[DONE]' ? data : JSON.parse(data)));
}

/** SSE messages as { event, data }: `event` undefined when the message names none. */
export function sseMessages(body: string): Array<{ event?: string; data: string }> {
  const messages: Array<{ event?: string; data: string }> = [];
  for (const block of body.split('\n\n')) {
    if (block.trim() === '') continue;
    const lines = block.split('\n');
    const event = lines.find((line) => line.startsWith('event: '))?.slice('event: '.length);
    const data = lines
      .filter((line) => line.startsWith('data: '))
      .map((line) => line.slice('data: '.length))
      .join('\n');
    messages.push(event === undefined ? { data } : { event, data });
  }
  return messages;
}

/** An AgentEvent as it reads after a JSON round trip (errors as their public fields). */
export function asJson(event: AgentEvent): unknown {
  const error = 'error' in event ? (event.error as CloudhopError) : undefined;
  return JSON.parse(
    JSON.stringify(
      error
        ? {
            ...event,
            error: { name: error.name, code: error.code, message: error.message, retryable: error.retryable },
          }
        : event,
    ),
  );
}

const PNG_1PX =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

/**
 * Every kind of item a v1 transcript holds: a system message; a user message with text, a base64
 * image and an image by URL; reasoning with a summary and reasoning without one; text and two tool
 * calls in one step, one failing, both answered; the next step's text; a second turn.
 */
function v1Items(): Item[] {
  const at = (n: number) => `2026-01-01T00:00:${String(n).padStart(2, '0')}.000Z`;
  return [
    {
      type: 'message',
      id: 'i00',
      createdAt: at(0),
      role: 'system',
      content: [{ type: 'text', text: 'Be brief.' }],
    },
    {
      type: 'message',
      id: 'i01',
      createdAt: at(1),
      role: 'user',
      content: [
        { type: 'text', text: 'What is in this picture, and the weather in Paris?' },
        { type: 'image', mediaType: 'image/png', data: PNG_1PX },
        { type: 'image', mediaType: 'image/jpeg', url: 'https://example.com/cat.jpg' },
      ],
    },
    {
      type: 'reasoning',
      id: 'i02',
      createdAt: at(2),
      summary: 'The user wants a description and the weather.',
      provider: { family: 'openai-responses', data: { id: 'rs_1', encrypted_content: 'opaque' } },
    },
    {
      type: 'reasoning',
      id: 'i03',
      createdAt: at(3),
      provider: { family: 'openai-responses', data: { id: 'rs_2', encrypted_content: 'opaque' } },
    },
    {
      type: 'message',
      id: 'i04',
      createdAt: at(4),
      role: 'assistant',
      content: [{ type: 'text', text: 'A cat. Checking.' }],
    },
    {
      type: 'tool_call',
      id: 'i05',
      createdAt: at(5),
      callId: 'call_a',
      name: 'get_weather',
      arguments: '{"city":"Paris"}',
    },
    {
      type: 'tool_call',
      id: 'i06',
      createdAt: at(6),
      callId: 'call_b',
      name: 'get_weather',
      arguments: '{"town":',
    },
    {
      type: 'tool_result',
      id: 'i07',
      createdAt: at(7),
      callId: 'call_a',
      output: '{"city":"Paris","tempC":21}',
    },
    {
      type: 'tool_result',
      id: 'i08',
      createdAt: at(8),
      callId: 'call_b',
      output: 'Error: the arguments for "get_weather" are not valid JSON. Send a JSON object.',
      isError: true,
    },
    {
      type: 'message',
      id: 'i09',
      createdAt: at(9),
      role: 'assistant',
      content: [{ type: 'text', text: 'A cat; 21 °C in Paris.' }],
    },
    {
      type: 'message',
      id: 'i10',
      createdAt: at(10),
      role: 'user',
      content: [{ type: 'text', text: 'Thanks!' }],
    },
    {
      type: 'message',
      id: 'i11',
      createdAt: at(11),
      role: 'assistant',
      content: [{ type: 'text', text: 'You are welcome.' }],
    },
  ] as Item[];
}

/** The v1 transcript, parsed by cloudhop's own reader (so it is a valid file of that format). */
export function v1Transcript() {
  return parseTranscript({
    format: TRANSCRIPT_FORMAT_V1,
    namespace: 'default',
    sessionId: 'ui-v1',
    exportedAt: '2026-01-02T00:00:00.000Z',
    items: v1Items(),
    bindings: {},
  });
}

/**
 * The v2 transcript: the v1 items with what v2 adds — the runtime and usage on produced items, and
 * a summary of the first turn written before the second.
 */
export function v2Transcript() {
  const usage = { inputTokens: 10, outputTokens: 5, totalTokens: 15 };
  const items = v1Items().map((item) =>
    item.type === 'tool_result' || (item.type === 'message' && item.role !== 'assistant')
      ? item
      : {
          ...item,
          runtimeId: item.id === 'i11' ? 'frontier:emulator/model' : 'azure-chat:emulator/gpt-4o',
          usage,
        },
  ) as Item[];
  items.splice(10, 0, {
    type: 'summary',
    id: 'i095',
    createdAt: '2026-01-01T00:00:09.500Z',
    text: 'Summary: the user asked about a cat picture and the weather in Paris.',
    covers: { fromVersion: 0, toVersion: 10 },
    runtimeId: 'azure-chat:emulator/gpt-4o',
  } as Item);
  return parseTranscript({
    format: TRANSCRIPT_FORMAT,
    namespace: 'default',
    sessionId: 'ui-v2',
    exportedAt: '2026-01-02T00:00:00.000Z',
    items,
    bindings: {},
  });
}

export const PNG_DATA_URL = `data:image/png;base64,${PNG_1PX}`;
