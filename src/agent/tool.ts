import * as z from 'zod/v4';
import { CloudhopError } from '../core/errors.js';
import { failConfig, parseOptions } from '../core/options.js';
import type { ToolSpec } from '../runtime/runtime.js';

export interface ToolContext {
  /** The session id this turn runs in. */
  session: string;
  namespace: string;
  /** Fires when the turn is aborted or times out: pass it on to anything slow. */
  signal: AbortSignal;
  /** The model's id for this call. */
  callId: string;
}

export interface ToolDefinition<Input, Output> {
  /** 1-64 characters from [a-zA-Z0-9_-]: the rule every supported provider accepts. */
  name: string;
  description?: string;
  /** A zod object schema: validates the model's arguments and becomes the JSON schema it sees. */
  input: z.ZodType<Input>;
  execute: (input: Input, context: ToolContext) => Output | Promise<Output>;
}

export interface Tool<Input = any, Output = any> extends ToolDefinition<Input, Output> {
  /** The JSON schema of `input`, as sent to the model. */
  readonly parameters: Record<string, unknown>;
}

/** Duck-typed so a schema from the application's own copy of zod 4 is accepted too. */
export function isZod4Schema(value: unknown): value is z.ZodType {
  return (
    typeof value === 'object' &&
    value !== null &&
    '_zod' in value &&
    typeof (value as { safeParse?: unknown }).safeParse === 'function'
  );
}

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

const toolDefinitionSchema = z.object({
  name: z.string().regex(TOOL_NAME, 'must be 1-64 characters from [a-zA-Z0-9_-]'),
  description: z.string().optional(),
  input: z.custom<z.ZodType>(
    (value) => isZod4Schema(value),
    'must be a zod schema (z.object({...})) from zod 4 (or "zod/v4" with zod 3.25)',
  ),
  execute: z.custom<(...args: unknown[]) => unknown>(
    (value) => typeof value === 'function',
    'must be a function (input, context) => output',
  ),
});

function toJsonSchema(schema: z.ZodType, toolName: string): Record<string, unknown> {
  let jsonSchema: Record<string, unknown>;
  try {
    jsonSchema = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw' }) as Record<string, unknown>;
  } catch (error) {
    failConfig(
      `tool("${toolName}"): option "input" cannot be expressed as JSON schema (${(error as Error).message}). Use plain zod types (objects, strings, numbers, enums, arrays).`,
      'input',
    );
  }
  delete jsonSchema.$schema;
  return jsonSchema;
}

/** Defines a tool the model may call. Validates eagerly: a bad definition throws `invalid_config` here. */
export function tool<Input, Output>(definition: ToolDefinition<Input, Output>): Tool<Input, Output> {
  parseOptions(
    toolDefinitionSchema,
    definition,
    `tool(${JSON.stringify((definition as { name?: unknown })?.name ?? '')})`,
  );
  const parameters = toJsonSchema(definition.input, definition.name);
  if (parameters.type !== 'object') {
    failConfig(
      `tool("${definition.name}"): option "input" must be an object schema (z.object({...})); providers only accept object arguments.`,
      'input',
    );
  }
  return { ...definition, parameters };
}

/** Checks a tool list and indexes it by name. */
export function indexTools(tools: readonly Tool[]): Map<string, Tool> {
  const byName = new Map<string, Tool>();
  tools.forEach((candidate, index) => {
    if (!candidate || typeof candidate !== 'object' || !('parameters' in candidate)) {
      failConfig(`createAgent: option "tools.${index}" must be made with tool({...}).`, `tools.${index}`);
    }
    if (byName.has(candidate.name)) {
      throw new CloudhopError(
        'invalid_config',
        `createAgent: option "tools" has two tools named "${candidate.name}"; tool names must be unique.`,
        { path: `tools.${index}.name` },
      );
    }
    byName.set(candidate.name, candidate);
  });
  return byName;
}

export function toolSpecs(tools: Iterable<Tool>): ToolSpec[] {
  return Array.from(tools, (t) => ({
    name: t.name,
    ...(t.description === undefined ? {} : { description: t.description }),
    parameters: t.parameters,
  }));
}
