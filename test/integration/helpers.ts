import { afterAll, afterEach } from 'vitest';
import * as z from 'zod/v4';
import { bedrockConverse, frontier } from '../../src/aws.js';
import { azureChat, azureResponses } from '../../src/azure.js';
import { type Emulator, type EmulatorRequestRecord, startEmulator } from '../../src/emulator/index.js';
import {
  type Agent,
  type AgentEvent,
  type Binding,
  DEFAULT_NAMESPACE,
  type Item,
  type RunResult,
  type Runtime,
  type SessionKey,
  type SessionStore,
  tool,
} from '../../src/index.js';
import { openaiChat, openaiResponses } from '../../src/openai.js';

// The AWS SDK warns about Node 20 on first use; the warning says nothing about these tests.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const INSTRUCTIONS = 'You are a helpful assistant.';

/** The emulator accepts any credentials; explicit ones make the AWS runtimes sign with SigV4. */
const FAKE_AWS = { accessKeyId: 'AKIDINTEGRATION00000', secretAccessKey: 'integration-secret-access-key' };

/** Each runtime has its own model name, so a request shows which runtime sent it. */
export const MODELS = {
  azureChat: 'gpt-4o-azure-chat',
  openaiChat: 'gpt-4o-openai-chat',
  frontier: 'openai.gpt-oss-120b',
  bedrockConverse: 'openai.gpt-oss-20b-1:0',
  azureResponses: 'gpt-5-azure-responses',
  openaiResponses: 'gpt-5-openai-responses',
} as const;

export interface Clouds {
  azureChat: Runtime;
  openaiChat: Runtime;
  frontier: Runtime;
  bedrockConverse: Runtime;
  azureResponses: Runtime;
  openaiResponses: Runtime;
  /** frontier on the Conversations API. */
  frontierConversation: Runtime;
}

/** Every runtime, pointed at the emulator through its public factory. */
export function cloudsOn(emu: Emulator): Clouds {
  return {
    azureChat: azureChat({ endpoint: emu.azureEndpoint, deployment: MODELS.azureChat, apiKey: 'azure-key' }),
    openaiChat: openaiChat({ baseURL: emu.openaiBaseURL, model: MODELS.openaiChat, apiKey: 'openai-key' }),
    frontier: frontier({
      region: 'us-east-1',
      model: MODELS.frontier,
      baseURL: emu.openaiBaseURL,
      credentials: FAKE_AWS,
    }),
    bedrockConverse: bedrockConverse({
      region: 'us-east-1',
      model: MODELS.bedrockConverse,
      endpoint: emu.bedrockEndpoint,
      credentials: FAKE_AWS,
    }),
    azureResponses: azureResponses({
      endpoint: emu.azureEndpoint,
      model: MODELS.azureResponses,
      apiKey: 'azure-key',
    }),
    openaiResponses: openaiResponses({
      baseURL: emu.openaiBaseURL,
      model: MODELS.openaiResponses,
      apiKey: 'openai-key',
    }),
    frontierConversation: frontier({
      region: 'us-east-1',
      model: `${MODELS.frontier}-conversation`,
      baseURL: emu.openaiBaseURL,
      credentials: FAKE_AWS,
      state: 'conversation',
    }),
  };
}

/**
 * Starts an emulator for the whole test file, closed after its last test, with every runtime
 * pointed at it. With `clearFaults`, faults a test sets are cleared after it.
 */
export async function emulatorForFile(
  options: { clearFaults?: boolean } = {},
): Promise<{ emu: Emulator; clouds: Clouds }> {
  const emu = await startEmulator();
  afterAll(() => emu.close());
  if (options.clearFaults) afterEach(() => emu.faults.clear());
  return { emu, clouds: cloudsOn(emu) };
}

export const weather = tool({
  name: 'get_weather',
  description: 'Current weather for a city',
  input: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, tempC: 21, sky: 'clear' }),
});

export function keyOf(sessionId: string): SessionKey {
  return { namespace: DEFAULT_NAMESPACE, sessionId };
}

export async function bindingOf(
  store: SessionStore,
  sessionId: string,
  runtime: Runtime,
): Promise<Binding | undefined> {
  return (await store.load(keyOf(sessionId)))?.bindings[runtime.id];
}

export async function itemsOf(store: SessionStore, sessionId: string): Promise<Item[]> {
  return (await store.load(keyOf(sessionId)))?.items ?? [];
}

function totalRequests(emu: Emulator): number {
  return Object.values(emu.stats().routes).reduce((sum, route) => sum + route.requests, 0);
}

/** What one turn did: its result, its events, and every request the emulator received meanwhile. */
export interface Turn<Output = unknown> {
  result: RunResult<Output>;
  events: AgentEvent[];
  requests: EmulatorRequestRecord[];
  /** The session's items before the turn. */
  before: Item[];
}

/**
 * Runs one turn and records what the emulator received while it ran: streamed (with its events)
 * unless `stream: false`, which uses `run`.
 */
export async function turn<Output = undefined>(
  emu: Emulator,
  agent: Agent,
  store: SessionStore,
  input: string,
  options: { session: string; output?: z.ZodType<Output>; stream?: boolean },
): Promise<Turn<Output>> {
  const { stream: streamed = true, ...runOptions } = options;
  const before = await itemsOf(store, options.session);
  const mark = totalRequests(emu);
  const events: AgentEvent[] = [];
  let result: RunResult<Output>;
  if (streamed) {
    const stream = agent.stream(input, runOptions);
    for await (const event of stream) events.push(event);
    result = await stream.result;
  } else {
    result = await agent.run(input, runOptions);
  }
  const requests = emu.requests(totalRequests(emu) - mark);
  return { result, events, requests, before };
}

/** A provider-neutral reading of one context entry, the same for items and every wire format. */
export type Entry =
  | { role: 'system' | 'user' | 'assistant'; text: string }
  | { call: string; name: string; arguments: unknown }
  | { result: string; output: string }
  | { reasoning: string };

/**
 * Items as a runtime should send them: reasoning only when it belongs to `family` (as its
 * provider id), everything else always.
 */
export function entriesOfItems(items: readonly Item[], family?: string): Entry[] {
  const entries: Entry[] = [];
  for (const item of items) {
    switch (item.type) {
      case 'message':
        entries.push({
          role: item.role,
          text: item.content.map((part) => (part.type === 'text' ? part.text : '')).join(''),
        });
        break;
      case 'tool_call':
        entries.push({ call: item.callId, name: item.name, arguments: JSON.parse(item.arguments) });
        break;
      case 'tool_result':
        entries.push({ result: item.callId, output: item.output });
        break;
      case 'reasoning':
        if (family !== undefined && item.provider?.family === family) {
          // Responses reasoning is known by its `rs_…` id; Converse reasoning is sent back as it came.
          const data = item.provider.data as { id?: unknown };
          entries.push({ reasoning: typeof data.id === 'string' ? data.id : JSON.stringify(data) });
        }
        break;
    }
  }
  return entries;
}

function textOfContent(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part: { text?: unknown }) => (typeof part.text === 'string' ? part.text : '')).join('');
}

/** A chat-completions body's `messages`, read independently of the runtime's own mapping. */
export function entriesOfChat(body: any): Entry[] {
  const entries: Entry[] = [];
  for (const message of body.messages) {
    if (message.role === 'tool') {
      entries.push({ result: message.tool_call_id, output: textOfContent(message.content) });
      continue;
    }
    const text = textOfContent(message.content);
    if (message.role !== 'assistant' || text !== '' || !message.tool_calls?.length) {
      entries.push({ role: message.role, text });
    }
    for (const call of message.tool_calls ?? []) {
      entries.push({
        call: call.id,
        name: call.function.name,
        arguments: JSON.parse(call.function.arguments),
      });
    }
  }
  return entries;
}

/** A Responses body: `instructions` first (as a system entry), then its `input` items. */
export function entriesOfResponses(body: any): Entry[] {
  const entries: Entry[] = body.instructions ? [{ role: 'system', text: body.instructions }] : [];
  for (const item of body.input) {
    switch (item.type) {
      case 'message':
        entries.push({ role: item.role, text: textOfContent(item.content) });
        break;
      case 'function_call':
        entries.push({ call: item.call_id, name: item.name, arguments: JSON.parse(item.arguments) });
        break;
      case 'function_call_output':
        entries.push({ result: item.call_id, output: textOfContent(item.output) });
        break;
      case 'reasoning':
        entries.push({ reasoning: item.id });
        break;
      default:
        entries.push({ role: 'system', text: `unexpected input item ${JSON.stringify(item)}` });
    }
  }
  return entries;
}

/** A Converse body: `system` blocks, then every content block of every message in order. */
export function entriesOfConverse(body: any): Entry[] {
  const entries: Entry[] = (body.system ?? []).map((block: { text: string }) => ({
    role: 'system' as const,
    text: block.text,
  }));
  for (const message of body.messages) {
    for (const block of message.content) {
      if (block.text !== undefined) entries.push({ role: message.role, text: block.text });
      else if (block.toolUse)
        entries.push({
          call: block.toolUse.toolUseId,
          name: block.toolUse.name,
          arguments: block.toolUse.input,
        });
      else if (block.toolResult)
        entries.push({ result: block.toolResult.toolUseId, output: textOfContent(block.toolResult.content) });
      else if (block.reasoningContent) entries.push({ reasoning: JSON.stringify(block.reasoningContent) });
      else entries.push({ role: 'system', text: `unexpected block ${JSON.stringify(block)}` });
    }
  }
  return entries;
}

/** GETs a stored Responses object from the emulator, the way a client would. */
export async function storedResponse(emu: Emulator, id: string): Promise<any> {
  const response = await fetch(`${emu.openaiBaseURL}/responses/${id}`, {
    headers: { authorization: 'Bearer inspect' },
  });
  return { status: response.status, body: await response.json() };
}

/** The items the emulator holds for a conversation, oldest first. */
export async function conversationItems(emu: Emulator, id: string): Promise<any[]> {
  const response = await fetch(`${emu.openaiBaseURL}/conversations/${id}/items?order=asc&limit=100`, {
    headers: { authorization: 'Bearer inspect' },
  });
  const page = (await response.json()) as { data: any[] };
  return page.data;
}

/** The text of a stored response's output messages. */
export function outputText(response: any): string {
  return (response.output ?? [])
    .filter((item: any) => item.type === 'message')
    .map((item: any) => textOfContent(item.content))
    .join('');
}

/**
 * For each model step of a turn, how many of the turn's items its request carried: the user
 * message, then after every round of tool results one more step.
 */
function stepBoundaries(turnItems: readonly Item[]): number[] {
  const boundaries = [1];
  turnItems.forEach((item, index) => {
    if (item.type === 'tool_result' && turnItems[index + 1]?.type !== 'tool_result')
      boundaries.push(index + 1);
  });
  return boundaries;
}

export type Protocol = 'chat' | 'responses' | 'converse';

/** The emulator route a protocol's requests arrive on. */
export function routeOf(protocol: Protocol, streamed: boolean): string {
  return protocol === 'converse' && streamed ? 'converse-stream' : protocol;
}

export function entriesOfRequest(protocol: Protocol, body: unknown): Entry[] {
  if (protocol === 'chat') return entriesOfChat(body);
  if (protocol === 'responses') return entriesOfResponses(body);
  return entriesOfConverse(body);
}

/**
 * What each request of a turn must carry, step by step. Stateless: the instructions and the whole
 * context so far. Stateful: the instructions, then on the first step the items the binding has not
 * seen (all of them without a binding), on later steps only the tool results the server lacks.
 */
export function expectedRequests(
  turn: Turn,
  options: { stateful: boolean; replayFamily?: string; syncedVersion?: number },
): Entry[][] {
  const system: Entry[] = [{ role: 'system', text: INSTRUCTIONS }];
  const turnItems = turn.result.items;
  const boundaries = stepBoundaries(turnItems);
  return boundaries.map((end, step) => {
    if (!options.stateful) {
      return [
        ...system,
        ...entriesOfItems([...turn.before, ...turnItems.slice(0, end)], options.replayFamily),
      ];
    }
    if (step === 0) {
      const unseen = turn.before.slice(options.syncedVersion ?? 0);
      return [...system, ...entriesOfItems([...unseen, turnItems[0]!], options.replayFamily)];
    }
    const results = turnItems.slice(boundaries[step - 1], end).filter((item) => item.type === 'tool_result');
    return [...system, ...entriesOfItems(results, options.replayFamily)];
  });
}
