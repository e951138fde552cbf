import type * as z from 'zod/v4';
import type { EmulatorRoute } from './faults.js';
import { jsonReply, type Reply, ReplyError, type Vendor } from './http.js';
import { newIds } from './ids.js';

/** OpenAI's envelope (Azure uses it too for request errors): all four keys always present. */
export function openaiError(
  status: number,
  message: string,
  options: { type?: string; param?: string | null; code?: string | null } = {},
  headers?: Record<string, string>,
): Reply {
  return jsonReply(
    status,
    {
      error: {
        message,
        type: options.type ?? (status >= 500 ? 'server_error' : 'invalid_request_error'),
        param: options.param ?? null,
        code: options.code ?? null,
      },
    },
    headers,
  );
}

/** Azure's own envelope for gateway-level errors (401, 404, 429): `code` is a string, no type or param. */
function azureGatewayError(status: number, message: string, headers?: Record<string, string>): Reply {
  return jsonReply(status, { error: { code: String(status), message } }, headers);
}

const BEDROCK_ERROR_TYPES: Record<number, string> = {
  400: 'ValidationException',
  403: 'AccessDeniedException',
  404: 'ResourceNotFoundException',
  408: 'ModelTimeoutException',
  413: 'ValidationException',
  424: 'ModelErrorException',
  429: 'ThrottlingException',
  500: 'InternalServerException',
  503: 'ServiceUnavailableException',
};

/** rest-json: the type goes in `x-amzn-ErrorType` (with the coral suffix), the body is `{ message }`. */
export function bedrockError(
  status: number,
  message: string,
  type = BEDROCK_ERROR_TYPES[status] ?? (status >= 500 ? 'InternalServerException' : 'ValidationException'),
  headers: Record<string, string> = {},
): Reply {
  return jsonReply(
    status,
    { message },
    {
      ...headers,
      'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
      'x-amzn-requestid': newIds.request(),
    },
  );
}

/** A 400 in the vendor's envelope. */
export function invalidRequest(
  vendor: Vendor,
  message: string,
  param: string | null = null,
  code: string | null = null,
): ReplyError {
  return new ReplyError(
    vendor === 'bedrock' ? bedrockError(400, message) : openaiError(400, message, { param, code }),
  );
}

const UNPARSABLE_JSON =
  "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)";

export function malformedJson(vendor: Vendor): Reply {
  return vendor === 'bedrock'
    ? bedrockError(
        400,
        'Malformed input request: the request body is not valid JSON, please reformat your input and try again.',
      )
    : openaiError(400, UNPARSABLE_JSON);
}

function openaiPath(path: PropertyKey[]): string {
  return path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    '',
  );
}

function valueAt(body: unknown, path: PropertyKey[]): unknown {
  let node = body;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** zod says "Invalid input" for a union; name the types it would have taken instead. */
function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const expected = issue.errors.flatMap((branch) =>
      branch[0]?.code === 'invalid_type' && branch[0].path.length === 0 ? [branch[0].expected] : [],
    );
    if (expected.length === issue.errors.length) return `expected one of ${expected.join(', ')}`;
  }
  return issue.message;
}

/** A request body that does not fit the vendor's schema, answered the way that vendor words it. */
export function schemaMismatch(vendor: Vendor, error: z.ZodError, body: unknown): ReplyError {
  const issue = error.issues[0]!;
  if (vendor === 'bedrock') {
    const where = issue.path.map(String).join('.') || 'body';
    const missing = valueAt(body, issue.path) === undefined;
    return invalidRequest(
      vendor,
      `1 validation error detected: Value ${missing ? 'null ' : ''}at '${where}' failed to satisfy constraint: ${
        missing ? 'Member must not be null' : issueMessage(issue)
      }`,
    );
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return invalidRequest(vendor, 'The request body must be a JSON object.');
  }
  const param = openaiPath(issue.path);
  if (issue.path.length > 0 && valueAt(body, issue.path) === undefined) {
    return invalidRequest(
      vendor,
      `Missing required parameter: '${param}'.`,
      param,
      'missing_required_parameter',
    );
  }
  return invalidRequest(
    vendor,
    `Invalid value for '${param || 'body'}': ${issueMessage(issue)}.`,
    param || null,
    'invalid_value',
  );
}

export function unauthorized(vendor: Vendor): Reply {
  switch (vendor) {
    case 'azure':
      return azureGatewayError(
        401,
        'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
      );
    case 'bedrock':
      return bedrockError(
        403,
        'The security token included in the request is invalid.',
        'UnrecognizedClientException',
      );
    default:
      return openaiError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        { code: 'invalid_api_key' },
      );
  }
}

export function notFound(vendor: Vendor, method: string, path: string): Reply {
  switch (vendor) {
    case 'azure':
      return azureGatewayError(404, 'Resource not found');
    case 'bedrock':
      return bedrockError(404, `No operation matches ${method} ${path}.`, 'UnknownOperationException');
    default:
      return openaiError(404, `Invalid URL (${method} ${path})`);
  }
}

export const MAX_BODY_BYTES = 10 * 1024 * 1024;

export function tooLarge(vendor: Vendor, bytes: number): Reply {
  const message = `The request body is ${bytes} bytes; the limit is ${MAX_BODY_BYTES} bytes (10 MB).`;
  return vendor === 'bedrock'
    ? bedrockError(413, message, 'ValidationException')
    : openaiError(413, message, { code: 'request_too_large' });
}

export function internalError(vendor: Vendor, detail: string): Reply {
  return vendor === 'bedrock'
    ? bedrockError(500, `The emulator failed: ${detail}`)
    : openaiError(500, `The emulator failed: ${detail}`, { type: 'server_error' });
}

const AZURE_OPERATIONS: Record<EmulatorRoute, string> = {
  chat: 'ChatCompletions_Create',
  responses: 'Responses_Create',
  conversations: 'Conversations_Create',
  converse: 'Converse',
  'converse-stream': 'ConverseStream',
};

/** The reply for an injected fault status, with the retry headers the vendors send. */
export function faultReply(
  vendor: Vendor,
  route: EmulatorRoute,
  status: number,
  retryAfterMs: number | undefined,
  apiVersion: string | null,
): Reply {
  const headers: Record<string, string> = {};
  const seconds = retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000);
  if (retryAfterMs !== undefined) {
    headers['retry-after'] = String(seconds);
    headers['retry-after-ms'] = String(retryAfterMs);
  }
  if (vendor === 'bedrock') {
    const messages: Record<number, string> = {
      429: 'Too many requests, please wait before trying again.',
      500: 'The server encountered an internal error while processing the request.',
      503: 'The service is currently unavailable. Please try again later.',
    };
    return bedrockError(status, messages[status] ?? `Emulated fault: HTTP ${status}.`, undefined, headers);
  }
  if (status === 429 && vendor === 'azure') {
    return azureGatewayError(
      429,
      `Requests to the ${AZURE_OPERATIONS[route]} Operation under Azure OpenAI API version ${
        apiVersion ?? 'v1'
      } have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after ${
        seconds ?? 1
      } seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.`,
      headers,
    );
  }
  switch (status) {
    case 429:
      return openaiError(
        429,
        `Rate limit reached for requests. Please try again in ${seconds ?? 1}s.`,
        { type: 'requests', code: 'rate_limit_exceeded' },
        headers,
      );
    case 500:
      return openaiError(
        500,
        'The server had an error while processing your request. Sorry about that!',
        {},
        headers,
      );
    case 503:
      return openaiError(503, 'The server is overloaded or not ready yet.', {}, headers);
    default:
      return openaiError(status, `Emulated fault: HTTP ${status}.`, {}, headers);
  }
}

/** Validates a request body, answering a mismatch with a 400 in the vendor's envelope. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown, vendor: Vendor): T {
  const result = schema.safeParse(body);
  if (!result.success) throw schemaMismatch(vendor, result.error, body);
  return result.data;
}
