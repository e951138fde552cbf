/** A JSON Schema as the vendors accept it (tool parameters, structured-output schemas). */
export type JsonSchema = { [key: string]: unknown } | boolean;

export interface SampleHints {
  /** The text values are taken from (the latest user message, plus any tool output that answers it). */
  text: string;
  /** Words never used as a string value (the tool's own name). */
  exclude?: string[];
}

interface SampleState {
  root: JsonSchema;
  word: string | undefined;
  numbers: number[];
  text: string;
}

const MAX_DEPTH = 8;
const ARRAY_DEPTH = 3;

/**
 * Builds a value that is valid for `schema`, taking values from the hints where it can: a string
 * gets the last capitalized word of the text, a number the next number the text mentions (when
 * in range), an enum the member the text names. Everything else gets the smallest valid value.
 */
export function sampleFromSchema(schema: JsonSchema | undefined, hints: SampleHints): unknown {
  const root = schema ?? {};
  const state: SampleState = {
    root,
    word: lastCapitalizedWord(hints.text, hints.exclude ?? []),
    numbers: numbersIn(hints.text),
    text: hints.text,
  };
  return sample(root, state, 0, undefined);
}

/** The last word that starts with an uppercase letter and is not excluded (compared case-insensitively). */
export function lastCapitalizedWord(text: string, exclude: string[]): string | undefined {
  const excluded = new Set(exclude.map((word) => word.toLowerCase()));
  const words = text.match(/[\p{L}\p{N}_-]+/gu) ?? [];
  for (let i = words.length - 1; i >= 0; i--) {
    const word = words[i]!.replace(/^-+|-+$/g, '');
    if (/^\p{Lu}/u.test(word) && !excluded.has(word.toLowerCase())) return word;
  }
  return undefined;
}

function numbersIn(text: string): number[] {
  return (text.match(/-?\d+(?:\.\d+)?/g) ?? []).map(Number);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function resolveRef(ref: string, root: JsonSchema): JsonSchema | undefined {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/').filter(Boolean)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(node)) return undefined;
    node = node[key];
  }
  return isObject(node) || typeof node === 'boolean' ? node : undefined;
}

function sample(
  schema: JsonSchema,
  state: SampleState,
  depth: number,
  propertyName: string | undefined,
): unknown {
  if (depth > MAX_DEPTH) return null;
  if (!isObject(schema)) return stringValue({}, state, propertyName);
  if (typeof schema.$ref === 'string') {
    const target = resolveRef(schema.$ref, state.root);
    return target === undefined ? null : sample(target, state, depth + 1, propertyName);
  }
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return enumValue(schema.enum, state);
  if (schema.default !== undefined) return schema.default;
  const alternatives = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (Array.isArray(alternatives) && alternatives.length > 0) {
    const preferred = alternatives.find((option) => !(isObject(option) && option.type === 'null'));
    return sample(preferred ?? alternatives[0]!, state, depth + 1, propertyName);
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
    return sample(mergeAllOf(schema.allOf as JsonSchema[], state.root), state, depth + 1, propertyName);
  }

  switch (schemaType(schema)) {
    case 'object':
      return objectValue(schema, state, depth);
    case 'array':
      return arrayValue(schema, state, depth, propertyName);
    case 'integer':
      return numberValue(schema, state, true);
    case 'number':
      return numberValue(schema, state, false);
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return stringValue(schema, state, propertyName);
  }
}

function schemaType(schema: Record<string, unknown>): string {
  if (Array.isArray(schema.type))
    return (schema.type.find((t) => t !== 'null') as string | undefined) ?? 'null';
  if (typeof schema.type === 'string') return schema.type;
  if (isObject(schema.properties)) return 'object';
  if (schema.items !== undefined || schema.prefixItems !== undefined) return 'array';
  return 'string';
}

function mergeAllOf(parts: JsonSchema[], root: JsonSchema): JsonSchema {
  const merged: Record<string, unknown> = { type: 'object', properties: {}, required: [] };
  for (const raw of parts) {
    const part = isObject(raw) && typeof raw.$ref === 'string' ? resolveRef(raw.$ref, root) : raw;
    if (!isObject(part)) continue;
    if (!isObject(part.properties)) return part;
    Object.assign(merged.properties as object, part.properties);
  }
  return merged;
}

function objectValue(
  schema: Record<string, unknown>,
  state: SampleState,
  depth: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const properties = isObject(schema.properties) ? schema.properties : {};
  // Every declared property is filled in: strict schemas (OpenAI structured outputs) require them all.
  for (const [name, propertySchema] of Object.entries(properties)) {
    out[name] = sample(propertySchema as JsonSchema, state, depth + 1, name);
  }
  return out;
}

function arrayValue(
  schema: Record<string, unknown>,
  state: SampleState,
  depth: number,
  propertyName: string | undefined,
): unknown[] {
  if (Array.isArray(schema.prefixItems)) {
    return (schema.prefixItems as JsonSchema[]).map((item) => sample(item, state, depth + 1, propertyName));
  }
  const maxItems = typeof schema.maxItems === 'number' ? schema.maxItems : Number.POSITIVE_INFINITY;
  const minItems = typeof schema.minItems === 'number' ? schema.minItems : 0;
  // One item shows the shape; deeper down only the required minimum, so recursive schemas end.
  const length = Math.min(depth < ARRAY_DEPTH ? Math.max(minItems, 1) : minItems, maxItems);
  const items = (schema.items ?? {}) as JsonSchema;
  return Array.from({ length }, () => sample(items, state, depth + 1, propertyName));
}

function enumValue(members: unknown[], state: SampleState): unknown {
  const mentioned = members.find(
    (member) =>
      typeof member === 'string' &&
      member.length > 0 &&
      new RegExp(`(?<![\\p{L}\\p{N}_])${escapeRegExp(member)}(?![\\p{L}\\p{N}_])`, 'iu').test(state.text),
  );
  return mentioned ?? members[0];
}

function numberValue(schema: Record<string, unknown>, state: SampleState, integer: boolean): number {
  const minimum =
    typeof schema.minimum === 'number'
      ? schema.minimum
      : typeof schema.exclusiveMinimum === 'number'
        ? schema.exclusiveMinimum + (integer ? 1 : Number.EPSILON * 1024)
        : undefined;
  const maximum =
    typeof schema.maximum === 'number'
      ? schema.maximum
      : typeof schema.exclusiveMaximum === 'number'
        ? schema.exclusiveMaximum - (integer ? 1 : Number.EPSILON * 1024)
        : undefined;
  const fits = (n: number) =>
    (!integer || Number.isInteger(n)) &&
    (minimum === undefined || n >= minimum) &&
    (maximum === undefined || n <= maximum);
  const mentioned = state.numbers.findIndex(fits);
  if (mentioned >= 0) return state.numbers.splice(mentioned, 1)[0]!;
  let value = minimum ?? 1;
  if (maximum !== undefined && value > maximum) value = maximum;
  return integer ? Math.ceil(value) : value;
}

const FORMAT_SAMPLES: Record<string, string> = {
  date: '2024-01-01',
  'date-time': '2024-01-01T00:00:00Z',
  time: '00:00:00Z',
  email: 'user@example.com',
  uri: 'https://example.com',
  url: 'https://example.com',
  uuid: '00000000-0000-4000-8000-000000000000',
  ipv4: '127.0.0.1',
  ipv6: '::1',
  hostname: 'example.com',
};

function stringValue(
  schema: Record<string, unknown>,
  state: SampleState,
  propertyName: string | undefined,
): string {
  const format = typeof schema.format === 'string' ? FORMAT_SAMPLES[schema.format] : undefined;
  let value = format ?? state.word ?? propertyName ?? 'value';
  const minLength = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const maxLength = typeof schema.maxLength === 'number' ? schema.maxLength : Number.POSITIVE_INFINITY;
  while (value.length < minLength) value += value.length > 0 ? value : 'x';
  if (value.length > maxLength) value = value.slice(0, maxLength);
  return value;
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
