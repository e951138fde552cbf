import * as z from 'zod/v4';
import { CloudhopError } from './errors.js';

/** Where a zod issue is, as dotted keys ('' at the root). */
export function issuePath(issue: { path: PropertyKey[] }): string {
  return issue.path.map(String).join('.');
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
  const path = issuePath(issue);
  return failConfig(
    `${where}: ${path ? `option "${path}": ` : ''}${issue.message}.${hint ? ` ${hint}` : ''}`,
    path || undefined,
  );
}

/** A non-null object: where every duck-typed check starts. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** An object with these methods (duck-typed: a handle from another realm or a polyfill passes too). */
export function hasMethods(value: unknown, methods: readonly string[]): value is Record<string, unknown> {
  return isObject(value) && methods.every((method) => typeof value[method] === 'function');
}

/** An option that must be an object with these methods: a handle the caller made (a store, a client, a pool). */
export function objectWithMethods<T>(methods: readonly string[], message: string): z.ZodType<T> {
  return z.custom<T>((value) => hasMethods(value, methods), message);
}

/** An option that must be a function. */
export function functionOption<T>(message: string): z.ZodType<T> {
  return z.custom<T>((value) => typeof value === 'function', message);
}

export const FIRST_POSITION = "; the session's first item is position 0";

/** Checks a position or a count: a whole number, 0 or more; `hint` follows the message. */
export function assertCount(where: string, name: string, value: unknown, hint = ''): asserts value is number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    failConfig(
      `${where}: option "${name}" must be a whole number, 0 or more (got ${typeof value === 'string' ? JSON.stringify(value) : String(value)})${hint}.`,
      name,
    );
  }
}

export function failConfig(message: string, path?: string): never {
  throw new CloudhopError('invalid_config', message, path === undefined ? {} : { path });
}
