import { redactSecrets } from './secrets.js';

export const ERROR_CODES = [
  'invalid_config',
  'invalid_session_id',
  'auth_failed',
  'rate_limited',
  'content_filtered',
  'context_length_exceeded',
  'remote_session_not_found',
  'provider_error',
  'provider_unavailable',
  'timeout',
  'aborted',
  'tool_input_invalid',
  'tool_failed',
  'output_invalid',
  'max_steps_exceeded',
  'store_conflict',
  'store_unavailable',
  'transcript_invalid',
] as const;

export type CloudhopErrorCode = (typeof ERROR_CODES)[number];

/** Codes a retry (or a failover to another runtime) can cure. */
const RETRYABLE_BY_DEFAULT: ReadonlySet<CloudhopErrorCode> = new Set([
  'rate_limited',
  'provider_unavailable',
  'timeout',
  'remote_session_not_found',
]);

export interface CloudhopErrorOptions {
  retryable?: boolean;
  status?: number;
  retryAfterMs?: number;
  runtimeId?: string;
  cause?: unknown;
  /** content_filtered: the filtered categories, e.g. ['self_harm']. */
  categories?: string[];
  /** transcript_invalid / invalid_config: where the first bad field is. */
  path?: string;
}

const OPTIONAL_FIELDS = ['status', 'retryAfterMs', 'runtimeId', 'categories', 'path'] as const;

const INSPECT = Symbol.for('nodejs.util.inspect.custom');
/**
 * Marks every CloudhopError, whichever copy of cloudhop built it: the ESM and CJS builds (or two
 * installed versions) each have their own class, and retry and failover must recognise them all.
 */
const BRAND: unique symbol = Symbol.for('cloudhop.error');

export class CloudhopError extends Error {
  override readonly name = 'CloudhopError';
  readonly code: CloudhopErrorCode;
  readonly retryable: boolean;
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly runtimeId?: string;
  readonly categories?: string[];
  readonly path?: string;
  declare readonly cause?: unknown;

  constructor(code: CloudhopErrorCode, message: string, options: CloudhopErrorOptions = {}) {
    super(redactSecrets(typeof message === 'string' ? message : messageOf(message)));
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    // The fields are declared (so present, undefined) on every error; the options fill them in.
    for (const key of OPTIONAL_FIELDS) (this as Record<string, unknown>)[key] = options[key];
    // The cause is a redacted copy, hidden from enumeration: Node prints `[cause]` with the
    // original's message, stack and fields when a process dies of this error, and a driver's or
    // vendor's error may quote a key, a signed header or a URL with a password.
    if (options.cause !== undefined) {
      Object.defineProperty(this, 'cause', {
        value: redactedCopy(options.cause, { ancestors: new Set(), budget: MAX_COPIED_VALUES }, 0),
        enumerable: false,
        writable: false,
      });
    }
  }

  toJSON(): Record<string, unknown> {
    const json: Record<string, unknown> = {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
    };
    for (const key of OPTIONAL_FIELDS) if (this[key] !== undefined) json[key] = this[key];
    if (this.cause !== undefined) json.cause = describeCause(this.cause);
    return json;
  }

  [INSPECT](): string {
    return `CloudhopError [${this.code}]: ${this.message} ${JSON.stringify(this.toJSON())}`;
  }

  get [BRAND](): true {
    return true;
  }

  /** `instanceof CloudhopError` holds for an error from any copy of cloudhop loaded in the process. */
  static override [Symbol.hasInstance](value: unknown): value is CloudhopError {
    // A subclass keeps the ordinary prototype check: its instances are a narrower kind.
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class on the right of `instanceof`.
    if (this !== CloudhopError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return hasBrand(value);
  }

  static isInstance(value: unknown): value is CloudhopError {
    return hasBrand(value);
  }

  static is(value: unknown, code?: CloudhopErrorCode): value is CloudhopError {
    return hasBrand(value) && (code === undefined || value.code === code);
  }
}

function hasBrand(value: unknown): value is CloudhopError {
  try {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  } catch {
    // A revoked Proxy throws on every property read.
    return false;
  }
}

function describeCause(cause: unknown): string {
  // The cause is already a redacted copy (or a CloudhopError, redacted when it was built).
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : messageOf(cause);
}

/** A copy stops here: a vendor error may hold a socket, a response stream or a whole client. */
const MAX_COPY_DEPTH = 4;
const MAX_COPIED_VALUES = 200;
const UNREADABLE = '[unreadable]';

/** Field names whose values are credentials whatever they look like (matched without `-` and `_`). */
const SECRET_FIELD =
  /^(?:x|aws|ocpapim)?(?:apikey|subscriptionkey|(?:proxy)?authorization|(?:set)?cookie|passw(?:or)?d|(?:client)?secret|secretaccesskey|(?:session|access|refresh|id)?token|amzsecuritytoken)$/i;

interface CopyState {
  /** The objects being copied above this one, so a cycle becomes a marker instead of a loop. */
  ancestors: Set<object>;
  /** Values left to copy, so a wide or deeply shared object cannot make a failure expensive. */
  budget: number;
}

/**
 * A copy of a thrown value that is safe to keep and print: strings redacted, credential fields
 * blanked, errors rebuilt as plain `Error`s with the original's name, message, stack, fields and
 * cause. Never throws, whatever getters, proxies or `toString`s the value has.
 */
function redactedCopy(value: unknown, state: CopyState, depth: number): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  // A function's text is its source, which may hold a literal key.
  if (typeof value === 'function') return '[function]';
  if (typeof value !== 'object' || value === null || hasBrand(value)) return value;
  if (state.ancestors.has(value)) return '[Circular]';
  if (depth >= MAX_COPY_DEPTH || state.budget <= 0) return '[…]';
  state.budget -= 1;
  state.ancestors.add(value);
  try {
    // The tag also recognises an Error from another realm (a vm context, a test environment).
    if (value instanceof Error || Object.prototype.toString.call(value) === '[object Error]') {
      return redactedError(value as Error, state, depth);
    }
    if (Array.isArray(value)) {
      return value.slice(0, MAX_COPIED_VALUES).map((entry) => redactedCopy(entry, state, depth + 1));
    }
    if (value instanceof Date) return value;
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[${value.byteLength} bytes]`;
    if (value instanceof URL) return redactSecrets(value.href);
    if (value instanceof Map || value instanceof Headers) {
      return defineFields({}, redactedFields(value.entries(), state, depth), true);
    }
    return defineFields({}, redactedFields(ownFields(value), state, depth), true);
  } catch {
    return UNREADABLE;
  } finally {
    state.ancestors.delete(value);
  }
}

function redactedError(error: Error, state: CopyState, depth: number): Error {
  const name = readString(error, 'name') ?? 'Error';
  const message = redactSecrets(readString(error, 'message') ?? UNREADABLE);
  const stack = readString(error, 'stack');
  const copy = defineFields(new Error(message), redactedFields(ownFields(error), state, depth), true);
  // Assigned, not defined: defining `stack` on a new Error costs it a formatted stack of its own.
  copy.stack = stack === undefined || stack === UNREADABLE ? `${name}: ${message}` : redactSecrets(stack);
  const hidden: Array<[string, unknown]> = [['name', name]];
  if (Object.hasOwn(error, 'cause'))
    hidden.push(['cause', redactedCopy(read(error, 'cause'), state, depth + 1)]);
  const errors = read(error, 'errors');
  if (Array.isArray(errors)) hidden.push(['errors', redactedCopy(errors, state, depth + 1)]);
  return defineFields(copy, hidden, false);
}

/** The enumerable own fields of an object, each read on its own: one throwing getter spoils one. */
function ownFields(value: object): Array<[string, unknown]> {
  return Object.keys(value)
    .slice(0, MAX_COPIED_VALUES)
    .map((key) => [key, read(value, key)]);
}

function redactedFields(
  fields: Iterable<[unknown, unknown]>,
  state: CopyState,
  depth: number,
): Array<[string, unknown]> {
  const copied: Array<[string, unknown]> = [];
  for (const [key, field] of fields) {
    const name = String(key);
    const secret =
      SECRET_FIELD.test(name.replace(/[-_]/g, '')) && (typeof field === 'string' || Array.isArray(field));
    copied.push([name, secret ? '[redacted]' : redactedCopy(field, state, depth + 1)]);
  }
  return copied;
}

/** Defined, not assigned: a field named `__proto__` (JSON.parse makes them) stays a field. */
function defineFields<T extends object>(target: T, fields: Array<[string, unknown]>, enumerable: boolean): T {
  for (const [key, value] of fields) {
    Object.defineProperty(target, key, { value, enumerable, writable: true, configurable: true });
  }
  return target;
}

function read(value: object, key: string): unknown {
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return UNREADABLE;
  }
}

function readString(value: object, key: string): string | undefined {
  const field = read(value, key);
  return typeof field === 'string' ? field : undefined;
}

/**
 * The text of anything thrown: an Error's (or any object's) message, or the value itself as a
 * string. Never throws, whatever the value's getters or `toString` do.
 */
export function messageOf(error: unknown): string {
  try {
    if (typeof error === 'object' && error !== null) {
      const message = (error as { message?: unknown }).message;
      if (typeof message === 'string') return message;
    }
    return String(error);
  } catch {
    return `a thrown ${typeof error} that cannot be printed (reading its message or converting it to text threw)`;
  }
}

/**
 * A safe one-line description of anything thrown, for a tool result, an event or a log line:
 * its message, on one line, with secrets redacted. Never throws.
 */
export function describeThrown(value: unknown): string {
  return redactSecrets(
    messageOf(value)
      .replace(/\s*[\r\n]+\s*/g, ' ')
      .trim(),
  );
}

export function isAbortError(error: unknown): boolean {
  try {
    return (
      error instanceof Error &&
      (error.name === 'AbortError' || error.name === 'APIUserAbortError' || error.name === 'TimeoutError')
    );
  } catch {
    return false;
  }
}

/** Anything a store driver throws that is not ours surfaces as store_unavailable (never retried). */
export function storeUnavailable(error: unknown, what: string): CloudhopError {
  if (error instanceof CloudhopError) return error;
  const detail = messageOf(error).replace(/[.\s]+$/, '');
  return new CloudhopError(
    'store_unavailable',
    `The session store failed while ${what}: ${detail}. Nothing was committed; check the store is reachable and retry.`,
    { cause: error },
  );
}

/**
 * The error a wait ends with once `signal` fired: the signal's reason when that is one of ours (the
 * agent aborts a timed-out turn with its `timeout` error), else `aborted` with `message`.
 */
export function abortError(
  signal: AbortSignal,
  message = 'The turn was aborted by its AbortSignal; nothing was committed.',
): CloudhopError {
  return signal.reason instanceof CloudhopError ? signal.reason : new CloudhopError('aborted', message);
}
