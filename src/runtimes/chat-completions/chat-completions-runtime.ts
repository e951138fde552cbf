import type OpenAI from 'openai';
import type {
  ChatCompletion,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageToolCall,
} from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import type { Stream } from 'openai/streaming';
import { CloudhopError, messageOf } from '../../core/errors.js';
import type { FinishReason } from '../../core/events.js';
import { newId } from '../../core/ids.js';
import { createItem, type Item, type MessageItem, type ToolCallItem } from '../../core/items.js';
import { byteLength, type Usage, usageFrom } from '../../core/usage.js';
import { abortError, NEVER_ABORTED } from '../../runtime/retry.js';
import type { Runtime, StepContext, StepRequest, StepResult } from '../../runtime/runtime.js';
import {
  type ChatErrorContext,
  filteredCategories,
  malformedCompletionError,
  outputFilteredError,
  toChatError,
  truncatedStreamError,
} from './chat-errors.js';
import type { WireChunk, WireChunkChoice, WireToolCallDelta } from './chat-wire-types.js';
import { convertToChatMessages } from './convert-to-chat-messages.js';
import { loadOpenAI, type OpenAIModule } from './load-openai.js';
import { mapChatFinishReason } from './map-chat-finish-reason.js';

export interface ChatCompletionsRuntimeConfig {
  id: string;
  family: string;
  /** `gen_ai.provider.name` of the OpenTelemetry GenAI conventions. */
  provider: string;
  /** The public factory's name, for messages ('azureChat'). */
  factory: string;
  /** The body's `model`: the model name, or the Azure deployment. */
  model: string;
  errors: Omit<ChatErrorContext, 'runtimeId'>;
  /** Builds the SDK client once the SDK is loaded; its own retries must be off. */
  createClient(sdk: OpenAIModule): OpenAI;
}

type ChatBody = ChatCompletionCreateParamsNonStreaming;

/** JSON-schema names are limited to `[a-zA-Z0-9_-]{1,64}` by the API. */
function schemaName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64) || 'output';
}

function buildChatBody(request: StepRequest, model: string): ChatBody {
  const body: ChatBody = { model, messages: convertToChatMessages(request.items, request.instructions) };
  if (request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({
      type: 'function',
      function: {
        name: tool.name,
        ...(tool.description === undefined ? {} : { description: tool.description }),
        parameters: tool.parameters,
      },
    }));
  }
  if (request.output) {
    // strict: false because strict mode rejects ordinary JSON schemas (optional fields, formats);
    // the agent validates the answer with the user's zod schema anyway.
    body.response_format = {
      type: 'json_schema',
      json_schema: { name: schemaName(request.output.name), schema: request.output.schema, strict: false },
    };
  }
  return body;
}

function normalizeUsage(usage: CompletionUsage | null | undefined, requestBytes: number): Usage {
  return usageFrom(
    {
      input: usage?.prompt_tokens,
      output: usage?.completion_tokens,
      total: usage?.total_tokens,
      cached: usage?.prompt_tokens_details?.cached_tokens,
      reasoning: usage?.completion_tokens_details?.reasoning_tokens,
    },
    requestBytes,
  );
}

/**
 * The request body's size on the wire. Measured once the answer is in, not before sending:
 * serializing costs as much as a few microseconds of the time to first delta.
 */
function sentBytes(body: ChatBody | ChatCompletionCreateParamsStreaming): number {
  return byteLength(JSON.stringify(body));
}

interface AssembledCall {
  id?: string;
  name: string;
  arguments: string;
}

/** The step's items: one assistant message when there is text, then one item per tool call. */
function stepItems(text: string, calls: AssembledCall[]): Item[] {
  const items: Item[] = [];
  if (text) {
    items.push(
      createItem<MessageItem>({ type: 'message', role: 'assistant', content: [{ type: 'text', text }] }),
    );
  }
  for (const call of calls) {
    items.push(
      createItem<ToolCallItem>({
        type: 'tool_call',
        // A server that sends no call id still needs one to be answered; chat ids are `call_…`.
        callId: call.id || `call_${newId()}`,
        name: call.name,
        // A call without parameters may come with empty arguments; the tool loop expects JSON.
        arguments: call.arguments.trim() === '' ? '{}' : call.arguments,
      }),
    );
  }
  return items;
}

/** Collects a streamed answer chunk by chunk; tolerant of Azure's empty and annotation-only chunks. */
class ChatStreamAssembler {
  private text = '';
  private refusal = '';
  private readonly calls: AssembledCall[] = [];
  private readonly callsByIndex = new Map<number, AssembledCall>();
  private readonly filterResults: unknown[] = [];
  private rawFinishReason: string | undefined;
  usage: CompletionUsage | undefined;
  /** The completion's id and model, as its chunks carry them. */
  readonly response: { id?: string; model?: string } = {};

  constructor(private readonly emit: StepContext['emit']) {}

  add(chunk: WireChunk): void {
    if (chunk.usage) this.usage = chunk.usage;
    if (chunk.id) this.response.id ??= chunk.id;
    if (chunk.model) this.response.model ??= chunk.model;
    for (const choice of chunk.choices ?? []) {
      // One completion is requested; other indexes would be a server's extra candidates.
      if ((choice.index ?? 0) === 0) this.addChoice(choice);
    }
  }

  private addChoice(choice: WireChunkChoice): void {
    if (choice.content_filter_results) this.filterResults.push(choice.content_filter_results);
    // The asynchronous filter may still block after `stop`; once blocked, no later chunk clears it.
    if (choice.finish_reason && this.rawFinishReason !== 'content_filter')
      this.rawFinishReason = choice.finish_reason;
    const delta = choice.delta;
    if (!delta) return;
    if (delta.content) {
      this.text += delta.content;
      this.emit({ type: 'text-delta', delta: delta.content });
    }
    if (delta.refusal) this.refusal += delta.refusal;
    for (const fragment of delta.tool_calls ?? []) this.addToolCallFragment(fragment);
  }

  private addToolCallFragment(fragment: WireToolCallDelta): void {
    const call = this.callFor(fragment);
    if (fragment.id && !call.id) call.id = fragment.id;
    if (fragment.function?.name) call.name = fragment.function.name;
    if (fragment.function?.arguments) call.arguments += fragment.function.arguments;
  }

  /** Fragments are keyed by `index`; servers that omit it are matched by id, else the last call. */
  private callFor(fragment: WireToolCallDelta): AssembledCall {
    if (typeof fragment.index === 'number') {
      let call = this.callsByIndex.get(fragment.index);
      if (!call) {
        call = { name: '', arguments: '' };
        this.callsByIndex.set(fragment.index, call);
        this.calls.push(call);
      }
      return call;
    }
    const byId = fragment.id ? this.calls.find((call) => call.id === fragment.id) : undefined;
    const last = this.calls.at(-1);
    if (byId) return byId;
    if (last && !fragment.id) return last;
    const call: AssembledCall = { name: '', arguments: '' };
    this.calls.push(call);
    return call;
  }

  get finished(): boolean {
    return this.rawFinishReason !== undefined;
  }

  get categories(): string[] {
    return filteredCategories(...this.filterResults);
  }

  finishReason(): FinishReason {
    return mapChatFinishReason(this.rawFinishReason, this.calls.length > 0);
  }

  items(): Item[] {
    const ordered = [...this.callsByIndex.entries()].sort(([a], [b]) => a - b).map(([, call]) => call);
    const unindexed = this.calls.filter((call) => !ordered.includes(call));
    return stepItems(this.text || this.refusal, [...ordered, ...unindexed]);
  }
}

type ChoiceWithFilter = ChatCompletion.Choice & Pick<WireChunkChoice, 'content_filter_results'>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * What makes a non-streamed completion unreadable (a proxy's page, a server bug), or undefined
 * when its first choice can be read: a message object with text (or null) content and a list of
 * named tool calls. Checked before use so that such an answer fails the step instead of being
 * committed as an empty or malformed turn.
 */
function malformedCompletion(completion: unknown): string | undefined {
  if (!isObject(completion)) return 'the body is not a JSON object';
  const { choices } = completion;
  if (!Array.isArray(choices) || choices.length === 0) return 'it has no `choices`';
  const choice: unknown = choices[0];
  if (!isObject(choice) || !isObject(choice.message)) return '`choices[0].message` is not an object';
  const { content, refusal, tool_calls: toolCalls } = choice.message;
  if (content != null && typeof content !== 'string') return '`message.content` is not a string';
  if (refusal != null && typeof refusal !== 'string') return '`message.refusal` is not a string';
  if (toolCalls == null) return undefined;
  if (!Array.isArray(toolCalls)) return '`message.tool_calls` is not a list';
  const unnamed = toolCalls.some(
    (call) =>
      !isObject(call) ||
      (call.type === 'function' && (!isObject(call.function) || typeof call.function.name !== 'string')),
  );
  return unnamed ? '`message.tool_calls` holds a call without a function name' : undefined;
}

function isFunctionCall(
  call: ChatCompletionMessageToolCall,
): call is Extract<ChatCompletionMessageToolCall, { type: 'function' }> {
  return call.type === 'function';
}

/** The runtime shared by azureChat and openaiChat: one chat completion per step. */
export function createChatCompletionsRuntime(config: ChatCompletionsRuntimeConfig): Runtime {
  const errorContext: ChatErrorContext = { runtimeId: config.id, ...config.errors };
  let loading: Promise<{ sdk: OpenAIModule; client: OpenAI }> | undefined;

  // Once loaded, steps use the client directly instead of awaiting an already-settled promise.
  let loaded: { sdk: OpenAIModule; client: OpenAI } | undefined;

  const load = () => {
    if (!loading) {
      loading = loadOpenAI(config.factory).then((sdk) => {
        loaded = { sdk, client: createClient(sdk) };
        return loaded;
      });
      // A failed load is not kept: the next step tries again.
      loading.catch(() => {
        loading = undefined;
      });
    }
    return loading;
  };

  function createClient(sdk: OpenAIModule): OpenAI {
    try {
      return config.createClient(sdk);
    } catch (error) {
      throw new CloudhopError(
        'invalid_config',
        `${config.factory}: the openai client refused the options: ${messageOf(error)}`,
        { runtimeId: config.id, cause: error, retryable: false },
      );
    }
  }

  async function complete(client: OpenAI, body: ChatBody, context: StepContext): Promise<StepResult> {
    const completion = await client.chat.completions.create(body, requestOptions(context));
    const problem = malformedCompletion(completion);
    if (problem !== undefined) throw malformedCompletionError(problem, errorContext);
    const choice = completion.choices[0] as ChoiceWithFilter;
    if (choice.finish_reason === 'content_filter') {
      throw outputFilteredError(filteredCategories(choice.content_filter_results), errorContext);
    }
    const calls = (choice.message.tool_calls ?? []).filter(isFunctionCall).map((call) => ({
      id: call.id,
      name: call.function.name,
      arguments: call.function.arguments ?? '',
    }));
    return {
      items: stepItems(choice.message.content || choice.message.refusal || '', calls),
      finishReason: mapChatFinishReason(choice.finish_reason, calls.length > 0),
      usage: normalizeUsage(completion.usage, sentBytes(body)),
      response: { id: completion.id, model: completion.model },
    };
  }

  async function stream(client: OpenAI, body: ChatBody, context: StepContext): Promise<StepResult> {
    const streamingBody = body as unknown as ChatCompletionCreateParamsStreaming;
    streamingBody.stream = true;
    streamingBody.stream_options = { include_usage: true };
    const chunks = await client.chat.completions.create(streamingBody, requestOptions(context));
    const assembler = new ChatStreamAssembler(context.emit);
    try {
      for await (const chunk of untilAborted(chunks, context.signal)) assembler.add(chunk as WireChunk);
    } catch (error) {
      // An answer that already finished stands when only the stream's trailer is unreadable: Azure
      // documents `data: [DONE] ` with a trailing space, which openai 7 parses as JSON and rejects.
      if (!(assembler.finished && error instanceof SyntaxError)) throw error;
    }
    if (!assembler.finished) throw truncatedStreamError(errorContext);
    if (assembler.finishReason() === 'content_filter') {
      throw outputFilteredError(assembler.categories, errorContext);
    }
    return {
      items: assembler.items(),
      finishReason: assembler.finishReason(),
      usage: normalizeUsage(assembler.usage, sentBytes(streamingBody)),
      response: assembler.response,
    };
  }

  return {
    id: config.id,
    kind: 'stateless',
    family: config.family,
    provider: config.provider,
    model: config.model,
    async step(request, context) {
      if (context.signal.aborted) throw abortError(context.signal);
      const { sdk, client } = loaded ?? (await load());
      const body = buildChatBody(request, config.model);
      try {
        return request.stream ? await stream(client, body, context) : await complete(client, body, context);
      } catch (error) {
        throw toChatError(error, sdk, context.signal, errorContext);
      }
    },
  };
}

/**
 * The stream's chunks until it ends or `signal` aborts, whichever comes first. The SDK ends its
 * iteration quietly on abort, and a body that ignores the abort would hold the step forever; here
 * an abort always rejects at once and tears the request down. A signal that can never fire needs
 * no watching, and the stream is read as it is.
 */
function untilAborted<T>(stream: Stream<T>, signal: AbortSignal): AsyncIterable<T> {
  return signal === NEVER_ABORTED ? stream : raceAbort(stream, signal);
}

async function* raceAbort<T>(stream: Stream<T>, signal: AbortSignal): AsyncGenerator<T> {
  const iterator = stream[Symbol.asyncIterator]();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => {});
  try {
    while (true) {
      if (signal.aborted) throw abortError(signal);
      const pending = iterator.next();
      // Left behind on abort; whatever it settles with later must not surface as unhandled.
      pending.catch(() => {});
      const next = await Promise.race([pending, aborted]);
      if (next.done) {
        if (signal.aborted) throw abortError(signal);
        return;
      }
      yield next.value;
    }
  } finally {
    signal.removeEventListener('abort', onAbort!);
    stream.controller.abort();
  }
}

/** The SDK's per-request options: no signal to watch when nothing can abort the step. */
function requestOptions(context: StepContext): OpenAI.RequestOptions | undefined {
  if (context.timeoutMs === undefined) {
    return context.signal === NEVER_ABORTED ? undefined : { signal: context.signal };
  }
  return { signal: context.signal, timeout: context.timeoutMs };
}
