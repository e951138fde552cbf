import { inspect } from 'node:util';
import { delay, HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bedrockConverse } from '../../../src/aws.js';
import { CloudhopError } from '../../../src/core/errors.js';
import {
  bedrockError,
  CREDENTIALS,
  converseUrl,
  MODEL,
  PLANTED_SECRET,
  REGION,
  stepContext,
  stepRequest,
  testClient,
  user,
} from './helpers.js';

const ENDPOINT = 'http://bedrock.test:8080';

let reply: () => Response | Promise<Response>;
const server = setupServer(
  http.post(converseUrl(), () => reply()),
  http.post(converseUrl(MODEL, ENDPOINT), () => reply()),
);
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

async function failure(runtime = bedrockConverse({ region: REGION, model: MODEL, client: testClient() })) {
  const error = await runtime.step(stepRequest([user('hi')]), stepContext()).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(CloudhopError);
  return error as CloudhopError;
}

describe('bedrockConverse error mapping', () => {
  it('maps a 429 ThrottlingException to rate_limited with the retry-after delay', async () => {
    reply = () =>
      bedrockError(429, 'ThrottlingException', 'Too many requests, please wait before trying again.', {
        'retry-after': '3',
      });
    const error = await failure();
    expect(error).toMatchObject({
      code: 'rate_limited',
      retryable: true,
      status: 429,
      retryAfterMs: 3000,
      runtimeId: `bedrock-converse:bedrock-runtime.${REGION}.amazonaws.com/${MODEL}`,
    });
    expect(error.message).toContain('Too many requests, please wait before trying again.');
  });

  it('maps a 429 ModelNotReadyException to provider_unavailable, by its type and not its status', async () => {
    reply = () =>
      bedrockError(429, 'ModelNotReadyException', 'Model is not ready for inference. Wait and try again.');
    const error = await failure();
    expect(error).toMatchObject({ code: 'provider_unavailable', retryable: true, status: 429 });
    expect(error.message).toContain(MODEL);
  });

  it('reads the error type from the body when the header is missing', async () => {
    reply = () =>
      HttpResponse.json(
        { __type: 'com.amazon.bedrock#ThrottlingException', message: 'slow down' },
        { status: 429 },
      );
    expect(await failure()).toMatchObject({ code: 'rate_limited' });
  });

  it.each([
    [503, 'ServiceUnavailableException', 'provider_unavailable', true],
    [500, 'InternalServerException', 'provider_unavailable', true],
    [408, 'ModelTimeoutException', 'timeout', true],
    [424, 'ModelErrorException', 'provider_error', false],
    [403, 'AccessDeniedException', 'auth_failed', false],
    [403, 'UnrecognizedClientException', 'auth_failed', false],
    [403, 'ExpiredTokenException', 'auth_failed', false],
    [400, 'ServiceQuotaExceededException', 'rate_limited', true],
  ])('maps HTTP %i %s to %s', async (status, type, code, retryable) => {
    reply = () => bedrockError(status, type, `${type} happened`);
    const error = await failure();
    expect(error).toMatchObject({ code, retryable, status });
    expect(error.message).toContain(`${type} happened`);
  });

  it.each([
    'Input is too long for requested model.',
    'The model returned the following errors: prompt is too long: 210000 tokens > 200000 maximum',
    'The model returned the following errors: input length and `max_tokens` exceed context limit: 142422 + 64000 > 204658',
    'Too many input tokens. Max input tokens: 8192, request input token count: 9279',
    'Input Tokens Exceeded: Number of input tokens exceeds maximum length. Please update your input and try again.',
    "This model's maximum context length is 32768 tokens. However, you requested 40000 tokens.",
  ])('maps a ValidationException about input length to context_length_exceeded: %s', async (message) => {
    reply = () => bedrockError(400, 'ValidationException', message);
    expect(await failure()).toMatchObject({ code: 'context_length_exceeded', retryable: false, status: 400 });
  });

  it('maps any other ValidationException to provider_error carrying the message', async () => {
    const message = 'The toolConfig field must be defined when using toolUse and toolResult content blocks.';
    reply = () => bedrockError(400, 'ValidationException', message);
    const error = await failure();
    expect(error).toMatchObject({ code: 'provider_error', retryable: false, status: 400 });
    expect(error.message).toContain(message);
  });

  it('maps ResourceNotFoundException to invalid_config naming the model', async () => {
    reply = () =>
      bedrockError(
        404,
        'ResourceNotFoundException',
        'Could not resolve the foundation model from the provided model identifier.',
      );
    const error = await failure();
    expect(error).toMatchObject({ code: 'invalid_config', retryable: false, path: 'model' });
    expect(error.message).toMatch(/^model: /);
    expect(error.message).toContain(MODEL);
  });

  it('maps a non-JSON 502 from a proxy to provider_unavailable', async () => {
    reply = () =>
      new HttpResponse('<html>502 Bad Gateway</html>', {
        status: 502,
        headers: { 'content-type': 'text/html' },
      });
    expect(await failure()).toMatchObject({ code: 'provider_unavailable', retryable: true, status: 502 });
  });

  it('maps a network failure to provider_unavailable', async () => {
    reply = () => HttpResponse.error();
    expect(await failure()).toMatchObject({ code: 'provider_unavailable', retryable: true });
  });

  it('surfaces an abort of the step signal as aborted', async () => {
    reply = async () => {
      await delay('infinite');
      return HttpResponse.json({});
    };
    const controller = new AbortController();
    const pending = bedrockConverse({ region: REGION, model: MODEL, client: testClient() })
      .step(stepRequest([user('hi')]), stepContext(controller.signal))
      .catch((e: unknown) => e);
    controller.abort();
    expect(await pending).toMatchObject({ name: 'CloudhopError', code: 'aborted', retryable: false });
  });

  it('keeps the runtime-built client on maxAttempts 1: a 503 is sent once, cloudhop decides on retries', async () => {
    let attempts = 0;
    reply = () => {
      attempts++;
      return bedrockError(503, 'ServiceUnavailableException', 'busy');
    };
    const own = bedrockConverse({
      region: REGION,
      model: MODEL,
      endpoint: ENDPOINT,
      credentials: CREDENTIALS,
    });
    expect(await failure(own)).toMatchObject({ code: 'provider_unavailable' });
    expect(attempts).toBe(1);
  });

  describe('secrets', () => {
    function expectNoSecret(error: CloudhopError, secret: string) {
      expect(error.message).not.toContain(secret);
      expect(JSON.stringify(error)).not.toContain(secret);
      expect(inspect(error, { depth: 10 })).not.toContain(secret);
      expect(String(error)).not.toContain(secret);
    }

    it('never shows the secret access key, even when the service echoes it', async () => {
      reply = () =>
        bedrockError(403, 'InvalidSignatureException', `Signature mismatch for secret ${PLANTED_SECRET}`);
      const own = bedrockConverse({
        region: REGION,
        model: MODEL,
        endpoint: ENDPOINT,
        credentials: CREDENTIALS,
      });
      const error = await failure(own);
      expect(error.code).toBe('auth_failed');
      expect(error.message).toContain('[redacted]');
      expectNoSecret(error, PLANTED_SECRET);
    });

    it('never shows secrets a credentials provider resolves', async () => {
      const sessionToken = 'FwoGZXIvYXdzEPLANTEDSESSIONTOKEN0123456789';
      reply = () =>
        bedrockError(403, 'ExpiredTokenException', `The security token ${sessionToken} is expired`);
      const own = bedrockConverse({
        region: REGION,
        model: MODEL,
        endpoint: ENDPOINT,
        credentials: async () => ({ ...CREDENTIALS, sessionToken }),
      });
      const error = await failure(own);
      expect(error.code).toBe('auth_failed');
      expectNoSecret(error, sessionToken);
    });

    it('never shows credentials in the runtime itself', () => {
      const own = bedrockConverse({ region: REGION, model: MODEL, credentials: CREDENTIALS });
      expect(JSON.stringify(own)).not.toContain(PLANTED_SECRET);
      expect(inspect(own, { depth: 10 })).not.toContain(PLANTED_SECRET);
      expect(own.id).not.toContain(CREDENTIALS.accessKeyId);
    });
  });
});
