import { CloudhopError, messageOf } from '../../core/errors.js';
import { parseRetryAfter } from '../../runtime/retry.js';
import type { WireContentFilter, WireError } from './responses-wire.js';

/** The `openai` package's error classes, taken from the lazily loaded module. */
export interface SdkErrorClasses {
  OpenAIError: abstract new (...args: any[]) => Error;
  APIError: abstract new (...args: any[]) => Error;
  APIUserAbortError: abstract new (...args: any[]) => Error;
  APIConnectionError: abstract new (...args: any[]) => Error;
  APIConnectionTimeoutError: abstract new (...args: any[]) => Error;
}

interface ApiErrorLike extends Error {
  status?: number;
  headers?: Headers;
  error?: (WireError & Record<string, unknown>) | null;
  code?: string | null;
  param?: string | null;
  type?: string | null;
}

/**
 * A failed request the runtime answers by changing the request instead of failing the step:
 * - `handle-gone`: the stored response or conversation no longer exists (expired, deleted, other
 *   region) → reseed from the local transcript;
 * - `encrypted-include-unsupported`: the model has no encrypted reasoning → stop asking for it;
 * - `reasoning-rejected`: replayed reasoning could not be used (another model or account of the
 *   same family) → send the step without it.
 */
export type Recovery = 'handle-gone' | 'encrypted-include-unsupported' | 'reasoning-rejected';

export interface SentRequest {
  usedHandle: boolean;
  askedEncryptedReasoning: boolean;
  replayedReasoning: boolean;
}

export function recoveryFor(error: unknown, sdk: SdkErrorClasses, sent: SentRequest): Recovery | undefined {
  if (!isHttpError(error, sdk)) return undefined;
  const { status } = error;
  const code = wireCode(error);
  const message = wireMessage(error);
  const param = error.param ?? error.error?.param ?? undefined;
  if (sent.askedEncryptedReasoning && status === 400 && param === 'include' && /encrypted/i.test(message)) {
    return 'encrypted-include-unsupported';
  }
  // Checked before the handle: "Item with id 'rs_…' not found" is a 404 about the replayed item.
  if (
    sent.replayedReasoning &&
    (status === 400 || status === 404) &&
    (code === 'invalid_encrypted_content' || /\brs_\w+.*not found|encrypted content/i.test(message))
  ) {
    return 'reasoning-rejected';
  }
  if (sent.usedHandle && isHandleGone(status, code, message)) return 'handle-gone';
  return undefined;
}

function isHandleGone(status: number, code: string | undefined, message: string): boolean {
  if (code === 'previous_response_not_found' || code === 'conversation_not_found') return true;
  if (status !== 400 && status !== 404 && status !== 410) return false;
  if (code === 'model_not_found' || /\b(model|deployment)\b/i.test(message)) return false;
  if (status === 404 || status === 410) return true;
  return /\b(previous response|response|conversation)\b.*\b(not found|expired|deleted)\b/i.test(message);
}

/** Maps anything the `openai` client threw to a CloudhopError (one place for every vendor error). */
export function mapResponsesError(error: unknown, sdk: SdkErrorClasses, runtimeId: string): CloudhopError {
  if (error instanceof CloudhopError) return error;
  if (error instanceof sdk.APIUserAbortError) {
    return new CloudhopError('aborted', 'The request was aborted by its AbortSignal.', {
      runtimeId,
      cause: error,
      retryable: false,
    });
  }
  if (error instanceof sdk.APIConnectionTimeoutError) {
    return new CloudhopError(
      'timeout',
      'The Responses endpoint did not answer within the request timeout. Raise timeoutMs or check the endpoint.',
      { runtimeId, cause: error },
    );
  }
  if (error instanceof sdk.APIConnectionError) {
    return new CloudhopError(
      'provider_unavailable',
      `Could not reach the Responses endpoint (${error.message}). Check baseURL / network; the request may be retried.`,
      { runtimeId, cause: error },
    );
  }
  if (isHttpError(error, sdk)) return mapHttpError(error, runtimeId);
  if (error instanceof sdk.APIError) {
    // An APIError without a status is an `error` event inside an SSE stream.
    const apiError = error as ApiErrorLike;
    return mapFailureCode(
      { code: wireCode(apiError) ?? apiError.type ?? null, message: wireMessage(apiError) },
      runtimeId,
      error,
    );
  }
  if (error instanceof sdk.OpenAIError && /credential/i.test(error.message)) {
    return new CloudhopError(
      'auth_failed',
      `${error.message} Pass credentials, configure the AWS credential chain, or use auth: { apiKey }.`,
      { runtimeId, cause: error },
    );
  }
  if (isConnectionDrop(error)) {
    return new CloudhopError(
      'provider_unavailable',
      `The connection to the Responses endpoint dropped (${error.message}). The request may be retried.`,
      { runtimeId, cause: error },
    );
  }
  if (error instanceof SyntaxError) {
    return new CloudhopError(
      'provider_error',
      `The Responses endpoint sent a body or stream event that is not JSON (${error.message}). Check that baseURL points at a Responses API server.`,
      { runtimeId, cause: error, retryable: false },
    );
  }
  if (error instanceof TypeError) {
    // Any other TypeError comes from reading a body of the wrong shape (the SDK walks `output`).
    return new CloudhopError(
      'provider_error',
      `The Responses endpoint sent a response that cannot be read (${error.message}). Check that baseURL points at a Responses API server (a proxy or gateway may be answering instead).`,
      { runtimeId, cause: error, retryable: false },
    );
  }
  const message = messageOf(error);
  return new CloudhopError('provider_error', `The Responses request failed: ${message}`, {
    runtimeId,
    cause: error,
    retryable: false,
  });
}

function mapHttpError(error: ApiErrorLike & { status: number }, runtimeId: string): CloudhopError {
  const { status } = error;
  const code = wireCode(error);
  const message = wireMessage(error);
  const retryAfterMs = parseRetryAfter(error.headers);
  const facts = { runtimeId, status, cause: error, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };

  if (code === 'insufficient_quota') {
    return new CloudhopError(
      'provider_error',
      `${message} The account's quota is used up: check the plan and billing; retrying will not help.`,
      { ...facts, retryable: false },
    );
  }
  if (status === 429) {
    return new CloudhopError('rate_limited', `${message} The endpoint is rate limiting; retry later.`, facts);
  }
  if (status === 401 || status === 403) {
    return new CloudhopError(
      'auth_failed',
      `${message} The endpoint refused the credentials (HTTP ${status}): check the API key, token or AWS credentials and their permissions.`,
      facts,
    );
  }
  if (
    code === 'context_length_exceeded' ||
    status === 413 ||
    /context (length|window)|too many tokens/i.test(message)
  ) {
    return new CloudhopError(
      'context_length_exceeded',
      `${message} The conversation no longer fits the model's context window: start a new session or use a model with a larger window.`,
      facts,
    );
  }
  if (code === 'content_filter' || code === 'content_policy_violation') {
    return new CloudhopError('content_filtered', `${message} The prompt was blocked by the content filter.`, {
      ...facts,
      categories: promptFilterCategories(error.error),
    });
  }
  if (/isn't supported on this route/i.test(message)) {
    return new CloudhopError(
      'invalid_config',
      `${message} On bedrock-mantle some models are served under /openai/v1 instead of /v1: set baseURL to the path listed for the model.`,
      facts,
    );
  }
  if (code === 'previous_response_not_found' || code === 'conversation_not_found') {
    return new CloudhopError(
      'remote_session_not_found',
      `${message} The server no longer holds this session's remote state.`,
      facts,
    );
  }
  if (status === 404) {
    return new CloudhopError(
      'invalid_config',
      `${message} The endpoint answered 404: check the model (or Azure deployment) name and the endpoint / baseURL.`,
      facts,
    );
  }
  if (status === 408) {
    return new CloudhopError('timeout', `${message} The endpoint timed out the request.`, facts);
  }
  if (status === 409 || status >= 500) {
    return new CloudhopError(
      'provider_unavailable',
      `${message} The endpoint failed on its side (HTTP ${status}); the request may be retried.`,
      facts,
    );
  }
  return new CloudhopError(
    'provider_error',
    `${message} The endpoint rejected the request (HTTP ${status}).`,
    {
      ...facts,
      retryable: false,
    },
  );
}

/**
 * Maps the error of a failed response (`response.failed`, a stream `error` event in either its
 * flat or nested form, or a non-streaming `status: 'failed'`). Codes are an open set.
 */
export function mapFailureCode(
  wireError: WireError | null | undefined,
  runtimeId: string,
  cause?: unknown,
): CloudhopError {
  const code = wireError?.code ?? undefined;
  const message = wireError?.message || `The response failed${code ? ` (${code})` : ''}.`;
  const facts = { runtimeId, ...(cause !== undefined ? { cause } : {}) };
  switch (code) {
    case 'server_error':
      return new CloudhopError(
        'provider_unavailable',
        `${message} The endpoint failed while answering.`,
        facts,
      );
    case 'rate_limit_exceeded':
      return new CloudhopError('rate_limited', `${message} Retry later.`, facts);
    case 'vector_store_timeout':
      return new CloudhopError('timeout', message, facts);
    case 'context_length_exceeded':
      return new CloudhopError('context_length_exceeded', message, facts);
    case 'insufficient_quota':
      return new CloudhopError(
        'provider_error',
        `${message} The account's quota is used up: check the plan and billing.`,
        { ...facts, retryable: false },
      );
    case 'content_filter':
    case 'bio_policy':
    case 'image_content_policy_violation':
      return new CloudhopError('content_filtered', message, { ...facts, categories: [code] });
    default:
      return new CloudhopError('provider_error', message, { ...facts, retryable: false });
  }
}

/** `incomplete_details.reason: 'content_filter'`: the answer was cut by a filter. */
export function outputFilteredError(
  contentFilters: WireContentFilter[] | null | undefined,
  runtimeId: string,
): CloudhopError {
  const categories = new Set<string>();
  for (const filter of contentFilters ?? []) {
    for (const [category, result] of Object.entries(filter.content_filter_results ?? {})) {
      if (result?.filtered) categories.add(category);
    }
  }
  return new CloudhopError('content_filtered', 'The answer was stopped by the content filter.', {
    runtimeId,
    categories: [...categories],
  });
}

/** fetch reports a connection dropped mid-body as a TypeError ('terminated', 'fetch failed') with the socket error as cause. */
function isConnectionDrop(error: unknown): error is TypeError {
  return (
    error instanceof TypeError &&
    (error.cause !== undefined || /^(terminated|fetch failed)$/.test(error.message))
  );
}

/** A finished response without an `output` list: nothing in it can be read as the answer. */
export function malformedResponseError(response: { output?: unknown }, runtimeId: string): CloudhopError {
  const what = response.output === undefined ? 'has no `output`' : 'has an `output` that is not a list';
  return new CloudhopError(
    'provider_error',
    `The Responses endpoint sent a response that ${what}. Check that baseURL points at a Responses API server (a proxy or gateway may be answering instead).`,
    { runtimeId, retryable: false },
  );
}

export function streamEndedEarlyError(runtimeId: string): CloudhopError {
  return new CloudhopError(
    'provider_unavailable',
    'The response stream ended before response.completed; the request may be retried.',
    { runtimeId },
  );
}

/** Statuses a gateway answers with: the API server behind it may still have taken the request in. */
const GATEWAY_STATUSES = new Set([502, 504]);

/**
 * Whether the server answered the request with an HTTP error, so it took nothing in. A cut
 * stream, a timeout, a lost connection or a failed response leave that unknown.
 */
export function refusedByServer(error: unknown, sdk: SdkErrorClasses): boolean {
  return isHttpError(error, sdk) && !GATEWAY_STATUSES.has(error.status);
}

function isHttpError(error: unknown, sdk: SdkErrorClasses): error is ApiErrorLike & { status: number } {
  return error instanceof sdk.APIError && typeof (error as ApiErrorLike).status === 'number';
}

function wireCode(error: ApiErrorLike): string | undefined {
  const code = error.code ?? error.error?.code;
  return typeof code === 'string' ? code : typeof code === 'number' ? String(code) : undefined;
}

function wireMessage(error: ApiErrorLike): string {
  const message = error.error?.message;
  if (typeof message === 'string' && message !== '') return message;
  // AWS front-door errors (signature, token) are not in OpenAI's envelope; their type is a header.
  const awsType = error.headers?.get('x-amzn-errortype')?.split(':')[0];
  return awsType ? `${error.message} (${awsType})` : error.message;
}

/** Azure's 400 prompt filter: `innererror.content_filter_result` on the wire, `inner_error.content_filter_results` in the spec. */
function promptFilterCategories(body: Record<string, unknown> | null | undefined): string[] {
  const inner = (body?.innererror ?? body?.inner_error) as Record<string, unknown> | undefined;
  const results = (inner?.content_filter_result ?? inner?.content_filter_results) as
    | Record<string, { filtered?: boolean } | undefined>
    | undefined;
  return Object.entries(results ?? {})
    .filter(([, result]) => result?.filtered)
    .map(([category]) => category);
}
