import type { ConverseRequest, Tool, ToolConfiguration } from '@aws-sdk/client-bedrock-runtime';
import { byteLength } from '../../core/usage.js';
import type { RewrittenIds } from '../../runtime/rewrite-ids.js';
import type { StepRequest } from '../../runtime/runtime.js';
import type { ParsedBedrockConverseOptions } from './bedrock-converse-options.js';
import { type BedrockDocument, convertToBedrockMessages } from './convert-to-bedrock-messages.js';
import { bedrockToolNames } from './tool-names.js';
import { bedrockToolUseIds } from './tool-use-ids.js';

export interface BuiltConverseRequest {
  input: ConverseRequest;
  ids: RewrittenIds;
  names: RewrittenIds;
  /** The synthetic tool that carries a structured-output answer. */
  outputToolName?: string;
  /** Bytes of the JSON body on the wire. */
  requestBytes: number;
}

const TOOL_NAME_MAX = 64;

function toolSpec(name: string, description: string | undefined, schema: Record<string, unknown>): Tool {
  return {
    toolSpec: {
      name,
      ...(description ? { description } : {}),
      inputSchema: { json: schema as BedrockDocument },
    },
  };
}

/** A Bedrock tool name (`[a-zA-Z0-9_-]{1,64}`) for the output schema, distinct from every real tool. */
function outputToolName(outputName: string, taken: ReadonlySet<string>): string {
  const base = outputName.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, TOOL_NAME_MAX) || 'structured_output';
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base.slice(0, TOOL_NAME_MAX - String(n).length - 1)}_${n}`;
  return name;
}

/**
 * The Converse body as it travels: `modelId` is in the URL, and blobs (image bytes, redacted
 * reasoning) are base64 text in the JSON.
 */
function wireBytes(input: ConverseRequest): number {
  const { modelId: _inUrl, ...body } = input;
  // The holder's own value, not `value`: a Buffer has already been through its toJSON() there.
  function blobsAsBase64(this: Record<string, unknown>, key: string, value: unknown): unknown {
    const raw = this[key];
    return raw instanceof Uint8Array
      ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64')
      : value;
  }
  return byteLength(JSON.stringify(body, blobsAsBase64));
}

/**
 * Builds the ConverseRequest for a step. Structured output uses tool forcing: the schema becomes a
 * tool the model must call (alone: `toolChoice.tool`; next to real tools: `toolChoice.any`, so the
 * model can still use them first), and that call's input is the answer.
 */
export async function buildConverseRequest(
  request: StepRequest,
  options: ParsedBedrockConverseOptions & { family: string },
): Promise<BuiltConverseRequest> {
  const [ids, names] = await Promise.all([bedrockToolUseIds(request.items), bedrockToolNames(request)]);
  const prompt = convertToBedrockMessages(request.items, {
    ...(request.instructions === undefined ? {} : { instructions: request.instructions }),
    family: options.family,
    ids,
    names,
  });

  const offeredNames = request.tools.map((tool) => names.toWire(tool.name));
  const tools = request.tools.map((tool, index) =>
    toolSpec(offeredNames[index]!, tool.description, tool.parameters),
  );
  let toolChoice: ToolConfiguration['toolChoice'];
  let forcedName: string | undefined;
  if (request.output) {
    forcedName = outputToolName(
      request.output.name,
      new Set([...offeredNames, ...prompt.toolNamesInHistory]),
    );
    // Listed before the real tools: the default pick when the model must call a tool and needs none of them.
    tools.unshift(
      toolSpec(
        forcedName,
        'Give your final answer by calling this tool: its input is the answer, a JSON object that matches the schema.',
        request.output.schema,
      ),
    );
    toolChoice = request.tools.length > 0 ? { any: {} } : { tool: { name: forcedName } };
  }
  // Bedrock refuses toolUse/toolResult blocks without a toolConfig: when no tool is offered now,
  // the tools the transcript used are declared so the history can still be sent as it is.
  if (tools.length === 0) {
    for (const name of prompt.toolNamesInHistory) {
      tools.push(toolSpec(name, 'A tool used earlier in this conversation.', { type: 'object' }));
    }
  }

  const input: ConverseRequest = {
    modelId: options.model,
    messages: prompt.messages,
    ...(prompt.system.length > 0 ? { system: prompt.system } : {}),
    ...(tools.length > 0 ? { toolConfig: { tools, ...(toolChoice ? { toolChoice } : {}) } } : {}),
    ...(options.inferenceConfig ? { inferenceConfig: options.inferenceConfig } : {}),
    ...(options.additionalModelRequestFields
      ? { additionalModelRequestFields: options.additionalModelRequestFields as BedrockDocument }
      : {}),
  };
  return {
    input,
    ids,
    names,
    ...(forcedName === undefined ? {} : { outputToolName: forcedName }),
    requestBytes: wireBytes(input),
  };
}
