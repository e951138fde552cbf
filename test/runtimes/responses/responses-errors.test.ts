import { delay, HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CloudhopError } from '../../../src/core/errors.js';
import { openaiResponses } from '../../../src/runtimes/responses/openai-responses.js';
import { vendorText } from '../../helpers/fixtures.js';
import { errorBody, OPENAI_URL, recordingContext, stepRequest } from './responses-test-kit.js';

let reply: () => Response | Promise<Response> = () => new HttpResponse(null, { status: 500 });
let calls = 0;
const server = setupServer(
  http.post(`${OPENAI_URL}/responses`, () => {
    calls++;
    return reply();
  }),
);

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  calls = 0;
});
afterAll(() => server.close());

/** The first JSON block of responses-errors.md that mentions `marker`. */
function recordedErrorBody(marker: string): Record<string, unknown> {
  const blocks = [...vendorText('responses-errors.md').matchAll(/```json\n([\s\S]*?)\n```/g)].map(
    (match) => match[1]!,
  );
  return JSON.parse(blocks.find((block) => block.includes(marker))!);
}

const runtime = () => openaiResponses({ apiKey: 'sk-test-error-mapping', model: 'gpt-5.4' });

async function failure(
  respond: () => Response | Promise<Response>,
  context = recordingContext(),
  timeoutMs?: number,
): Promise<CloudhopError> {
  reply = respond;
  const error = await runtime()
    .step(stepRequest(), { ...context, ...(timeoutMs !== undefined ? { timeoutMs } : {}) })
    .catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(CloudhopError);
  return error as CloudhopError;
}

describe('Responses error mapping', () => {
  it('maps 429 to rate_limited with the server delay, and sends the request once', async () => {
    const error = await failure(() =>
      errorBody(
        429,
        { message: 'Rate limit reached for gpt-5.4.', code: 'rate_limit_exceeded' },
        { 'retry-after': '7' },
      ),
    );
    expect(error).toMatchObject({
      code: 'rate_limited',
      retryable: true,
      status: 429,
      retryAfterMs: 7000,
      runtimeId: 'openai-responses:api.openai.com/v1/gpt-5.4',
    });
    expect(calls).toBe(1);
  });

  it('maps the recorded insufficient_quota 429 to a non-retryable provider_error', async () => {
    const error = await failure(() =>
      HttpResponse.json(recordedErrorBody('insufficient_quota'), { status: 429 }),
    );
    expect(error).toMatchObject({ code: 'provider_error', retryable: false, status: 429 });
    expect(error.message).toContain('You exceeded your current quota');
  });

  it('maps 401 and 403 to auth_failed', async () => {
    expect(await failure(() => errorBody(401, { message: 'Incorrect API key provided.' }))).toMatchObject({
      code: 'auth_failed',
      retryable: false,
      status: 401,
    });
    expect(await failure(() => errorBody(403, { message: 'Forbidden.' }))).toMatchObject({
      code: 'auth_failed',
    });
  });

  it('maps a 404 for the model to invalid_config without reseeding', async () => {
    const context = recordingContext();
    reply = () =>
      errorBody(404, {
        message: 'The model `gpt-9` does not exist or you do not have access to it.',
        code: 'model_not_found',
      });
    const error = await runtime()
      .step(stepRequest({ remoteState: { remote: { responseId: 'resp_1' }, syncedCount: 0 } }), context)
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'invalid_config', retryable: false, status: 404 });
    expect(context.events).toEqual([]);
    expect(calls).toBe(1);
  });

  it('maps 5xx to a retryable provider_unavailable', async () => {
    expect(await failure(() => new HttpResponse(null, { status: 503 }))).toMatchObject({
      code: 'provider_unavailable',
      retryable: true,
      status: 503,
    });
  });

  it('maps context_length_exceeded', async () => {
    const error = await failure(() =>
      errorBody(400, {
        message: 'Your input exceeds the context window of this model.',
        code: 'context_length_exceeded',
        param: 'input',
      }),
    );
    expect(error).toMatchObject({ code: 'context_length_exceeded', retryable: false });
  });

  it('maps other 400s to a non-retryable provider_error carrying the vendor message', async () => {
    const error = await failure(() =>
      errorBody(400, {
        message: "Unsupported parameter: 'temperature' is not supported with this model.",
        param: 'temperature',
      }),
    );
    expect(error).toMatchObject({ code: 'provider_error', retryable: false, status: 400 });
    expect(error.message).toContain("Unsupported parameter: 'temperature'");
  });

  it('maps a network failure to provider_unavailable', async () => {
    expect(await failure(() => HttpResponse.error())).toMatchObject({
      code: 'provider_unavailable',
      retryable: true,
    });
  });

  it('maps the per-request timeout to timeout', async () => {
    const error = await failure(
      async () => {
        await delay('infinite');
        return new HttpResponse(null);
      },
      recordingContext(),
      50,
    );
    expect(error).toMatchObject({ code: 'timeout', retryable: true });
  });

  it('lets an abort of the signal end the request', async () => {
    const controller = new AbortController();
    reply = async () => {
      controller.abort();
      await delay('infinite');
      return new HttpResponse(null);
    };
    const error = await runtime()
      .step(stepRequest(), recordingContext(controller.signal))
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'aborted', retryable: false });
  });
});
