import * as z from 'zod/v4';
import { CloudhopError } from './errors.js';

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.');
  return path ? `option "${path}": ${issue.message}` : issue.message;
}

/**
 * Validates the options of a public factory at the boundary. Throws `invalid_config` synchronously,
 * naming the first bad option and what `hint` says to do about it.
 */
export function parseOptions<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: string,
  hint?: string,
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.path.map(String).join('.');
  return failConfig(`${where}: ${describeIssue(issue)}.${hint ? ` ${hint}` : ''}`, path || undefined);
}

/** An option that must be an object with these methods: a handle the caller made (a store, a client, a pool). */
export function objectWithMethods<T>(methods: readonly string[], message: string): z.ZodType<T> {
  return z.custom<T>(
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      methods.every((method) => typeof (value as Record<string, unknown>)[method] === 'function'),
    message,
  );
}

export function failConfig(message: string, path?: string): never {
  throw new CloudhopError('invalid_config', message, path === undefined ? {} : { path });
}
