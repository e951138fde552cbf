import { inspect } from 'node:util';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { azureChat } from '../../../src/azure.js';
import { CloudhopError } from '../../../src/core/errors.js';
import { openaiChat } from '../../../src/openai.js';
import type { Runtime, StepContext } from '../../../src/runtime/runtime.js';
import { vendorJson, vendorText } from '../../helpers/fixtures.js';
import {
  AZURE_DEPLOYMENT_URL,
  AZURE_ENDPOINT,
  gatedStream,
  recordingContext,
  sse,
  sseOf,
  stepRequest,
} from './chat-test-kit.js';

const server = setupServer();
let requests = 0;
let releaseHeldRequests: () => void = () => {};

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  server.resetHandlers();
  releaseHeldRequests();
  requests = 0;
});
afterAll(() => server.close());

const API_KEY = 'azure-planted-key-5f1c2b7e9d';
const azure = () => azureChat({ endpoint: AZURE_ENDPOINT, deployment: 'gpt-4o', apiKey: API_KEY });

function respond(make: () => Response | Promise<Response>, url = AZURE_DEPLOYMENT_URL) {
  server.use(
    http.post(url, () => {
      requests++;
      return make();
    }),
  );
}

async function failure(runtime: Runtime, context: StepContext = recordingContext(), stream = false) {
  const error = await runtime.step(stepRequest({ stream }), context).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error === undefined) throw new Error('expected the step to fail');
  return error as any;
}

/** Azure's 429 from azure-429.txt: the body of section D or F, `"code": "429"` as a string. */
function azure429Body(section: 'D' | 'F'): Record<string, unknown> {
  const text = vendorText('azure-429.txt');
  const start = text.indexOf(`## ${section}.`);
  const line = text
    .slice(start)
    .split('\n')
    .find((candidate) => candidate.startsWith('{"error"'));
  return JSON.parse(line!);
}

const contentFilterExamples = vendorJson('azure-content-filter-error.json').examples as {
  name: string;
  body: any;
}[];

describe('chat errors: content filter (HTTP 400)', () => {
  it.each([
    [contentFilterExamples[0]!, ['self_harm']],
    [contentFilterExamples[1]!, ['hate', 'self_harm', 'violence']],
    [contentFilterExamples[2]!, []],
  ])('$name → content_filtered with the filtered categories', async (example, categories) => {
    respond(() => HttpResponse.json(example.body, { status: 400 }));
    const error = await failure(azure());
    expect(error).toBeInstanceOf(CloudhopError);
    expect(error).toMatchObject({ code: 'content_filtered', status: 400, retryable: false, categories });
    expect(error.message).toContain('content filter');
  });

  it('accepts the spec spelling inner_error.content_filter_results', async () => {
    const body = structuredClone(contentFilterExamples[0]!.body);
    body.error.inner_error = {
      code: 'ResponsibleAIPolicyViolation',
      content_filter_results: body.error.innererror.content_filter_result,
    };
    delete body.error.innererror;
    respond(() => HttpResponse.json(body, { status: 400 }));
    expect(await failure(azure())).toMatchObject({ code: 'content_filtered', categories: ['self_harm'] });
  });
});

describe('chat errors: rate limits (HTTP 429)', () => {
  it.each([
    ['retry-after-ms', { 'retry-after-ms': '6000', 'retry-after': '6' }, 6000],
    ['x-ms-retry-after-ms', { 'x-ms-retry-after-ms': '2500' }, 2500],
    ['retry-after in seconds', { 'retry-after': '7' }, 7000],
  ])('reads the delay from %s', async (_, headers, retryAfterMs) => {
    respond(() => HttpResponse.json(azure429Body('F'), { status: 429, headers }));
    const error = await failure(azure());
    expect(error).toMatchObject({ code: 'rate_limited', status: 429, retryable: true, retryAfterMs });
    expect(error.message).toContain('exceeded token rate limit');
  });

  it('falls back to the delay the message names when no header carries one', async () => {
    respond(() => HttpResponse.json(azure429Body('D'), { status: 429 }));
    expect(await failure(azure())).toMatchObject({
      code: 'rate_limited',
      retryAfterMs: 60_000,
      retryable: true,
    });
  });

  it('does not retry an exhausted quota', async () => {
    const body = {
      error: {
        message: 'You exceeded your current quota, please check your plan and billing details.',
        type: 'insufficient_quota',
        param: null,
        code: 'insufficient_quota',
      },
    };
    respond(() => HttpResponse.json(body, { status: 429 }));
    expect(await failure(azure())).toMatchObject({ code: 'rate_limited', retryable: false });
  });
});

describe('chat errors: status codes', () => {
  it.each([401, 403])('%i → auth_failed, not retryable', async (status) => {
    const body = {
      error: {
        code: String(status),
        message: 'Access denied due to invalid subscription key or wrong API endpoint.',
      },
    };
    respond(() => HttpResponse.json(body, { status }));
    const error = await failure(azure());
    expect(error).toMatchObject({ code: 'auth_failed', status, retryable: false });
    expect(error.message).toContain('apiKey');
  });

  it('404 on a deployment → invalid_config naming the deployment', async () => {
    const body = {
      error: {
        code: 'DeploymentNotFound',
        message:
          'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
      },
    };
    respond(() => HttpResponse.json(body, { status: 404 }));
    const error = await failure(azure());
    expect(error).toMatchObject({ code: 'invalid_config', status: 404, retryable: false });
    expect(error.message).toContain('deployment "gpt-4o"');
    expect(error.message).toContain('https://myres.openai.azure.com');
  });

  it('404 on openaiChat → invalid_config naming the model and the baseURL', async () => {
    const body = {
      error: {
        message: 'The model `gpt-9` does not exist or you do not have access to it.',
        type: 'invalid_request_error',
        param: null,
        code: 'model_not_found',
      },
    };
    respond(() => HttpResponse.json(body, { status: 404 }), 'http://localhost:8000/v1/chat/completions');
    const error = await failure(
      openaiChat({ model: 'gpt-9', baseURL: 'http://localhost:8000/v1', apiKey: 'sk-local' }),
    );
    expect(error).toMatchObject({ code: 'invalid_config', status: 404 });
    expect(error.message).toContain('model "gpt-9"');
    expect(error.message).toContain('http://localhost:8000/v1');
  });

  it.each([500, 502, 503])('%i → provider_unavailable, retryable', async (status) => {
    respond(() =>
      HttpResponse.json({ error: { code: 'InternalServerError', message: 'Backend failed.' } }, { status }),
    );
    expect(await failure(azure())).toMatchObject({ code: 'provider_unavailable', status, retryable: true });
  });

  it('a 503 with retry-after carries the delay', async () => {
    respond(() =>
      HttpResponse.json(
        {
          error: {
            code: 'ServiceUnavailable',
            message: 'The service is temporarily unable to process your request.',
          },
        },
        { status: 503, headers: { 'retry-after': '2' } },
      ),
    );
    expect(await failure(azure())).toMatchObject({ code: 'provider_unavailable', retryAfterMs: 2000 });
  });

  it('context_length_exceeded code → context_length_exceeded', async () => {
    const body = {
      error: {
        message:
          "This model's maximum context length is 128000 tokens. However, your messages resulted in 130412 tokens. Please reduce the length of the messages.",
        type: 'invalid_request_error',
        param: 'messages',
        code: 'context_length_exceeded',
      },
    };
    respond(() => HttpResponse.json(body, { status: 400 }));
    expect(await failure(azure())).toMatchObject({
      code: 'context_length_exceeded',
      status: 400,
      retryable: false,
    });
  });

  it('a 400 whose message says the context is too long → context_length_exceeded', async () => {
    const body = {
      error: {
        message: "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens.",
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    };
    respond(() => HttpResponse.json(body, { status: 400 }));
    expect(await failure(azure())).toMatchObject({ code: 'context_length_exceeded' });
  });

  it("any other 400 → provider_error with the vendor's message, not retryable", async () => {
    const body = {
      error: {
        message: "Invalid type for 'messages[0].content': expected a string, but got an object instead.",
        type: 'invalid_request_error',
        param: 'messages[0].content',
        code: 'invalid_type',
      },
    };
    respond(() => HttpResponse.json(body, { status: 400 }));
    const error = await failure(azure());
    expect(error).toMatchObject({ code: 'provider_error', status: 400, retryable: false });
    expect(error.message).toContain("Invalid type for 'messages[0].content'");
  });
});

describe('chat errors: connection, timeout, broken streams', () => {
  it('a refused connection → provider_unavailable, retryable', async () => {
    respond(() => HttpResponse.error());
    expect(await failure(azure())).toMatchObject({ code: 'provider_unavailable', retryable: true });
  });

  it('the per-request timeout → timeout, retryable', async () => {
    respond(
      () =>
        new Promise<Response>((resolve) => {
          releaseHeldRequests = () => resolve(HttpResponse.json({}));
        }),
    );
    const context = { ...recordingContext(), timeoutMs: 50 };
    expect(await failure(azure(), context)).toMatchObject({ code: 'timeout', retryable: true });
  });

  it('a stream that stops before a finish reason → provider_unavailable', async () => {
    const lines = vendorText('azure-chat-stream.txt')
      .split('\n\n')
      .filter((event) => event.startsWith('data: '));
    const cut = lines.findIndex((event) => event.includes('"finish_reason":"stop"'));
    respond(() => sse(`${lines.slice(0, cut).join('\n\n')}\n\n`));
    const context = recordingContext();
    const error = await failure(azure(), context, true);
    expect(context.deltas()).toEqual(['Capital', ' of', ' Denmark', '.']);
    expect(error).toMatchObject({ code: 'provider_unavailable', retryable: true });
  });

  it('a failing token provider → auth_failed', async () => {
    respond(() => HttpResponse.json({}));
    const runtime = azureChat({
      endpoint: AZURE_ENDPOINT,
      deployment: 'gpt-4o',
      azureADTokenProvider: async () => {
        throw new Error('ManagedIdentityCredential: no managed identity endpoint found');
      },
    });
    const error = await failure(runtime);
    expect(error).toMatchObject({ code: 'auth_failed', retryable: false });
    expect(error.message).toContain('no managed identity endpoint found');
    expect(requests).toBe(0);
  });
});

describe('chat errors: abort', () => {
  it('a signal aborted before the step sends nothing', async () => {
    respond(() => HttpResponse.json({}));
    const controller = new AbortController();
    controller.abort();
    const error = await failure(azure(), recordingContext(controller.signal));
    expect(CloudhopError.is(error, 'aborted')).toBe(true);
    expect(requests).toBe(0);
  });

  it('aborting while waiting for a completion ends the step with aborted', async () => {
    const controller = new AbortController();
    respond(() => {
      controller.abort();
      return new Promise<Response>((resolve) => {
        releaseHeldRequests = () => resolve(HttpResponse.json({}));
      });
    });
    const error = await failure(azure(), recordingContext(controller.signal));
    expect(CloudhopError.is(error, 'aborted')).toBe(true);
  });

  it('aborting mid-stream ends the step at once with aborted', async () => {
    const gate = gatedStream();
    respond(() => new HttpResponse(gate.body, { headers: { 'content-type': 'text/event-stream' } }));
    const controller = new AbortController();
    const context = recordingContext(controller.signal);
    context.emit = (event) => {
      context.events.push(event);
      controller.abort();
    };
    gate.send(
      sseOf([
        {
          id: 'chatcmpl-1',
          object: 'chat.completion.chunk',
          created: 1,
          model: 'gpt-4o',
          choices: [{ index: 0, delta: { role: 'assistant', content: 'Once upon' }, finish_reason: null }],
        },
      ]).replace('data: [DONE]\n\n', ''),
    );
    const error = await failure(azure(), context, true);
    expect(CloudhopError.is(error, 'aborted')).toBe(true);
    expect(context.deltas()).toEqual(['Once upon']);
  });

  it("an abort whose reason is cloudhop's own error (the turn timeout) surfaces that error", async () => {
    const gate = gatedStream();
    respond(() => new HttpResponse(gate.body, { headers: { 'content-type': 'text/event-stream' } }));
    const controller = new AbortController();
    const reason = new CloudhopError('timeout', 'The turn ran out of time.');
    const context = recordingContext(controller.signal);
    context.emit = () => controller.abort(reason);
    gate.send(
      `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'x' }, finish_reason: null }] })}\n\n`,
    );
    expect(await failure(azure(), context, true)).toBe(reason);
  });
});

describe('chat errors: secrets', () => {
  function expectNoSecret(error: unknown, secret: string) {
    expect(error).toBeInstanceOf(CloudhopError);
    expect((error as Error).message).not.toContain(secret);
    expect(JSON.stringify(error)).not.toContain(secret);
    expect(inspect(error, { depth: 10 })).not.toContain(secret);
  }

  it('a planted api key echoed by the server never reaches the error', async () => {
    respond(() =>
      HttpResponse.json(
        { error: { code: '401', message: `Access denied: key ${API_KEY} is not valid for this resource.` } },
        { status: 401 },
      ),
    );
    const error = await failure(azure());
    expect(error.code).toBe('auth_failed');
    expectNoSecret(error, API_KEY);
  });

  it('an Entra token echoed by the server never reaches the error', async () => {
    const token = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.planted-token';
    respond(() =>
      HttpResponse.json(
        { error: { code: 'InvalidToken', message: `Token ${token} has expired.` } },
        { status: 401 },
      ),
    );
    const runtime = azureChat({
      endpoint: AZURE_ENDPOINT,
      deployment: 'gpt-4o',
      azureADTokenProvider: async () => token,
    });
    expectNoSecret(await failure(runtime), token);
  });

  it('an openaiChat key and a secret custom header never reach the error', async () => {
    const apiKey = 'sk-planted-openai-key-12345';
    const gatewayKey = 'gateway-planted-secret-777';
    respond(
      () =>
        HttpResponse.json(
          {
            error: {
              message: `Incorrect API key provided: ${apiKey} (gateway ${gatewayKey})`,
              type: 'invalid_request_error',
              code: 'invalid_api_key',
            },
          },
          { status: 401 },
        ),
      'https://api.openai.com/v1/chat/completions',
    );
    const error = await failure(
      openaiChat({ model: 'gpt-4o', apiKey, headers: { 'x-gateway-key': gatewayKey } }),
    );
    expectNoSecret(error, apiKey);
    expectNoSecret(error, gatewayKey);
  });
});
