import * as z from 'zod/v4';
import { invalidRequest, openaiError, parseBody } from '../errors.js';
import {
  jsonReply,
  type Reply,
  ReplyError,
  type RouteDefinition,
  type RouteInput,
  type RouteServices,
  SSE_HEADERS,
  sseEvent,
  unixSeconds,
  type Vendor,
} from '../http.js';
import { newIds } from '../ids.js';
import {
  argumentFragments,
  type EmulatorContext,
  type EmulatorResponseFormat,
  type EmulatorTool,
  type EmulatorToolChoice,
  type ModelOutcome,
  runModel,
  textDeltas,
} from '../model.js';
import type { StoredConversation, WireItem } from '../state.js';
import {
  checkCallOutputs,
  inputItemSchema,
  itemsToEntries,
  listPage,
  toWireItem,
} from './responses-items.js';

const textFormatSchema = z.union([
  z.looseObject({ type: z.enum(['text', 'json_object']) }),
  z.looseObject({
    type: z.literal('json_schema'),
    name: z.string(),
    schema: z.record(z.string(), z.unknown()),
    strict: z.boolean().nullable().optional(),
  }),
]);

const createBody = z.looseObject({
  model: z.string(),
  input: z.union([z.string(), z.array(inputItemSchema)]),
  instructions: z.string().nullable().optional(),
  previous_response_id: z.string().nullable().optional(),
  conversation: z
    .union([z.string(), z.looseObject({ id: z.string() })])
    .nullable()
    .optional(),
  store: z.boolean().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  tools: z
    .array(
      z.looseObject({
        type: z.string(),
        name: z.string().optional(),
        description: z.string().nullable().optional(),
        parameters: z.record(z.string(), z.unknown()).nullable().optional(),
      }),
    )
    .nullable()
    .optional(),
  tool_choice: z
    .union([
      z.enum(['none', 'auto', 'required']),
      z.looseObject({ type: z.string(), name: z.string().optional() }),
    ])
    .nullable()
    .optional(),
  text: z.looseObject({ format: textFormatSchema.optional() }).nullable().optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
});

type CreateBody = z.infer<typeof createBody>;

export function conversationNotFound(id: string, param: string | null = null): ReplyError {
  return new ReplyError(openaiError(404, `Conversation with id '${id}' not found.`, { param }));
}

function responseNotFound(id: string): ReplyError {
  return new ReplyError(openaiError(404, `Response with id '${id}' not found.`));
}

function functionTools(body: CreateBody, vendor: Vendor): EmulatorTool[] {
  const tools: EmulatorTool[] = [];
  (body.tools ?? []).forEach((tool, index) => {
    if (tool.type !== 'function') return;
    if (typeof tool.name !== 'string' || tool.name === '') {
      throw invalidRequest(
        vendor,
        `Missing required parameter: 'tools[${index}].name'.`,
        `tools[${index}].name`,
        'missing_required_parameter',
      );
    }
    tools.push({
      name: tool.name,
      ...(typeof tool.description === 'string' ? { description: tool.description } : {}),
      parameters: tool.parameters ?? {},
    });
  });
  return tools;
}

function toolChoiceOf(body: CreateBody): EmulatorToolChoice {
  const choice = body.tool_choice;
  if (choice === null || choice === undefined) return 'auto';
  if (typeof choice === 'string') return choice;
  return typeof choice.name === 'string' ? { name: choice.name } : 'required';
}

function responseFormatOf(body: CreateBody): EmulatorResponseFormat | undefined {
  const format = body.text?.format;
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_schema' && 'schema' in format) {
    return {
      type: 'json_schema',
      name: String(format.name),
      schema: format.schema as Record<string, unknown>,
    };
  }
  return { type: 'json_object' };
}

function outputItems(outcome: ModelOutcome): WireItem[] {
  if (outcome.kind === 'text') {
    return [
      {
        id: newIds.message(),
        type: 'message',
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text: outcome.text, annotations: [], logprobs: [] }],
      },
    ];
  }
  return outcome.calls.map((call) => ({
    id: newIds.functionCall(),
    type: 'function_call',
    status: 'completed',
    arguments: call.arguments,
    call_id: newIds.call(),
    name: call.name,
  }));
}

/** The event sequence of a Responses stream, each with `event:` and a `sequence_number`; no [DONE]. */
function streamEvents(response: Record<string, unknown>, output: WireItem[]): string[] {
  const events: string[] = [];
  const emit = (type: string, fields: Record<string, unknown>) =>
    events.push(sseEvent({ type, sequence_number: events.length, ...fields }, type));
  const pending = { ...response, status: 'in_progress', completed_at: null, output: [], usage: null };
  emit('response.created', { response: pending });
  emit('response.in_progress', { response: pending });
  output.forEach((item, outputIndex) => {
    if (item.type === 'message') {
      const text = String((item.content as Array<{ text: string }>)[0]!.text);
      const at = { item_id: item.id, output_index: outputIndex, content_index: 0 };
      emit('response.output_item.added', {
        output_index: outputIndex,
        item: { ...item, status: 'in_progress', content: [] },
      });
      emit('response.content_part.added', {
        ...at,
        part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
      });
      for (const delta of textDeltas(text))
        emit('response.output_text.delta', { ...at, delta, logprobs: [] });
      emit('response.output_text.done', { ...at, text, logprobs: [] });
      emit('response.content_part.done', {
        ...at,
        part: { type: 'output_text', text, annotations: [], logprobs: [] },
      });
    } else {
      const args = String(item.arguments);
      emit('response.output_item.added', {
        output_index: outputIndex,
        item: { ...item, status: 'in_progress', arguments: '' },
      });
      for (const delta of argumentFragments(args)) {
        emit('response.function_call_arguments.delta', {
          item_id: item.id,
          output_index: outputIndex,
          delta,
        });
      }
      // Real traffic has no `name` on this event, although the schema lists it.
      emit('response.function_call_arguments.done', {
        item_id: item.id,
        output_index: outputIndex,
        arguments: args,
      });
    }
    emit('response.output_item.done', { output_index: outputIndex, item });
  });
  emit('response.completed', { response });
  return events;
}

async function createResponse(input: RouteInput, services: RouteServices): Promise<Reply> {
  const { vendor } = input;
  const { state } = services;
  const body = parseBody(createBody, input.body, vendor);
  const previousId = body.previous_response_id ?? undefined;
  const conversationId =
    body.conversation === null || body.conversation === undefined
      ? undefined
      : typeof body.conversation === 'string'
        ? body.conversation
        : body.conversation.id;
  if (previousId !== undefined && conversationId !== undefined) {
    throw invalidRequest(
      vendor,
      "Mutually exclusive parameters: Ensure you are only providing one of: 'previous_response_id' or 'conversation'.",
      'previous_response_id',
      'mutually_exclusive_parameters',
    );
  }

  let held: WireItem[] = [];
  let conversation: StoredConversation | undefined;
  if (previousId !== undefined) {
    const chain = state.chainItems(previousId);
    if (chain === undefined) {
      throw invalidRequest(
        vendor,
        `Previous response with id '${previousId}' not found.`,
        'previous_response_id',
        'previous_response_not_found',
      );
    }
    held = chain;
  } else if (conversationId !== undefined) {
    conversation = state.getConversation(conversationId);
    if (conversation === undefined) throw conversationNotFound(conversationId, 'conversation');
    held = conversation.items;
  }

  const newInput = (
    typeof body.input === 'string' ? [{ role: 'user' as const, content: body.input }] : body.input
  ).map(toWireItem);
  checkCallOutputs([...held, ...newInput], vendor);

  const instructions = body.instructions ?? undefined;
  const context: EmulatorContext = {
    protocol: 'responses',
    model: body.model,
    stateful: previousId !== undefined || conversationId !== undefined,
    stream: body.stream === true,
    entries: [
      ...(instructions ? [{ type: 'message' as const, role: 'system' as const, text: instructions }] : []),
      ...itemsToEntries([...held, ...newInput]),
    ],
    tools: functionTools(body, vendor),
    toolChoice: toolChoiceOf(body),
  };
  const responseFormat = responseFormatOf(body);
  if (responseFormat) context.responseFormat = responseFormat;
  const outcome = await runModel(context, services.respond);
  const output = outputItems(outcome);

  const createdAt = Date.now();
  const store = body.store !== false;
  const response: Record<string, unknown> = {
    id: newIds.response(),
    object: 'response',
    created_at: Math.floor(createdAt / 1000),
    status: 'completed',
    background: false,
    completed_at: unixSeconds(),
    error: null,
    incomplete_details: null,
    instructions: instructions ?? null,
    max_output_tokens: null,
    model: body.model,
    output,
    parallel_tool_calls: true,
    previous_response_id: previousId ?? null,
    conversation: conversationId === undefined ? null : { id: conversationId },
    reasoning: { effort: null, summary: null },
    service_tier: 'default',
    store,
    temperature: 1,
    text: { format: body.text?.format ?? { type: 'text' } },
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    top_p: 1,
    truncation: 'disabled',
    usage: {
      input_tokens: outcome.usage.inputTokens,
      input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      output_tokens: outcome.usage.outputTokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: outcome.usage.inputTokens + outcome.usage.outputTokens,
    },
    user: null,
    metadata: body.metadata ?? {},
  };
  if (store) {
    state.putResponse({
      id: response.id as string,
      createdAt,
      ...(previousId === undefined ? {} : { previousResponseId: previousId }),
      input: newInput,
      output,
      response,
    });
  }
  conversation?.items.push(...newInput, ...output);

  if (!context.stream) return jsonReply(200, response);
  return { kind: 'stream', headers: SSE_HEADERS, chunks: streamEvents(response, output) };
}

function getResponse(input: RouteInput, services: RouteServices): Reply {
  const id = input.params[0]!;
  const stored = services.state.getResponse(id);
  if (stored === undefined) throw responseNotFound(id);
  return jsonReply(200, stored.response);
}

function deleteResponse(input: RouteInput, services: RouteServices): Reply {
  const id = input.params[0]!;
  if (!services.state.deleteResponse(id)) throw responseNotFound(id);
  return jsonReply(200, { id, object: 'response', deleted: true });
}

function listInputItems(input: RouteInput, services: RouteServices): Reply {
  const id = input.params[0]!;
  const stored = services.state.getResponse(id);
  if (stored === undefined) throw responseNotFound(id);
  return jsonReply(200, listPage(stored.input, input.query, input.vendor));
}

/** `/v1` (OpenAI, Bedrock mantle), `/openai/v1` (Azure v1, Bedrock runtime) and `/openai` (Azure preview). */
const PREFIX = '(?:/v1|/openai/v1|/openai)';

export const responsesRoutes: RouteDefinition[] = [
  {
    method: 'POST',
    pattern: new RegExp(`^${PREFIX}/responses$`),
    route: 'responses',
    handle: createResponse,
  },
  {
    method: 'GET',
    pattern: new RegExp(`^${PREFIX}/responses/([^/]+)$`),
    route: 'responses',
    handle: getResponse,
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^${PREFIX}/responses/([^/]+)$`),
    route: 'responses',
    handle: deleteResponse,
  },
  {
    method: 'GET',
    pattern: new RegExp(`^${PREFIX}/responses/([^/]+)/input_items$`),
    route: 'responses',
    handle: listInputItems,
  },
];
