import { escapeRegExp, type JsonSchema, sampleFromSchema } from './json-schema.js';

/** The wire protocol a request arrived in. */
export type EmulatorProtocol = 'chat' | 'responses' | 'converse';

/** One entry of the context the model sees, the same for every protocol. */
export type EmulatorContextEntry =
  | { type: 'message'; role: 'system' | 'user' | 'assistant'; text: string }
  | { type: 'tool_call'; callId: string; name: string; arguments: string }
  | { type: 'tool_result'; callId: string; output: string; isError?: boolean };

export interface EmulatorTool {
  name: string;
  description?: string;
  /** The tool's JSON schema for its arguments (`{}` when the request gave none). */
  parameters: JsonSchema;
}

/** `auto` and `none` as the vendors mean them; `required` = must call some tool; `{ name }` = must call that one. */
export type EmulatorToolChoice = 'auto' | 'none' | 'required' | { name: string };

export type EmulatorResponseFormat =
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: JsonSchema };

/**
 * What the model is asked: the whole context (the one the request carries on stateless routes,
 * or the one the server holds plus the new input on stateful routes), the offered tools and the
 * requested output format.
 */
export interface EmulatorContext {
  protocol: EmulatorProtocol;
  /** Model or deployment name from the request. */
  model: string;
  /** True when part of the context came from server-held state (previous_response_id or a conversation). */
  stateful: boolean;
  stream: boolean;
  /**
   * System prompts, instructions and developer messages are `system` messages, at their place in
   * the context: Responses `instructions` and Bedrock's `system` blocks come first.
   */
  entries: EmulatorContextEntry[];
  tools: EmulatorTool[];
  toolChoice: EmulatorToolChoice;
  responseFormat?: EmulatorResponseFormat;
}

/**
 * What a `respond` hook returns: a text reply, or tool calls (arguments as an object or JSON
 * text). Return `undefined` to let the built-in model answer.
 */
export type EmulatorReply =
  | string
  | { text: string }
  | { toolCalls: Array<{ name: string; arguments?: Record<string, unknown> | string }> };

export type EmulatorRespond = (
  context: EmulatorContext,
) => EmulatorReply | undefined | Promise<EmulatorReply | undefined>;

export interface ModelToolCall {
  name: string;
  /** JSON text of the arguments object. */
  arguments: string;
}

export type ModelTurn = { kind: 'text'; text: string } | { kind: 'tool_calls'; calls: ModelToolCall[] };

export interface ModelUsage {
  inputTokens: number;
  outputTokens: number;
}

export type ModelOutcome = ModelTurn & { usage: ModelUsage };

/** Runs the `respond` hook if there is one and it answers, otherwise the built-in deterministic model. */
export async function runModel(context: EmulatorContext, respond?: EmulatorRespond): Promise<ModelOutcome> {
  const scripted = respond === undefined ? undefined : await respond(context);
  const turn = scripted === undefined ? builtInModel(context) : turnFromReply(scripted);
  return { ...turn, usage: usageFor(context, turn) };
}

function turnFromReply(reply: EmulatorReply): ModelTurn {
  if (typeof reply === 'string') return { kind: 'text', text: reply };
  if ('text' in reply && typeof reply.text === 'string') return { kind: 'text', text: reply.text };
  if ('toolCalls' in reply && Array.isArray(reply.toolCalls) && reply.toolCalls.length > 0) {
    return {
      kind: 'tool_calls',
      calls: reply.toolCalls.map((call) => ({
        name: String(call.name),
        arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {}),
      })),
    };
  }
  throw new TypeError(
    'respond() must return a string, { text }, { toolCalls: [...] } (non-empty) or undefined',
  );
}

/** Roughly one token per four characters, as a growing context should cost more. */
function tokens(characters: number): number {
  return Math.max(1, Math.ceil(characters / 4));
}

function usageFor(context: EmulatorContext, turn: ModelTurn): ModelUsage {
  let inputCharacters = 0;
  for (const entry of context.entries) {
    if (entry.type === 'message') inputCharacters += entry.text.length;
    else if (entry.type === 'tool_call') inputCharacters += entry.name.length + entry.arguments.length;
    else inputCharacters += entry.output.length;
  }
  const outputCharacters =
    turn.kind === 'text'
      ? turn.text.length
      : turn.calls.reduce((sum, call) => sum + call.name.length + call.arguments.length, 0);
  return { inputTokens: tokens(inputCharacters), outputTokens: tokens(outputCharacters) };
}

const NAME_STATEMENT = /\bmy name is\s+([\p{L}\p{M}][\p{L}\p{M}'’-]*)/giu;
const NAME_QUESTION = /\bwhat(?:'s|’s|\s+is)\s+my\s+name\b/i;
const SUMMARIZATION_REQUEST = /summarize the conversation/i;

/**
 * The most recent "my name is X" in the context's user and system messages. System messages count
 * because a compacted session reaches every runtime as a summary in a system (or developer)
 * message, and the name must survive that.
 */
function rememberedName(entries: EmulatorContextEntry[]): string | undefined {
  let name: string | undefined;
  for (const entry of entries) {
    if (entry.type !== 'message' || entry.role === 'assistant') continue;
    for (const match of entry.text.matchAll(NAME_STATEMENT)) name = match[1];
  }
  return name;
}

/** Compaction asks in its instructions (a system or developer message), never in the user's words. */
function isSummarizationRequest(entries: EmulatorContextEntry[]): boolean {
  return entries.some(
    (entry) => entry.type === 'message' && entry.role === 'system' && SUMMARIZATION_REQUEST.test(entry.text),
  );
}

/**
 * The summary of a summarization request, made only of what the model remembers, so a test can
 * tell a fact that survived compaction from one that was lost:
 * `Summary: the user said "my name is X". N lines summarized.` when a name is remembered (see
 * `rememberedName`), `Summary: N lines summarized.` otherwise (`1 line` for one); N counts the
 * non-empty lines of the request's user messages (the conversation rendered as text).
 */
function summaryOf(entries: EmulatorContextEntry[]): string {
  let lines = 0;
  for (const entry of entries) {
    if (entry.type !== 'message' || entry.role !== 'user') continue;
    lines += entry.text.split('\n').filter((line) => line.trim() !== '').length;
  }
  const name = rememberedName(entries);
  const fact = name === undefined ? '' : ` the user said "my name is ${name}".`;
  return `Summary:${fact} ${lines} ${lines === 1 ? 'line' : 'lines'} summarized.`;
}

function mentions(text: string, word: string): boolean {
  return new RegExp(`(?<![A-Za-z0-9_-])${escapeRegExp(word)}(?![A-Za-z0-9_-])`, 'i').test(text);
}

function contextCount(entries: EmulatorContextEntry[]): string {
  const count = entries.filter((e) => e.type === 'message' && e.role !== 'system').length;
  return `(context: ${count} ${count === 1 ? 'message' : 'messages'})`;
}

function callFor(tool: EmulatorTool, hintText: string): ModelToolCall {
  const args = sampleFromSchema(tool.parameters, { text: hintText, exclude: [tool.name] });
  return { name: tool.name, arguments: JSON.stringify(args ?? {}) };
}

/**
 * The deterministic model. In order: a summarization request (its instructions say "summarize the
 * conversation") gets a summary of what the model remembers; a forced or named tool is called; a
 * requested JSON schema gets a valid object; tool results are reported; "what is my name?" is
 * answered from the context; otherwise an echo that says how many messages the context held.
 */
export function builtInModel(context: EmulatorContext): ModelTurn {
  const { entries, tools, toolChoice } = context;
  if (isSummarizationRequest(entries)) return { kind: 'text', text: summaryOf(entries) };
  let lastUserIndex = -1;
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i]!;
    if (entry.type === 'message' && entry.role === 'user') {
      lastUserIndex = i;
      break;
    }
  }
  const lastUserText = lastUserIndex >= 0 ? (entries[lastUserIndex] as { text: string }).text : '';
  const results = entries
    .slice(lastUserIndex + 1)
    .filter(
      (entry): entry is Extract<EmulatorContextEntry, { type: 'tool_result' }> =>
        entry.type === 'tool_result',
    );
  const hintText = [lastUserText, ...results.map((result) => result.output)].join(' ');

  if (typeof toolChoice === 'object') {
    const forced = tools.find((tool) => tool.name === toolChoice.name);
    if (forced) return { kind: 'tool_calls', calls: [callFor(forced, hintText)] };
  }
  if (toolChoice !== 'none' && results.length === 0) {
    const named = tools.filter((tool) => mentions(lastUserText, tool.name));
    if (named.length > 0) return { kind: 'tool_calls', calls: named.map((tool) => callFor(tool, hintText)) };
  }
  if (toolChoice === 'required' && tools.length > 0) {
    return { kind: 'tool_calls', calls: [callFor(tools[0]!, hintText)] };
  }

  if (context.responseFormat?.type === 'json_schema') {
    return {
      kind: 'text',
      text: JSON.stringify(sampleFromSchema(context.responseFormat.schema, { text: hintText })),
    };
  }

  let text: string;
  if (results.length > 0) {
    const reports = results.map((result) => {
      const call = entries.find((e) => e.type === 'tool_call' && e.callId === result.callId);
      const name = call?.type === 'tool_call' ? call.name : 'tool';
      return `The ${name} tool ${result.isError ? 'failed with' : 'returned'}: ${result.output}`;
    });
    text = reports.join(' ');
  } else if (NAME_QUESTION.test(lastUserText)) {
    const name = rememberedName(entries);
    text = name === undefined ? "I don't know your name." : `Your name is ${name}.`;
  } else {
    const introduced = [...lastUserText.matchAll(NAME_STATEMENT)].at(-1)?.[1];
    text =
      introduced === undefined
        ? `Echo: ${lastUserText} ${contextCount(entries)}`
        : `Nice to meet you, ${introduced}. ${contextCount(entries)}`;
  }
  if (context.responseFormat?.type === 'json_object')
    return { kind: 'text', text: JSON.stringify({ reply: text }) };
  return { kind: 'text', text };
}

/** Splits text into several stream deltas (about two words each) that join back to the text. */
export function textDeltas(text: string): string[] {
  const words = text.match(/\S+\s*|\s+/g) ?? [];
  const deltas: string[] = [];
  for (let i = 0; i < words.length; i += 2) deltas.push(words.slice(i, i + 2).join(''));
  return deltas.length > 0 ? deltas : [''];
}

/** Splits JSON argument text into a few fragments, the way vendors stream tool input. */
export function argumentFragments(json: string): string[] {
  const size = Math.max(1, Math.ceil(json.length / 3));
  const fragments: string[] = [];
  for (let i = 0; i < json.length; i += size) fragments.push(json.slice(i, i + size));
  return fragments.length > 0 ? fragments : [''];
}
