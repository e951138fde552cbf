import * as z from 'zod/v4';
import { CloudhopError } from '../../core/errors.js';

/** Option schemas and their validation, shared by the three presets. */

export const stateSchema = z.enum(['previous-response', 'conversation']).default('previous-response');

export const httpUrlSchema = z.string().refine(isHttpUrl);

export const modelSchema = z.string().trim().min(1);

export function functionSchema<T extends (...args: any[]) => unknown>() {
  return z.custom<T>((value) => typeof value === 'function');
}

/**
 * Parses options eagerly; the first problem becomes a synchronous `invalid_config` naming the
 * option and, from `hints`, what a valid value looks like. Option values are never echoed (they
 * may be credentials).
 */
export function parseOptions<S extends z.ZodType>(
  factory: string,
  schema: S,
  options: unknown,
  hints: Record<string, string>,
): z.output<S> {
  if (options === null || typeof options !== 'object') {
    throw new CloudhopError(
      'invalid_config',
      `${factory}: pass an options object, e.g. ${factory}({ ... }).`,
    );
  }
  const parsed = schema.safeParse(options);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    throw new CloudhopError(
      'invalid_config',
      `${key}: ${factory} has no option '${key}'; check its spelling (options: ${Object.keys(hints).join(', ')}).`,
      { path: key },
    );
  }
  const path = issue.path.join('.');
  const topLevel = String(issue.path[0] ?? '');
  const missing = valueAt(options, issue.path) === undefined;
  const problem = missing ? 'is required' : problemOf(issue);
  const hint = hints[path] ?? hints[topLevel];
  throw new CloudhopError('invalid_config', `${path}: ${problem} (${factory}${hint ? `: ${hint}` : ''}).`, {
    path,
  });
}

export function invalidConfig(path: string, message: string): CloudhopError {
  return new CloudhopError('invalid_config', `${path}: ${message}`, { path });
}

export { endpointLabel } from '../../runtime/endpoint-label.js';

export function trimTrailingSlashes(url: string): string {
  return url.replace(/\/+$/, '');
}

function problemOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${issue.expected === 'object' ? 'an object' : `a ${issue.expected}`}`;
    case 'too_small':
      return 'must not be empty';
    case 'invalid_value':
      return `must be one of ${issue.values.map((value) => `'${String(value)}'`).join(', ')}`;
    default:
      return 'is not valid';
  }
}

function valueAt(root: unknown, path: PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}
