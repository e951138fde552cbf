import * as z from 'zod/v4';
import { invalidRequest, parseBody } from '../errors.js';
import {
  jsonReply,
  type Reply,
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
  type EmulatorContextEntry,
  type EmulatorResponseFormat,
  type EmulatorToolChoice,
  type ModelOutcome,
  runModel,
  textDeltas,
} from '../model.js';

const contentPart = z.looseObject({ type: z.string(), text: z.string().optional() });
const content = z.union([z.string(), z.array(contentPart)]);

const toolCallSchema = z.looseObject({
  id: z.string(),
  type: z.literal('function').optional(),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});

const messageSchema = z.discriminatedUnion('role', [
  z.looseObject({ role: z.literal('system'), content }),
  z.looseObject({ role: z.literal('developer'), content }),
  z.looseObject({ role: z.literal('user'), content }),
  z.looseObject({
    role: z.literal('assistant'),
    content: content.nullable().optional(),
    tool_calls: z.array(toolCallSchema).nullable().optional(),
  }),
  z.looseObject({ role: z.literal('tool'), content, tool_call_id: z.string() }),
  z.looseObject({ role: z.literal('function'), content: z.string().nullable(), name: z.string() }),
]);

const baseBody = z.looseObject({
  messages: z.array(messageSchema).min(1),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  tools: z
    .array(
      z.looseObject({
        type: z.literal('function'),
        function: z.looseObject({
          name: z.string().min(1),
          description: z.string().optional(),
          parameters: z.record(z.string(), z.unknown()).optional(),
        }),
      }),
    )
    .nullable()
    .optional(),
  tool_choice: z
    .union([
      z.enum(['none', 'auto', 'required']),
      z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string() }) }),
    ])
    .nullable()
    .optional(),
  response_format: z
    .union([
      z.looseObject({ type: z.enum(['text', 'json_object']) }),
      z.looseObject({
        type: z.literal('json_schema'),
        json_schema: z.looseObject({
          name: z.string(),
          schema: z.record(z.string(), z.unknown()).optional(),
          strict: z.boolean().nullable().optional(),
        }),
      }),
    ])
    .nullable()
    .optional(),
});

/** On the deployment path the deployment names the model, so the body's `model` is optional. */
const deploymentBody = baseBody.extend({ model: z.string().optional() });
const modelBody = baseBody.extend({ model: z.string() });

type ChatBody = z.infer<typeof deploymentBody>;
type ChatMessage = z.infer<typeof messageSchema>;

function textOf(value: z.infer<typeof content> | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  return value
    .map((part) => part.text)
    .filter((text): text is string => typeof text === 'string')
    .join('');
}

/** OpenAI rejects tool messages that answer no call, and calls left without an answer. */
function checkToolPairing(messages: ChatMessage[], vendor: Vendor): void {
  let pending = new Set<string>();
  let pendingAt = -1;
  const unanswered = () =>
    invalidRequest(
      vendor,
      `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[
        ...pending,
      ].join(', ')}`,
      `messages.[${pendingAt}].role`,
    );
  messages.forEach((message, index) => {
    if (message.role === 'tool') {
      if (!pending.delete(message.tool_call_id)) {
        throw invalidRequest(
          vendor,
          "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
          `messages.[${index}].role`,
        );
      }
      return;
    }
    if (pending.size > 0) throw unanswered();
    if (message.role === 'assistant' && message.tool_calls && message.tool_calls.length > 0) {
      pending = new Set(message.tool_calls.map((call) => call.id));
      pendingAt = index;
    }
  });
  if (pending.size > 0) throw unanswered();
}

function contextEntries(messages: ChatMessage[]): EmulatorContextEntry[] {
  const entries: EmulatorContextEntry[] = [];
  for (const message of messages) {
    switch (message.role) {
      case 'system':
      case 'developer':
        entries.push({ type: 'message', role: 'system', text: textOf(message.content) });
        break;
      case 'user':
        entries.push({ type: 'message', role: 'user', text: textOf(message.content) });
        break;
      case 'assistant': {
        const text = textOf(message.content);
        if (text !== '' || !message.tool_calls?.length)
          entries.push({ type: 'message', role: 'assistant', text });
        for (const call of message.tool_calls ?? []) {
          entries.push({
            type: 'tool_call',
            callId: call.id,
            name: call.function.name,
            arguments: call.function.arguments,
          });
        }
        break;
      }
      case 'tool':
        entries.push({ type: 'tool_result', callId: message.tool_call_id, output: textOf(message.content) });
        break;
      case 'function':
        entries.push({ type: 'tool_result', callId: message.name, output: message.content ?? '' });
        break;
    }
  }
  return entries;
}

function toolChoiceOf(body: ChatBody): EmulatorToolChoice {
  const choice = body.tool_choice;
  if (choice === null || choice === undefined) return 'auto';
  return typeof choice === 'string' ? choice : { name: choice.function.name };
}

function responseFormatOf(body: ChatBody): EmulatorResponseFormat | undefined {
  const format = body.response_format;
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_schema' && 'json_schema' in format) {
    return { type: 'json_schema', name: format.json_schema.name, schema: format.json_schema.schema ?? {} };
  }
  return { type: 'json_object' };
}

const SAFE_SEVERITY = { filtered: false, severity: 'safe' };
const NOT_DETECTED = { filtered: false, detected: false };

function promptFilterResults() {
  return [
    {
      prompt_index: 0,
      content_filter_results: {
        hate: SAFE_SEVERITY,
        jailbreak: NOT_DETECTED,
        self_harm: SAFE_SEVERITY,
        sexual: SAFE_SEVERITY,
        violence: SAFE_SEVERITY,
      },
    },
  ];
}

function completionFilterResults(withProtectedMaterial: boolean) {
  return {
    hate: SAFE_SEVERITY,
    self_harm: SAFE_SEVERITY,
    sexual: SAFE_SEVERITY,
    violence: SAFE_SEVERITY,
    ...(withProtectedMaterial
      ? { protected_material_code: NOT_DETECTED, protected_material_text: NOT_DETECTED }
      : {}),
  };
}

function usageOf(outcome: ModelOutcome) {
  return {
    prompt_tokens: outcome.usage.inputTokens,
    completion_tokens: outcome.usage.outputTokens,
    total_tokens: outcome.usage.inputTokens + outcome.usage.outputTokens,
    prompt_tokens_details: { cached_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
  };
}

/**
 * OpenAI names its backend configuration in every completion and chunk, as a string (the spec's
 * CreateChatCompletionResponse); Azure's recorded streams carry null there.
 */
const OPENAI_SYSTEM_FINGERPRINT = 'fp_c10d4a7e05';

interface Completion {
  id: string;
  created: number;
  model: string;
  azure: boolean;
  systemFingerprint: string | null;
  outcome: ModelOutcome;
  toolCallIds: string[];
}

function completionBody(completion: Completion): Record<string, unknown> {
  const { outcome, azure } = completion;
  const message =
    outcome.kind === 'text'
      ? { role: 'assistant', content: outcome.text, refusal: null }
      : {
          role: 'assistant',
          content: null,
          refusal: null,
          tool_calls: outcome.calls.map((call, index) => ({
            id: completion.toolCallIds[index],
            type: 'function',
            function: { name: call.name, arguments: call.arguments },
          })),
        };
  return {
    id: completion.id,
    object: 'chat.completion',
    created: completion.created,
    model: completion.model,
    system_fingerprint: completion.systemFingerprint,
    choices: [
      {
        index: 0,
        finish_reason: outcome.kind === 'text' ? 'stop' : 'tool_calls',
        logprobs: null,
        message,
        ...(azure ? { content_filter_results: completionFilterResults(true) } : {}),
      },
    ],
    usage: usageOf(outcome),
    ...(azure ? { prompt_filter_results: promptFilterResults() } : {}),
  };
}

/**
 * The chunk sequence: on Azure paths an empty-choices chunk with only prompt_filter_results
 * first; a role chunk; content or tool-call deltas; the finish chunk; with include_usage an
 * empty-choices usage chunk; then `[DONE]`.
 */
function completionChunks(completion: Completion, includeUsage: boolean): string[] {
  const { outcome, azure } = completion;
  const chunk = (choice: Record<string, unknown>, filters: boolean) => ({
    id: completion.id,
    object: 'chat.completion.chunk',
    created: completion.created,
    model: completion.model,
    system_fingerprint: completion.systemFingerprint,
    choices: [
      {
        index: 0,
        logprobs: null,
        finish_reason: null,
        ...choice,
        ...(azure ? { content_filter_results: filters ? completionFilterResults(false) : {} } : {}),
      },
    ],
    ...(includeUsage ? { usage: null } : {}),
  });
  const events: string[] = [];
  if (azure) {
    events.push(
      sseEvent({
        choices: [],
        created: 0,
        id: '',
        model: '',
        object: '',
        prompt_filter_results: promptFilterResults(),
      }),
    );
  }
  if (outcome.kind === 'text') {
    events.push(sseEvent(chunk({ delta: { role: 'assistant', content: '', refusal: null } }, false)));
    for (const delta of textDeltas(outcome.text))
      events.push(sseEvent(chunk({ delta: { content: delta } }, true)));
  } else {
    outcome.calls.forEach((call, index) => {
      const header = {
        index,
        id: completion.toolCallIds[index],
        type: 'function',
        function: { name: call.name, arguments: '' },
      };
      const delta =
        index === 0 ? { role: 'assistant', content: null, tool_calls: [header] } : { tool_calls: [header] };
      events.push(sseEvent(chunk({ delta }, false)));
      for (const fragment of argumentFragments(call.arguments)) {
        events.push(
          sseEvent(chunk({ delta: { tool_calls: [{ index, function: { arguments: fragment } }] } }, false)),
        );
      }
    });
  }
  events.push(
    sseEvent(chunk({ delta: {}, finish_reason: outcome.kind === 'text' ? 'stop' : 'tool_calls' }, false)),
  );
  if (includeUsage) {
    events.push(
      sseEvent({
        id: completion.id,
        object: 'chat.completion.chunk',
        created: completion.created,
        model: completion.model,
        system_fingerprint: completion.systemFingerprint,
        choices: [],
        usage: usageOf(outcome),
      }),
    );
  }
  events.push(sseEvent('[DONE]'));
  return events;
}

async function createCompletion(
  input: RouteInput,
  services: RouteServices,
  deployment: string | undefined,
): Promise<Reply> {
  const body: ChatBody = parseBody(
    deployment === undefined ? modelBody : deploymentBody,
    input.body,
    input.vendor,
  );
  checkToolPairing(body.messages, input.vendor);
  const context: EmulatorContext = {
    protocol: 'chat',
    model: deployment ?? body.model ?? '',
    stateful: false,
    stream: body.stream === true,
    entries: contextEntries(body.messages),
    tools: (body.tools ?? []).map((tool) => ({
      name: tool.function.name,
      ...(tool.function.description === undefined ? {} : { description: tool.function.description }),
      parameters: tool.function.parameters ?? {},
    })),
    toolChoice: toolChoiceOf(body),
  };
  const responseFormat = responseFormatOf(body);
  if (responseFormat) context.responseFormat = responseFormat;
  const outcome = await runModel(context, services.respond);
  const completion: Completion = {
    id: newIds.chatCompletion(),
    created: unixSeconds(),
    model: context.model,
    azure: input.vendor === 'azure',
    systemFingerprint: input.vendor === 'azure' ? null : OPENAI_SYSTEM_FINGERPRINT,
    outcome,
    toolCallIds: outcome.kind === 'tool_calls' ? outcome.calls.map(() => newIds.call()) : [],
  };
  if (!context.stream) return jsonReply(200, completionBody(completion));
  return {
    kind: 'stream',
    headers: SSE_HEADERS,
    chunks: completionChunks(completion, body.stream_options?.include_usage === true),
  };
}

export const chatCompletionRoutes: RouteDefinition[] = [
  {
    method: 'POST',
    pattern: /^\/openai\/deployments\/([^/]+)\/chat\/completions$/,
    route: 'chat',
    requiresApiVersion: true,
    handle: (input, services) => createCompletion(input, services, input.params[0]),
  },
  {
    method: 'POST',
    pattern: /^\/openai\/v1\/chat\/completions$/,
    route: 'chat',
    handle: (input, services) => createCompletion(input, services, undefined),
  },
  {
    method: 'POST',
    pattern: /^\/v1\/chat\/completions$/,
    route: 'chat',
    handle: (input, services) => createCompletion(input, services, undefined),
  },
];
