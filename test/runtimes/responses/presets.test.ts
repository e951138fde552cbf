import { inspect } from 'node:util';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CloudhopError } from '../../../src/core/errors.js';
import { azureResponses } from '../../../src/runtimes/responses/azure-responses.js';
import { openaiResponses } from '../../../src/runtimes/responses/openai-responses.js';
import {
  errorBody,
  MESSAGE_RESPONSE,
  OPENAI_URL,
  reasoning,
  record,
  recordingContext,
  responseExample,
  type SeenRequest,
  stepRequest,
  user,
} from './responses-test-kit.js';

const AZURE = 'https://myres.openai.azure.com/openai/v1';
const LOCAL = 'http://127.0.0.1:4010/v1';

const seen: SeenRequest[] = [];
let reply: () => Response = () => HttpResponse.json(responseExample(MESSAGE_RESPONSE));
const server = setupServer(
  ...[OPENAI_URL, AZURE, LOCAL].flatMap((base) => [
    http.post(`${base}/responses`, async ({ request }) => {
      await record(request, seen);
      return reply();
    }),
    http.post(`${base}/conversations`, async ({ request }) => {
      await record(request, seen);
      return HttpResponse.json({
        id: 'conv_123',
        object: 'conversation',
        created_at: 1741900000,
        metadata: {},
      });
    }),
  ]),
);

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  seen.length = 0;
  reply = () => HttpResponse.json(responseExample(MESSAGE_RESPONSE));
});
afterAll(() => server.close());

function catchSync(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a synchronous throw');
}

describe('openaiResponses', () => {
  it('calls api.openai.com with a bearer key', async () => {
    const runtime = openaiResponses({ apiKey: 'sk-test-openai-preset', model: 'gpt-5.4' });
    await runtime.step(stepRequest(), recordingContext());

    expect(seen[0]!.url.href).toBe(`${OPENAI_URL}/responses`);
    expect(seen[0]!.headers.get('authorization')).toBe('Bearer sk-test-openai-preset');
    expect(runtime).toMatchObject({
      id: 'openai-responses:api.openai.com/v1/gpt-5.4',
      kind: 'stateful',
      family: 'openai',
    });
  });

  it('talks to any compatible server through baseURL', async () => {
    const runtime = openaiResponses({ apiKey: 'sk-test-local', baseURL: LOCAL, model: 'local-model' });
    await runtime.step(stepRequest(), recordingContext());
    expect(seen[0]!.url.href).toBe(`${LOCAL}/responses`);
    expect(runtime.id).toBe('openai-responses:127.0.0.1:4010/v1/local-model');
  });

  it('needs an API key from the options or OPENAI_API_KEY', () => {
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      expect(catchSync(() => openaiResponses({ model: 'gpt-5.4' }))).toMatchObject({
        code: 'invalid_config',
        path: 'apiKey',
      });
      process.env.OPENAI_API_KEY = 'sk-from-environment';
      expect(openaiResponses({ model: 'gpt-5.4' }).kind).toBe('stateful');
    } finally {
      if (saved === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = saved;
    }
  });

  it('rejects bad options synchronously, naming them', () => {
    expect(catchSync(() => openaiResponses({ apiKey: 'sk-x-123456', model: '' }))).toMatchObject({
      code: 'invalid_config',
      path: 'model',
    });
    expect(
      catchSync(() => openaiResponses({ apiKey: 'sk-x-123456', model: 'm', state: 'thread' as never })),
    ).toMatchObject({ code: 'invalid_config', path: 'state' });
  });

  it('keeps the key out of errors', async () => {
    reply = () => errorBody(401, { message: 'Incorrect API key provided: sk-planted-openai-key-77.' });
    const error = await openaiResponses({ apiKey: 'sk-planted-openai-key-77', model: 'gpt-5.4' })
      .step(stepRequest(), recordingContext())
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CloudhopError);
    expect(error).toMatchObject({ code: 'auth_failed' });
    for (const text of [(error as Error).message, JSON.stringify(error), inspect(error)]) {
      expect(text).not.toContain('sk-planted-openai-key-77');
    }
  });
});

describe('azureResponses', () => {
  it('uses the v1 path with the api-key header and no api-version or bearer', async () => {
    const runtime = azureResponses({
      endpoint: 'https://myres.openai.azure.com/',
      apiKey: 'azure-key-0001',
      model: 'gpt-4o',
    });
    await runtime.step(stepRequest(), recordingContext());

    expect(seen[0]!.url.href).toBe(`${AZURE}/responses`);
    expect(seen[0]!.headers.get('api-key')).toBe('azure-key-0001');
    expect(seen[0]!.headers.get('authorization')).toBeNull();
    expect(seen[0]!.body.model).toBe('gpt-4o');
    expect(runtime).toMatchObject({
      id: 'azure-responses:myres.openai.azure.com/gpt-4o',
      kind: 'stateful',
      family: 'azure-openai',
    });
  });

  it('accepts an endpoint that already ends in /openai or /openai/v1', () => {
    for (const endpoint of [
      'https://myres.openai.azure.com/openai',
      'https://myres.openai.azure.com/openai/v1/',
    ]) {
      expect(azureResponses({ endpoint, apiKey: 'azure-key-0001', model: 'gpt-4o' }).id).toBe(
        'azure-responses:myres.openai.azure.com/gpt-4o',
      );
    }
  });

  it('sends Entra ID tokens as bearer tokens', async () => {
    await azureResponses({
      endpoint: 'https://myres.openai.azure.com',
      azureADTokenProvider: async () => 'entra-token-abc123',
      model: 'gpt-4o',
    }).step(stepRequest(), recordingContext());
    expect(seen[0]!.headers.get('authorization')).toBe('Bearer entra-token-abc123');
    expect(seen[0]!.headers.get('api-key')).toBeNull();
  });

  it('uses the Conversations API under the same v1 path', async () => {
    const result = await azureResponses({
      endpoint: 'https://myres.openai.azure.com',
      apiKey: 'azure-key-0001',
      model: 'gpt-4o',
      state: 'conversation',
    }).step(stepRequest(), recordingContext());
    expect(seen.map((request) => request.url.href)).toEqual([`${AZURE}/conversations`, `${AZURE}/responses`]);
    expect(seen[1]!.body.conversation).toBe('conv_123');
    expect(result.remote).toMatchObject({ conversationId: 'conv_123' });
  });

  it('replays only azure-openai reasoning', async () => {
    await azureResponses({
      endpoint: 'https://myres.openai.azure.com',
      apiKey: 'azure-key-0001',
      model: 'gpt-4o',
    }).step(
      stepRequest({
        items: [
          user('a'),
          reasoning('openai', 'rs_openai', 'x'),
          reasoning('azure-openai', 'rs_azure', 'y'),
          user('b'),
        ],
      }),
      recordingContext(),
    );
    const ids = seen[0]!.body.input
      .filter((item: { type: string }) => item.type === 'reasoning')
      .map((item: { id: string }) => item.id);
    expect(ids).toEqual(['rs_azure']);
  });

  it('needs exactly one of apiKey and azureADTokenProvider', () => {
    expect(
      catchSync(() => azureResponses({ endpoint: 'https://myres.openai.azure.com', model: 'gpt-4o' })),
    ).toMatchObject({ code: 'invalid_config', path: 'apiKey' });
    expect(
      catchSync(() =>
        azureResponses({
          endpoint: 'https://myres.openai.azure.com',
          model: 'gpt-4o',
          apiKey: 'azure-key-0001',
          azureADTokenProvider: async () => 't',
        }),
      ),
    ).toMatchObject({ code: 'invalid_config' });
    expect(
      catchSync(() => azureResponses({ endpoint: 'myres', apiKey: 'azure-key-0001', model: 'gpt-4o' })),
    ).toMatchObject({
      code: 'invalid_config',
      path: 'endpoint',
    });
  });
});
