import { CloudhopError, type CloudhopErrorCode, isAbortError, messageOf } from '../../core/errors.js';
import { abortError, parseRetryAfter } from '../../runtime/retry.js';
import type { ProviderMetadata } from './ai-sdk-model.js';

/** What the error mapping needs to know about the runtime that failed. */
export interface AiSdkErrorContext {
  runtimeId: string;
  /** The model's provider id, e.g. 'google.generative-ai'. */
  provider: string;
  model: string;
}

/** The fields of the AI SDK's `APICallError` (read by duck typing: any installed copy may have thrown it). */
interface ApiCallError extends Error {
  statusCode?: number;
  responseHeaders?: Record<string, string>;
  responseBody?: string;
  isRetryable?: boolean;
  data?: unknown;
}

/**
 * AI SDK errors carry a `Symbol.for('vercel.ai.error.<name>')` marker, so they are recognised
 * whichever copy of `@ai-sdk/provider` threw them, without importing it.
 */
function hasMarker(error: unknown, name: string): boolean {
  try {
    const marker = Symbol.for(`vercel.ai.error.${name}`);
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  } catch {
    return false;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * What a provider's error body says, in the shapes Google (`{ error: { code, message, status,
 * details } }`) and Anthropic (`{ type: 'error', error: { type, message } }`) use, and most
 * others (`{ error: { message, type, code } }`).
 */
interface VendorError {
  message?: string;
  /** Anthropic's `error.type`, Google's `error.status`, OpenAI-style `error.code`. */
  kind?: string;
  /** Google's `ErrorInfo.reason`, e.g. 'API_KEY_INVALID'. */
  reasons: string[];
  /** Google's `RetryInfo.retryDelay`, e.g. '34.4s'. */
  retryDelay?: string;
}

function vendorError(body: unknown): VendorError {
  const found: VendorError = { reasons: [] };
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return found;
    }
  }
  // Gemini's streamed errors and some proxies wrap the body in a list.
  if (Array.isArray(parsed)) parsed = parsed[0];
  if (!isRecord(parsed)) return found;
  const error = isRecord(parsed.error) ? parsed.error : parsed;
  if (typeof error.message === 'string' && error.message) found.message = error.message;
  for (const key of ['type', 'status', 'code']) {
    if (typeof error[key] === 'string' && error[key]) {
      found.kind = error[key] as string;
      break;
    }
  }
  for (const detail of Array.isArray(error.details) ? error.details : []) {
    if (!isRecord(detail)) continue;
    if (typeof detail.reason === 'string') found.reasons.push(detail.reason);
    if (typeof detail.retryDelay === 'string') found.retryDelay = detail.retryDelay;
  }
  return found;
}

/** Google's `retryDelay` is a protobuf Duration in JSON: seconds with an `s`, e.g. '34.4s'. */
function parseDuration(value: string | undefined): number | undefined {
  const match = value === undefined ? null : /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
  return match ? Math.round(Number(match[1]) * 1000) : undefined;
}

const CONTEXT_TOO_LONG =
  /prompt is too long|input token count .*exceeds|exceeds the maximum number of tokens|context[_ ]length|context window|maximum context|too many (?:input )?tokens|input is too long/i;

const AUTH_KINDS = new Set([
  'authentication_error',
  'permission_error',
  'UNAUTHENTICATED',
  'PERMISSION_DENIED',
]);
const AUTH_REASONS = new Set(['API_KEY_INVALID', 'API_KEY_SERVICE_BLOCKED', 'ACCESS_TOKEN_EXPIRED']);
const RATE_KINDS = new Set(['rate_limit_error', 'RESOURCE_EXHAUSTED', 'rate_limit_exceeded']);
const UNAVAILABLE_KINDS = new Set([
  'overloaded_error',
  'api_error',
  'UNAVAILABLE',
  'INTERNAL',
  'server_error',
]);

function service(context: AiSdkErrorContext): string {
  return `${context.provider} (model ${context.model})`;
}

/** Reads the answer's provider metadata for Gemini-style safety ratings: the blocked categories. */
function blockedCategories(metadata: ProviderMetadata | undefined): string[] {
  const categories = new Set<string>();
  for (const entry of Object.values(metadata ?? {})) {
    const ratings = isRecord(entry) ? entry.safetyRatings : undefined;
    if (!Array.isArray(ratings)) continue;
    for (const rating of ratings) {
      if (isRecord(rating) && rating.blocked === true && typeof rating.category === 'string') {
        categories.add(rating.category.replace(/^HARM_CATEGORY_/, '').toLowerCase());
      }
    }
  }
  return [...categories];
}

/** An answer the provider withheld (finish reason `content-filter`: Gemini's SAFETY, Anthropic's refusal). */
export function filteredAnswerError(
  raw: string | undefined,
  metadata: ProviderMetadata | undefined,
  context: AiSdkErrorContext,
): CloudhopError {
  const blocked = blockedCategories(metadata);
  const categories = blocked.length > 0 ? blocked : raw ? [raw.toLowerCase()] : [];
  return new CloudhopError(
    'content_filtered',
    `${service(context)} withheld its answer (finish reason ${raw ?? 'content-filter'}${blocked.length > 0 ? `; categories: ${blocked.join(', ')}` : ''}). Rephrase the request or review the provider's safety settings; sending the same request again is likely to be filtered again.`,
    { runtimeId: context.runtimeId, categories, retryable: false },
  );
}

/** The model ended its answer with an error (Gemini's MALFORMED_FUNCTION_CALL, for one). */
export function errorFinishError(raw: string | undefined, context: AiSdkErrorContext): CloudhopError {
  return new CloudhopError(
    'provider_error',
    `${service(context)} ended its answer with an error (finish reason ${raw ?? 'error'}). Try again; if it keeps happening, simplify the tools or the request.`,
    { runtimeId: context.runtimeId, retryable: true },
  );
}

/** A stream that ended without a finish: the connection or the server gave up midway. */
export function truncatedAnswerError(context: AiSdkErrorContext): CloudhopError {
  return new CloudhopError(
    'provider_unavailable',
    `${service(context)} ended its stream before the answer was complete. Try again; if it keeps happening, check the network or a proxy in between.`,
    { runtimeId: context.runtimeId, retryable: true },
  );
}

/**
 * Maps anything a model throws, or sends as a stream's `error` part, to a CloudhopError: the
 * caller's abort stays an abort; HTTP failures are read by status and by the provider's error body.
 */
export function toAiSdkError(error: unknown, signal: AbortSignal, context: AiSdkErrorContext): CloudhopError {
  if (error instanceof CloudhopError) return error;
  if (signal.aborted) return abortError(signal);
  const base = { runtimeId: context.runtimeId, cause: error };
  const fail = (
    code: CloudhopErrorCode,
    message: string,
    extra: { retryable?: boolean; status?: number } = {},
  ) => new CloudhopError(code, message, { ...base, ...extra });
  const name = service(context);

  if (isAbortError(error)) {
    return (error as Error).name === 'TimeoutError'
      ? fail('timeout', `${name} did not answer in time. Raise timeoutMs or try again.`)
      : fail('aborted', `The request to ${name} was aborted; nothing was committed.`, { retryable: false });
  }
  if (hasMarker(error, 'AI_APICallError')) return fromApiCallError(error as ApiCallError, context);
  if (hasMarker(error, 'AI_LoadAPIKeyError')) {
    return fail('auth_failed', `${name} has no API key: ${messageOf(error)}`, { retryable: false });
  }
  if (
    hasMarker(error, 'AI_InvalidPromptError') ||
    hasMarker(error, 'AI_UnsupportedFunctionalityError') ||
    hasMarker(error, 'AI_InvalidArgumentError')
  ) {
    return fail(
      'provider_error',
      `${name} cannot take this request: ${messageOf(error)} Check what the provider supports (images, tools, structured output) for this model.`,
      { retryable: false },
    );
  }
  if (
    hasMarker(error, 'AI_JSONParseError') ||
    hasMarker(error, 'AI_TypeValidationError') ||
    hasMarker(error, 'AI_InvalidResponseDataError')
  ) {
    return fail(
      'provider_error',
      `${name} sent an answer its AI SDK provider cannot read: ${messageOf(error)} Check the provider's baseURL (a proxy may be answering) or upgrade the provider package.`,
      { retryable: false },
    );
  }
  if (hasMarker(error, 'AI_EmptyResponseBodyError')) {
    return fail('provider_unavailable', `${name} sent an empty response. Try again.`);
  }
  if (error instanceof TypeError) {
    // fetch reports a dropped connection (also mid-stream) as a TypeError ('fetch failed', 'terminated').
    return fail('provider_unavailable', `The connection to ${name} failed: ${error.message}. Try again.`);
  }
  if (!(error instanceof Error)) {
    // A stream's `error` part: the provider's error object as it came (Anthropic: { type, message }).
    return fromVendorError(vendorError(error), undefined, {}, context, error);
  }
  return fail('provider_error', `${name} failed: ${messageOf(error)}`, { retryable: false });
}

function fromApiCallError(error: ApiCallError, context: AiSdkErrorContext): CloudhopError {
  const vendor = vendorError(error.responseBody ?? error.data);
  return fromVendorError(vendor, error.statusCode, error.responseHeaders ?? {}, context, error);
}

function fromVendorError(
  vendor: VendorError,
  status: number | undefined,
  headers: Record<string, string>,
  context: AiSdkErrorContext,
  error: unknown,
): CloudhopError {
  const name = service(context);
  const message = vendor.message ?? messageOf(error);
  const detail = `${status === undefined ? '' : `HTTP ${status}`}${vendor.kind ? `${status === undefined ? '' : ' '}${vendor.kind}` : ''}`;
  const said = detail ? `(${detail}): ${message}` : `: ${message}`;
  const base = { runtimeId: context.runtimeId, cause: error, ...(status === undefined ? {} : { status }) };
  const kind = vendor.kind ?? '';
  const retryAfterMs = parseRetryAfter(headers) ?? parseDuration(vendor.retryDelay);
  const after = retryAfterMs === undefined ? {} : { retryAfterMs };

  if (
    status === 401 ||
    status === 403 ||
    AUTH_KINDS.has(kind) ||
    vendor.reasons.some((reason) => AUTH_REASONS.has(reason))
  ) {
    return new CloudhopError(
      'auth_failed',
      `${name} rejected the credentials ${said} Check the API key (or token) the provider was created with, and that it may use this model.`,
      { ...base, retryable: false },
    );
  }
  if (status === 429 || RATE_KINDS.has(kind)) {
    return new CloudhopError(
      'rate_limited',
      `${name} is rate limiting requests ${said} cloudhop retries after a delay; if it keeps happening, raise the quota or spread the load.`,
      { ...base, retryable: true, ...after },
    );
  }
  if (status === 413 || ((status === undefined || status === 400) && CONTEXT_TOO_LONG.test(message))) {
    return new CloudhopError(
      'context_length_exceeded',
      `The conversation does not fit ${name}'s context window ${said} Lower the agent's context.maxItems / context.maxInputTokens, or use a model with a larger window.`,
      { ...base, retryable: false },
    );
  }
  if (status === 404) {
    return new CloudhopError(
      'invalid_config',
      `model: ${name} was not found ${said} Check the model id and the provider's baseURL.`,
      { ...base, retryable: false, path: 'model' },
    );
  }
  if (status === 408) {
    return new CloudhopError('timeout', `${name} timed out the request ${said} Try again.`, base);
  }
  if ((status !== undefined && status >= 500) || UNAVAILABLE_KINDS.has(kind)) {
    return new CloudhopError(
      'provider_unavailable',
      `${name} failed ${said} Try again shortly, or fail over to another runtime.`,
      {
        ...base,
        retryable: true,
        ...after,
      },
    );
  }
  if (status === undefined) {
    // No HTTP answer at all (the AI SDK's "Cannot connect to API"), or an unknown stream error.
    return new CloudhopError(
      'provider_unavailable',
      `Could not get an answer from ${name}${said} Try again.`,
      {
        ...base,
        retryable: true,
      },
    );
  }
  return new CloudhopError('provider_error', `${name} refused the request ${said}`, {
    ...base,
    retryable: (error as ApiCallError).isRetryable === true,
  });
}
