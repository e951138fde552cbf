import { CloudhopError, isAbortError } from '../../core/errors.js';
import { abortError, parseRetryAfter } from '../../runtime/retry.js';

/** What the error mapping needs to know about the runtime that failed. */
export interface BedrockErrorContext {
  runtimeId: string;
  model: string;
  /** Where requests go, for messages: the region or the endpoint. */
  target: string;
}

/** The fields AWS SDK v3 errors carry; in-stream exceptions have no `$metadata.httpStatusCode`. */
interface AwsSdkError extends Error {
  $fault?: 'client' | 'server';
  $retryable?: { throttling?: boolean };
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number; headers?: Record<string, string> };
  code?: string;
}

/**
 * Messages Bedrock's models give when the input does not fit the context window (Claude, Nova,
 * Titan, Llama/Mistral). Other ValidationExceptions are request mistakes.
 */
const CONTEXT_TOO_LONG =
  /input is too long|prompt is too long|too many input tokens|input tokens exceeded|exceeds? (?:the )?(?:model's )?(?:maximum )?context (?:window|length|limit)|exceed context limit|maximum context length|too many total text bytes/i;

/** Socket-level failures: nothing usable came back from the endpoint. */
const NETWORK_ERROR_CODE = /^(?:E[A-Z]+|ERR_HTTP2_|HPE_|UND_ERR)/;
const NETWORK_ERROR_MESSAGE = /network error|socket hang up|fetch failed/i;

/**
 * `ThrottlingException:http://internal.amazon.com/coral/...` or `com.amazon#ThrottlingException`
 * → `ThrottlingException`; in-stream member names (`throttlingException`) get their capital back.
 */
function errorType(name: string): string {
  const type = name.split(':', 1)[0]!.split('#').at(-1)!;
  return type.charAt(0).toUpperCase() + type.slice(1);
}

function describe(type: string, message: string): string {
  return message ? `${type}: ${message}` : type;
}

/** Maps anything the AWS SDK throws (HTTP errors, in-stream exceptions, network failures) to a CloudhopError. */
export function toCloudhopError(
  error: unknown,
  context: BedrockErrorContext,
  signal?: AbortSignal,
): CloudhopError {
  if (error instanceof CloudhopError) return error;
  if (signal?.aborted) return abortError(signal);
  if (isAbortError(error) && (error as Error).name !== 'TimeoutError') {
    return new CloudhopError('aborted', 'The Bedrock request was aborted; nothing was committed.', {
      runtimeId: context.runtimeId,
      cause: error,
      retryable: false,
    });
  }
  const sdkError: AwsSdkError = error instanceof Error ? error : new Error(String(error));
  const type = errorType(sdkError.name);
  const message = sdkError.message ?? '';
  const status = sdkError.$metadata?.httpStatusCode;
  const base = {
    runtimeId: context.runtimeId,
    cause: error,
    ...(status === undefined ? {} : { status }),
  };
  const retryAfterMs = parseRetryAfter(sdkError.$response?.headers);
  const detail = describe(type, message);

  const rateLimited = () =>
    new CloudhopError(
      'rate_limited',
      `Bedrock throttled the request to ${context.model} in ${context.target} (${detail}). cloudhop retries after a delay; if it keeps happening, raise your Bedrock quota or spread the load.`,
      { ...base, retryable: true, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
    );
  const unavailable = (what: string) =>
    new CloudhopError(
      'provider_unavailable',
      `${what} (${detail}). Try again shortly, or fail over to another runtime.`,
      { ...base, retryable: true, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
    );
  const authFailed = () =>
    new CloudhopError(
      'auth_failed',
      `Bedrock rejected the AWS credentials or permissions for ${context.model} in ${context.target} (${detail}). Check the credentials (not expired, right account), that the IAM identity may call bedrock:InvokeModel and bedrock:InvokeModelWithResponseStream, and that access to this model is enabled in that region.`,
      { ...base, retryable: false },
    );

  switch (type) {
    case 'ThrottlingException':
    case 'ServiceQuotaExceededException':
      return rateLimited();
    case 'ModelNotReadyException':
      return unavailable(`The Bedrock model ${context.model} is not ready to serve requests yet`);
    case 'ServiceUnavailableException':
      return unavailable(`Bedrock in ${context.target} is unavailable`);
    case 'InternalServerException':
    case 'InternalFailure':
      return unavailable(`Bedrock in ${context.target} had an internal error`);
    case 'ModelStreamErrorException':
      return unavailable(`The Bedrock model ${context.model} failed while streaming its answer`);
    case 'ModelTimeoutException':
      return new CloudhopError(
        'timeout',
        `The Bedrock model ${context.model} took too long to answer (${detail}). Try again, or ask for a shorter answer.`,
        { ...base, retryable: true },
      );
    case 'ModelErrorException':
      return new CloudhopError(
        'provider_error',
        `The Bedrock model ${context.model} failed while processing the request (${detail}). Check the request for content the model cannot handle.`,
        { ...base, retryable: false },
      );
    case 'ValidationException':
      if (CONTEXT_TOO_LONG.test(message)) {
        return new CloudhopError(
          'context_length_exceeded',
          `The conversation does not fit ${context.model}'s context window (${detail}). Lower the agent's context.maxItems, shorten tool outputs, or use a model with a larger window.`,
          { ...base, retryable: false },
        );
      }
      return new CloudhopError(
        'provider_error',
        `Bedrock rejected the request to ${context.model} (${detail}). Check the model's supported features (tool choice, images, reasoning settings) and additionalModelRequestFields.`,
        { ...base, retryable: false },
      );
    case 'AccessDeniedException':
    case 'UnrecognizedClientException':
    case 'ExpiredTokenException':
    case 'ExpiredToken':
    case 'InvalidSignatureException':
    case 'IncompleteSignature':
    case 'InvalidClientTokenId':
    case 'MissingAuthenticationToken':
    case 'CredentialsProviderError':
      return authFailed();
    case 'ResourceNotFoundException':
      return new CloudhopError(
        'invalid_config',
        `model: Bedrock has no model "${context.model}" in ${context.target} (${detail}). Check the model id or inference profile, and that the model is offered in that region.`,
        { ...base, retryable: false, path: 'model' },
      );
    case 'TimeoutError':
      return new CloudhopError(
        'timeout',
        `The request to Bedrock in ${context.target} timed out (${detail}). Raise timeoutMs or check the endpoint.`,
        { ...base, retryable: true },
      );
  }

  if (NETWORK_ERROR_CODE.test(sdkError.code ?? '') || NETWORK_ERROR_MESSAGE.test(message)) {
    if (status === undefined) return unavailable(`Could not reach Bedrock in ${context.target}`);
    // The SDK reports the 200 it had when the connection dropped before the first event arrived.
    if (status < 300) {
      return unavailable(
        `The connection to Bedrock in ${context.target} dropped before ${context.model}'s answer arrived`,
      );
    }
  }
  if (status === 429 || sdkError.$retryable?.throttling) return rateLimited();
  if (status === 401 || status === 403) return authFailed();
  if (status !== undefined && status >= 500)
    return unavailable(`Bedrock in ${context.target} answered HTTP ${status}`);
  return new CloudhopError(
    'provider_error',
    `The request to Bedrock (${context.model} in ${context.target}) failed (${detail}).`,
    { ...base, retryable: sdkError.$retryable !== undefined },
  );
}

/**
 * Stop reasons that mean the step produced no usable answer: a guardrail or the model's own
 * filter withheld it, or the conversation no longer fits the context window.
 */
export function stopReasonError(
  stopReason: string | undefined,
  context: BedrockErrorContext,
): CloudhopError | undefined {
  switch (stopReason) {
    case 'guardrail_intervened':
    case 'content_filtered':
      return new CloudhopError(
        'content_filtered',
        `Bedrock withheld ${context.model}'s answer (stopReason ${stopReason}). Rephrase the request or review the guardrail; sending the same request again is likely to be filtered again.`,
        { runtimeId: context.runtimeId, categories: [stopReason], retryable: false },
      );
    case 'model_context_window_exceeded':
      return new CloudhopError(
        'context_length_exceeded',
        `${context.model} ran out of context window while answering (stopReason model_context_window_exceeded). Lower the agent's context.maxItems or inferenceConfig.maxTokens, or use a model with a larger window.`,
        { runtimeId: context.runtimeId, retryable: false },
      );
    default:
      return undefined;
  }
}

/** A stream that ended before `messageStop`: the connection or the service gave up midway. */
export function truncatedStreamError(context: BedrockErrorContext): CloudhopError {
  return new CloudhopError(
    'provider_unavailable',
    `Bedrock ended the ConverseStream for ${context.model} before the answer was complete (no messageStop). Try again; if it keeps happening, check the endpoint or a proxy in between.`,
    { runtimeId: context.runtimeId, retryable: true },
  );
}

/** A Converse response without `output.message.content`: there is no answer to read. */
export function malformedAnswerError(context: BedrockErrorContext): CloudhopError {
  return new CloudhopError(
    'provider_error',
    `Bedrock answered the Converse request for ${context.model} in ${context.target} without \`output.message.content\`. Check that the endpoint speaks the Converse API (a proxy or gateway may be answering instead).`,
    { runtimeId: context.runtimeId, retryable: false },
  );
}

/** An optional peer that is not installed. */
export function missingPackageError(packageName: string, cause: unknown): CloudhopError {
  return new CloudhopError(
    'invalid_config',
    `bedrockConverse needs the '${packageName}' package, which could not be loaded: install it with \`npm install ${packageName}\`.`,
    { cause, retryable: false },
  );
}
