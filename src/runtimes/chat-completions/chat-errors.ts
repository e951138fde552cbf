import { CloudhopError, type CloudhopErrorCode, messageOf } from '../../core/errors.js';
import { abortError, parseRetryAfter } from '../../runtime/retry.js';
import type { OpenAIModule } from './load-openai.js';

/** What the error mapping needs to know about the runtime that failed. */
export interface ChatErrorContext {
  runtimeId: string;
  /** Names the service in messages, e.g. 'Azure OpenAI'. */
  service: string;
  /** What a 404 means here and how to fix it, e.g. 'deployment "gpt-4o" does not exist at …'. */
  notFound: string;
  /** How to fix rejected credentials. */
  authHint: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Filter results (`{ hate: { filtered, severity }, jailbreak: { filtered, detected }, … }`) →
 * the names of the categories that were filtered. Azure spells self-harm both ways; cloudhop
 * reports `self_harm`.
 */
export function filteredCategories(...results: unknown[]): string[] {
  const categories = new Set<string>();
  for (const result of results) {
    if (!isRecord(result)) continue;
    for (const [name, verdict] of Object.entries(result)) {
      if (isRecord(verdict) && verdict.filtered === true) categories.add(name.replaceAll('-', '_'));
    }
  }
  return [...categories];
}

function describeCategories(categories: string[]): string {
  return categories.length > 0 ? ` (categories: ${categories.join(', ')})` : '';
}

/** A 200 whose answer the service withheld (`finish_reason: 'content_filter'`). */
export function outputFilteredError(categories: string[], context: ChatErrorContext): CloudhopError {
  return new CloudhopError(
    'content_filtered',
    `${context.service}'s content filter withheld the model's answer${describeCategories(categories)}. ` +
      'Rephrase the request or adjust the content filter policy; sending the same request again is likely to be filtered again.',
    { runtimeId: context.runtimeId, categories, retryable: false },
  );
}

/** A completion whose shape cannot be read (`problem` says what is missing or of the wrong type). */
export function malformedCompletionError(problem: string, context: ChatErrorContext): CloudhopError {
  return new CloudhopError(
    'provider_error',
    `${context.service} sent a chat completion that cannot be read: ${problem}. Check that the endpoint speaks the chat completions API (a proxy or gateway may be answering instead).`,
    { runtimeId: context.runtimeId, retryable: false },
  );
}

/** A stream that ended without a finish reason: the connection or the server gave up midway. */
export function truncatedStreamError(context: ChatErrorContext): CloudhopError {
  return new CloudhopError(
    'provider_unavailable',
    `${context.service} ended the stream before the answer was complete. Try again; if it keeps happening, check the endpoint or a proxy in between.`,
    { runtimeId: context.runtimeId },
  );
}

/** The error body the SDK kept: `{ code, message, type, param, innererror, … }` or undefined. */
function errorBody(error: InstanceType<OpenAIModule['APIError']>): Record<string, unknown> {
  return isRecord(error.error) ? error.error : {};
}

function vendorMessage(error: Error, body: Record<string, unknown>): string {
  if (typeof body.message === 'string' && body.message) return body.message;
  return error.message;
}

/** Azure's 400 for a filtered prompt: the wire says innererror.content_filter_result, the spec inner_error.content_filter_results. */
function promptFilterCategories(body: Record<string, unknown>): string[] {
  const inner = isRecord(body.innererror)
    ? body.innererror
    : isRecord(body.inner_error)
      ? body.inner_error
      : {};
  return filteredCategories(inner.content_filter_result, inner.content_filter_results);
}

function retryAfterFromMessage(message: string): number | undefined {
  const match = /retry after (\d+) seconds?/i.exec(message);
  return match ? Number(match[1]) * 1000 : undefined;
}

const CONTEXT_TOO_LONG =
  /context[_ ]length|maximum context|context window|too many tokens|prompt is too long|reduce the length of the (?:messages|prompt)/i;

/**
 * Maps anything the `openai` client throws during a chat completion to what the agent needs:
 * the caller's abort stays an abort, everything else becomes a CloudhopError with the right code,
 * `retryable`, `retryAfterMs` and `categories`.
 */
export function toChatError(
  error: unknown,
  sdk: OpenAIModule,
  signal: AbortSignal,
  context: ChatErrorContext,
): Error {
  if (signal.aborted) return abortError(signal);
  if (error instanceof CloudhopError) return error;
  const { runtimeId, service } = context;
  const fail = (
    code: CloudhopErrorCode,
    message: string,
    extra: { status?: number; retryable?: boolean } = {},
  ) => new CloudhopError(code, message, { runtimeId, cause: error, ...extra });

  if (error instanceof sdk.APIUserAbortError) {
    return fail('aborted', 'The request was aborted before it completed; nothing was committed.', {
      retryable: false,
    });
  }
  if (error instanceof sdk.APIConnectionTimeoutError) {
    return fail(
      'timeout',
      `${service} did not answer within the request timeout. Raise timeoutMs or try again.`,
    );
  }
  if (error instanceof sdk.APIConnectionError) {
    return fail(
      'provider_unavailable',
      `Could not reach ${service}: ${error.cause instanceof Error ? error.cause.message : error.message}. Check the endpoint and the network.`,
    );
  }
  if (error instanceof sdk.APIError) return fromApiError(error, context);
  if (error instanceof sdk.OpenAIError && /apiKey' function/.test(error.message)) {
    // The SDK runs a token provider as its `apiKey` function and wraps what it throws.
    const reason = error.cause instanceof Error ? error.cause.message : error.message;
    return fail('auth_failed', `The token provider failed: ${reason}. ${context.authHint}`, {
      retryable: false,
    });
  }
  if (error instanceof SyntaxError) {
    return fail(
      'provider_error',
      `${service} sent a response or stream chunk that is not JSON: ${error.message}.`,
      {
        retryable: false,
      },
    );
  }
  if (error instanceof TypeError) {
    // fetch reports a dropped connection (also mid-stream) as a TypeError ('fetch failed', 'terminated').
    return fail('provider_unavailable', `The connection to ${service} failed: ${error.message}. Try again.`);
  }
  const message = messageOf(error);
  return fail('provider_error', `${service} call failed: ${message}`, { retryable: false });
}

function fromApiError(
  error: InstanceType<OpenAIModule['APIError']>,
  context: ChatErrorContext,
): CloudhopError {
  const { runtimeId, service } = context;
  const body = errorBody(error);
  const message = vendorMessage(error, body);
  const status = error.status;
  const code =
    typeof body.code === 'string' ? body.code : typeof body.code === 'number' ? String(body.code) : '';
  const base = { runtimeId, cause: error, ...(status === undefined ? {} : { status }) };

  if (code === 'content_filter') {
    const categories = promptFilterCategories(body);
    return new CloudhopError(
      'content_filtered',
      `${service}'s content filter rejected the prompt${describeCategories(categories)}: ${message} Rephrase the input; the same request will be rejected again.`,
      { ...base, categories, retryable: false },
    );
  }
  if (code === 'context_length_exceeded' || (status === 400 && CONTEXT_TOO_LONG.test(message))) {
    return new CloudhopError(
      'context_length_exceeded',
      `The context is too long for the model: ${message} Lower the agent's context.maxItems / context.maxInputTokens or start a new session.`,
      { ...base, retryable: false },
    );
  }
  if (status === 429 || code === '429' || code === 'rate_limit_exceeded') {
    const retryAfterMs = parseRetryAfter(error.headers) ?? retryAfterFromMessage(message);
    // An exhausted quota does not come back by waiting a few seconds.
    const quotaExhausted = code === 'insufficient_quota';
    return new CloudhopError(
      'rate_limited',
      quotaExhausted
        ? `${service} quota is exhausted: ${message} Check the plan and billing.`
        : `${service} is rate limiting requests: ${message}`,
      { ...base, retryable: !quotaExhausted, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
    );
  }
  if (status === 401 || status === 403) {
    return new CloudhopError(
      'auth_failed',
      `${service} rejected the credentials (${status}): ${message} ${context.authHint}`,
      { ...base, retryable: false },
    );
  }
  if (status === 404) {
    return new CloudhopError('invalid_config', `${context.notFound} (${service} answered 404: ${message})`, {
      ...base,
      retryable: false,
    });
  }
  if (status === 408) {
    return new CloudhopError('timeout', `${service} timed out the request: ${message}`, base);
  }
  if (status !== undefined && status >= 500) {
    const retryAfterMs = parseRetryAfter(error.headers);
    return new CloudhopError(
      'provider_unavailable',
      `${service} failed with ${status}: ${message} Try again.`,
      {
        ...base,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      },
    );
  }
  if (status === undefined && body.type === 'server_error') {
    // An error event inside an otherwise healthy stream.
    return new CloudhopError(
      'provider_unavailable',
      `${service} failed mid-stream: ${message} Try again.`,
      base,
    );
  }
  return new CloudhopError(
    'provider_error',
    `${service} refused the request${status === undefined ? '' : ` (${status})`}: ${message}`,
    { ...base, retryable: false },
  );
}
