import * as z from 'zod/v4';
import { invalidRequest, parseBody } from '../errors.js';
import { eventStreamMessage } from '../event-stream.js';
import { jsonReply, type Reply, type RouteDefinition, type RouteInput, type RouteServices } from '../http.js';
import { newIds } from '../ids.js';
import {
  argumentFragments,
  type EmulatorContext,
  type EmulatorContextEntry,
  type EmulatorToolChoice,
  type ModelOutcome,
  runModel,
  textDeltas,
} from '../model.js';

/**
 * ToolName and ToolUseId share one constraint in the Smithy model, checked wherever they appear:
 * tool specs, `toolChoice`, and the toolUse / toolResult blocks of the history.
 */
const toolIdentifier = z
  .string()
  .max(64, { message: 'Member must have length less than or equal to 64' })
  .regex(/^[a-zA-Z0-9_-]+$/, { message: 'Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+' });

/** A content block is a union: exactly one member set. */
const contentBlock = z
  .looseObject({
    text: z.string().optional(),
    toolUse: z
      .looseObject({ toolUseId: toolIdentifier, name: toolIdentifier, input: z.unknown() })
      .optional(),
    toolResult: z
      .looseObject({
        toolUseId: toolIdentifier,
        content: z.array(z.looseObject({ text: z.string().optional(), json: z.unknown().optional() })),
        status: z.enum(['success', 'error']).optional(),
      })
      .optional(),
  })
  .refine((block) => Object.keys(block).length === 1, { message: 'Member must have exactly one field set' });

const messageSchema = z.looseObject({
  role: z.enum(['user', 'assistant']),
  content: z.array(contentBlock).min(1),
});

const toolSpec = z.looseObject({
  name: toolIdentifier,
  description: z.string().optional(),
  inputSchema: z.looseObject({ json: z.record(z.string(), z.unknown()) }),
});

const converseBody = z.looseObject({
  messages: z.array(messageSchema).min(1),
  system: z.array(z.looseObject({ text: z.string().optional() })).optional(),
  inferenceConfig: z
    .looseObject({
      maxTokens: z.int().min(1).optional(),
      temperature: z.number().min(0).max(1).optional(),
      topP: z.number().min(0).max(1).optional(),
      stopSequences: z.array(z.string()).optional(),
    })
    .optional(),
  toolConfig: z
    .looseObject({
      tools: z.array(z.looseObject({ toolSpec: toolSpec.optional() })).min(1),
      toolChoice: z
        .looseObject({
          auto: z.looseObject({}).optional(),
          any: z.looseObject({}).optional(),
          tool: z.looseObject({ name: toolIdentifier }).optional(),
        })
        .optional(),
    })
    .optional(),
});

type ConverseBody = z.infer<typeof converseBody>;
type ConverseMessage = z.infer<typeof messageSchema>;

/** What Bedrock checks beyond the schema: turn order, and tool results that answer the previous turn's calls. */
function checkConversation(body: ConverseBody): void {
  const { messages } = body;
  if (messages[0]!.role !== 'user') {
    throw invalidRequest(
      'bedrock',
      'A conversation must start with a user message. Try again with a conversation that starts with a user message.',
    );
  }
  let usesTools = false;
  messages.forEach((message, index) => {
    const previous = messages[index - 1];
    if (previous && previous.role === message.role) {
      throw invalidRequest(
        'bedrock',
        'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.',
      );
    }
    const results = message.content.flatMap((block) =>
      block.toolResult ? [block.toolResult.toolUseId] : [],
    );
    const calls = previous ? toolUseIds(previous) : [];
    if (message.content.some((block) => block.toolUse || block.toolResult)) usesTools = true;
    if (results.length > calls.length) {
      throw invalidRequest(
        'bedrock',
        `The number of toolResult blocks at messages.${index}.content exceeds the number of toolUse blocks of previous turn.`,
      );
    }
    const missing = calls.filter((id) => !results.includes(id));
    if (message.role === 'user' && missing.length > 0) {
      throw invalidRequest(
        'bedrock',
        `Expected toolResult blocks at messages.${index}.content for the following Ids: ${missing.join(', ')}`,
      );
    }
  });
  if (usesTools && !body.toolConfig) {
    throw invalidRequest(
      'bedrock',
      'The toolConfig field must be defined when using toolUse and toolResult content blocks.',
    );
  }
}

function toolUseIds(message: ConverseMessage): string[] {
  return message.content.flatMap((block) => (block.toolUse ? [block.toolUse.toolUseId] : []));
}

function contextEntries(body: ConverseBody): EmulatorContextEntry[] {
  const entries: EmulatorContextEntry[] = [];
  const system = (body.system ?? []).map((block) => block.text ?? '').join('\n');
  if (system !== '') entries.push({ type: 'message', role: 'system', text: system });
  for (const message of body.messages) {
    const text = message.content.map((block) => block.text ?? '').join('');
    if (message.content.some((block) => block.text !== undefined)) {
      entries.push({ type: 'message', role: message.role, text });
    }
    for (const block of message.content) {
      if (block.toolUse) {
        entries.push({
          type: 'tool_call',
          callId: block.toolUse.toolUseId,
          name: block.toolUse.name,
          arguments: JSON.stringify(block.toolUse.input ?? {}),
        });
      } else if (block.toolResult) {
        entries.push({
          type: 'tool_result',
          callId: block.toolResult.toolUseId,
          output: block.toolResult.content
            .map((part) => (part.text !== undefined ? part.text : JSON.stringify(part.json ?? null)))
            .join(''),
          ...(block.toolResult.status === 'error' ? { isError: true } : {}),
        });
      }
    }
  }
  return entries;
}

function toolChoiceOf(body: ConverseBody): EmulatorToolChoice {
  const choice = body.toolConfig?.toolChoice;
  if (choice?.tool) return { name: choice.tool.name };
  if (choice?.any) return 'required';
  return 'auto';
}

interface Turn {
  outcome: ModelOutcome;
  toolUseIds: string[];
  startedAt: number;
}

function usageOf(outcome: ModelOutcome) {
  return {
    inputTokens: outcome.usage.inputTokens,
    outputTokens: outcome.usage.outputTokens,
    totalTokens: outcome.usage.inputTokens + outcome.usage.outputTokens,
    cacheReadInputTokens: 0,
    cacheWriteInputTokens: 0,
  };
}

async function runTurn(input: RouteInput, services: RouteServices, stream: boolean): Promise<Turn> {
  const startedAt = Date.now();
  const body = parseBody(converseBody, input.body, 'bedrock');
  checkConversation(body);
  const context: EmulatorContext = {
    protocol: 'converse',
    model: input.params[0]!,
    stateful: false,
    stream,
    entries: contextEntries(body),
    tools: (body.toolConfig?.tools ?? []).flatMap((tool) =>
      tool.toolSpec
        ? [
            {
              name: tool.toolSpec.name,
              ...(tool.toolSpec.description === undefined ? {} : { description: tool.toolSpec.description }),
              parameters: tool.toolSpec.inputSchema.json,
            },
          ]
        : [],
    ),
    toolChoice: toolChoiceOf(body),
  };
  const outcome = await runModel(context, services.respond);
  return {
    outcome,
    toolUseIds: outcome.kind === 'tool_calls' ? outcome.calls.map(() => newIds.toolUse()) : [],
    startedAt,
  };
}

function parsedArguments(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return {};
  }
}

async function converse(input: RouteInput, services: RouteServices): Promise<Reply> {
  const { outcome, toolUseIds: ids, startedAt } = await runTurn(input, services, false);
  const content =
    outcome.kind === 'text'
      ? [{ text: outcome.text }]
      : outcome.calls.map((call, index) => ({
          toolUse: { toolUseId: ids[index], name: call.name, input: parsedArguments(call.arguments) },
        }));
  return jsonReply(
    200,
    {
      output: { message: { role: 'assistant', content } },
      stopReason: outcome.kind === 'text' ? 'end_turn' : 'tool_use',
      usage: usageOf(outcome),
      metrics: { latencyMs: Date.now() - startedAt },
    },
    { 'x-amzn-requestid': newIds.request() },
  );
}

const PADDING = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/**
 * The frame sequence of a ConverseStream: messageStart; for text, deltas without a
 * contentBlockStart; for tool use, contentBlockStart then input as JSON string fragments;
 * contentBlockStop; messageStop; metadata (usage and metrics) last. Each payload carries a
 * padding field `p`, as Bedrock's do.
 */
async function converseStream(input: RouteInput, services: RouteServices): Promise<Reply> {
  const { outcome, toolUseIds: ids, startedAt } = await runTurn(input, services, true);
  const encoder = new TextEncoder();
  const frames: Uint8Array[] = [];
  const frame = (eventType: string, payload: Record<string, unknown>) =>
    frames.push(
      eventStreamMessage(
        { ':event-type': eventType, ':content-type': 'application/json', ':message-type': 'event' },
        encoder.encode(JSON.stringify({ ...payload, p: PADDING.slice(0, 1 + ((frames.length * 7) % 40)) })),
      ),
    );

  frame('messageStart', { role: 'assistant' });
  if (outcome.kind === 'text') {
    for (const text of textDeltas(outcome.text))
      frame('contentBlockDelta', { contentBlockIndex: 0, delta: { text } });
    frame('contentBlockStop', { contentBlockIndex: 0 });
  } else {
    outcome.calls.forEach((call, index) => {
      frame('contentBlockStart', {
        contentBlockIndex: index,
        start: { toolUse: { toolUseId: ids[index], name: call.name } },
      });
      for (const fragment of argumentFragments(call.arguments)) {
        frame('contentBlockDelta', { contentBlockIndex: index, delta: { toolUse: { input: fragment } } });
      }
      frame('contentBlockStop', { contentBlockIndex: index });
    });
  }
  frame('messageStop', { stopReason: outcome.kind === 'text' ? 'end_turn' : 'tool_use' });
  frame('metadata', { usage: usageOf(outcome), metrics: { latencyMs: Date.now() - startedAt } });
  return {
    kind: 'stream',
    headers: { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': newIds.request() },
    chunks: frames,
  };
}

export const bedrockConverseRoutes: RouteDefinition[] = [
  { method: 'POST', pattern: /^\/model\/([^/]+)\/converse$/, route: 'converse', handle: converse },
  {
    method: 'POST',
    pattern: /^\/model\/([^/]+)\/converse-stream$/,
    route: 'converse-stream',
    handle: converseStream,
  },
];
