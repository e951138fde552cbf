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
    super(redactSecrets(message));
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    // The fields are declared (so present, undefined) on every error; the options fill them in.
    for (const key of OPTIONAL_FIELDS) (this as Record<string, unknown>)[key] = options[key];
    // The cause is kept for debugging but hidden from enumeration, so JSON.stringify and
    // util.inspect never walk into a vendor object that might hold a request or a header.
    if (options.cause !== undefined) {
      Object.defineProperty(this, 'cause', { value: options.cause, enumerable: false, writable: false });
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

  static is(value: unknown, code?: CloudhopErrorCode): value is CloudhopError {
    return value instanceof CloudhopError && (code === undefined || value.code === code);
  }
}

function describeCause(cause: unknown): string {
  return redactSecrets(cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause));
}

/** The text of anything thrown: an Error's message, or the value itself as a string. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function isAbortError(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'AbortError' || error.name === 'APIUserAbortError' || error.name === 'TimeoutError')
  );
}

/** Anything a store driver throws that is not ours surfaces as store_unavailable (never retried). */
export function storeUnavailable(error: unknown, what: string): CloudhopError {
  if (error instanceof CloudhopError) return error;
  const detail = messageOf(error).replace(/[.\s]+$/, '');
  return new CloudhopError(
    'store_unavailable',
    `The session store failed while ${what}: ${detail}. Nothing was committed; check the store is reachable and retry.`,
    { cause: error, retryable: false },
  );
}
