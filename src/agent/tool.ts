import * as z from 'zod/v4';
import { failConfig, functionOption, hasMethods, isObject, parseOptions } from '../core/options.js';
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
  return hasMethods(value, ['safeParse']) && '_zod' in value;
}

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

const toolDefinitionSchema = z.object({
  name: z.string().regex(TOOL_NAME, 'must be 1-64 characters from [a-zA-Z0-9_-]'),
  description: z.string().optional(),
  input: z.custom<z.ZodType>(
    isZod4Schema,
    'must be a zod schema (z.object({...})) from zod 4 (or "zod/v4" with zod 3.25)',
  ),
  execute: functionOption<(...args: unknown[]) => unknown>('must be a function (input, context) => output'),
});

/**
 * The JSON schema of what `schema` reads (`io: 'input'`) or gives, without `$schema`; `fail` gets
 * the reason when it cannot be expressed.
 */
export function jsonSchemaOf(
  schema: z.ZodType,
  io: 'input' | 'output',
  fail: (reason: string) => never,
): Record<string, unknown> {
  let jsonSchema: Record<string, unknown>;
  try {
    jsonSchema = z.toJSONSchema(schema, { io, unrepresentable: 'throw' }) as Record<string, unknown>;
  } catch (error) {
    fail((error as Error).message);
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
  const parameters = jsonSchemaOf(definition.input, 'input', (reason) =>
    failConfig(
      `tool("${definition.name}"): option "input" cannot be expressed as JSON schema (${reason}). Use plain zod types (objects, strings, numbers, enums, arrays).`,
      'input',
    ),
  );
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
    if (!isObject(candidate) || !('parameters' in candidate)) {
      failConfig(`createAgent: option "tools.${index}" must be made with tool({...}).`, `tools.${index}`);
    }
    if (byName.has(candidate.name)) {
      failConfig(
        `createAgent: option "tools" has two tools named "${candidate.name}"; tool names must be unique.`,
        `tools.${index}.name`,
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
