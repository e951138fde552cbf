import { inspect } from 'node:util';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CloudhopError } from '../../../src/core/errors.js';
import { type FrontierOptions, frontier } from '../../../src/runtimes/responses/frontier.js';
import {
  errorBody,
  MESSAGE_RESPONSE,
  record,
  recordingContext,
  responseExample,
  type SeenRequest,
  stepRequest,
  user,
} from './responses-test-kit.js';

const MANTLE = 'https://bedrock-mantle.us-east-1.api.aws/v1';
const RUNTIME = 'https://bedrock-runtime.us-east-1.amazonaws.com/openai/v1';
const PROXY = 'https://proxy.example.com/bedrock/v1';

const ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN';
const credentials = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY };

const seen: SeenRequest[] = [];
let reply: (body: any) => Response = () => HttpResponse.json(responseExample(MESSAGE_RESPONSE));
const server = setupServer(
  ...[MANTLE, RUNTIME, PROXY].map((base) =>
    http.post(`${base}/responses`, async ({ request }) => {
      await record(request, seen);
      return reply(seen.at(-1)!.body);
    }),
  ),
);

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  seen.length = 0;
  reply = () => HttpResponse.json(responseExample(MESSAGE_RESPONSE));
});
afterAll(() => server.close());

const SIGV4 =
  /^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/\d{8}\/us-east-1\/([a-z-]+)\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/;

function signingScope(request: SeenRequest): string | undefined {
  return SIGV4.exec(request.headers.get('authorization') ?? '')?.[1];
}

/** Recomputes the signature of a received request, as AWS would, from the headers it says it signed. */
async function expectVerifiableSignature(request: SeenRequest, service: string): Promise<void> {
  const authorization = request.headers.get('authorization')!;
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)![1]!.split(';');
  const amzDate = request.headers.get('x-amz-date')!;
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  const signer = new SignatureV4({
    credentials,
    region: 'us-east-1',
    service,
    sha256: Hash.bind(null, 'sha256'),
  });
  const expected = await signer.sign(
    {
      method: request.method,
      protocol: request.url.protocol,
      hostname: request.url.hostname,
      path: request.url.pathname,
      query: Object.fromEntries(request.url.searchParams),
      headers: Object.fromEntries(signedHeaders.map((name) => [name, request.headers.get(name) ?? ''])),
      body: JSON.stringify(request.body),
    },
    { signingDate },
  );
  expect(authorization).toBe(expected.headers.authorization);
}

describe('frontier endpoints and SigV4', () => {
  it('signs requests to bedrock-mantle (the default service) for the bedrock-mantle scope', async () => {
    const runtime = frontier({ region: 'us-east-1', model: 'openai.gpt-5.4', credentials });
    const result = await runtime.step(stepRequest(), recordingContext());

    expect(seen[0]!.url.href).toBe(`${MANTLE}/responses`);
    expect(signingScope(seen[0]!)).toBe('bedrock-mantle');
    expect(seen[0]!.headers.get('x-amz-date')).toMatch(/^\d{8}T\d{6}Z$/);
    await expectVerifiableSignature(seen[0]!, 'bedrock-mantle');
    expect(seen[0]!.body).toMatchObject({ model: 'openai.gpt-5.4', store: true });
    expect(result.finishReason).toBe('stop');
    expect(runtime).toMatchObject({
      id: 'frontier:bedrock-mantle.us-east-1.api.aws/v1/openai.gpt-5.4',
      kind: 'stateful',
      family: 'aws-bedrock-openai',
    });
  });

  it('signs requests to bedrock-runtime for its own scope, with the session token', async () => {
    const runtime = frontier({
      region: 'us-east-1',
      model: 'openai.gpt-5.4',
      service: 'bedrock-runtime',
      credentials: { ...credentials, sessionToken: SESSION_TOKEN },
    });
    await runtime.step(stepRequest(), recordingContext());

    expect(seen[0]!.url.href).toBe(`${RUNTIME}/responses`);
    expect(signingScope(seen[0]!)).toBe('bedrock');
    expect(seen[0]!.headers.get('x-amz-date')).toMatch(/^\d{8}T\d{6}Z$/);
    await expectVerifiableSignature(seen[0]!, 'bedrock');
    expect(seen[0]!.headers.get('x-amz-security-token')).toBe(SESSION_TOKEN);
    expect(runtime.id).toBe('frontier:bedrock-runtime.us-east-1.amazonaws.com/openai/v1/openai.gpt-5.4');
  });

  it('takes credentials from a provider function', async () => {
    let calls = 0;
    const runtime = frontier({
      region: 'us-east-1',
      model: 'openai.gpt-5.4',
      credentials: async () => {
        calls++;
        return credentials;
      },
    });
    await runtime.step(stepRequest(), recordingContext());
    expect(calls).toBeGreaterThan(0);
    expect(signingScope(seen[0]!)).toBe('bedrock-mantle');
  });

  it('keeps SigV4 when AWS_BEARER_TOKEN_BEDROCK is set in the environment', async () => {
    process.env.AWS_BEARER_TOKEN_BEDROCK = 'env-bearer-token-should-not-be-used';
    try {
      await frontier({ region: 'us-east-1', model: 'openai.gpt-5.4', credentials }).step(
        stepRequest(),
        recordingContext(),
      );
    } finally {
      delete process.env.AWS_BEARER_TOKEN_BEDROCK;
    }
    expect(signingScope(seen[0]!)).toBe('bedrock-mantle');
  });

  it('sends a Bedrock API key as a bearer token, unsigned', async () => {
    await frontier({
      region: 'us-east-1',
      model: 'openai.gpt-5.4',
      auth: { apiKey: 'ABSKbedrockapikey0001' },
    }).step(stepRequest(), recordingContext());
    expect(seen[0]!.headers.get('authorization')).toBe('Bearer ABSKbedrockapikey0001');
    expect(seen[0]!.headers.get('x-amz-date')).toBeNull();
  });

  it('asks a token provider for the bearer token on bedrock-runtime', async () => {
    await frontier({
      region: 'us-east-1',
      model: 'openai.gpt-5.4',
      service: 'bedrock-runtime',
      auth: { tokenProvider: async () => 'short-lived-bedrock-token' },
    }).step(stepRequest(), recordingContext());
    expect(seen[0]!.url.href).toBe(`${RUNTIME}/responses`);
    expect(seen[0]!.headers.get('authorization')).toBe('Bearer short-lived-bedrock-token');
  });

  it('signs requests to a custom baseURL for bedrock-mantle (the default service), as every openai major does', async () => {
    const runtime = frontier({ region: 'us-east-1', model: 'openai.gpt-5.4', baseURL: PROXY, credentials });
    const result = await runtime.step(stepRequest(), recordingContext());

    expect(seen[0]!.url.href).toBe(`${PROXY}/responses`);
    expect(signingScope(seen[0]!)).toBe('bedrock-mantle');
    await expectVerifiableSignature(seen[0]!, 'bedrock-mantle');
    expect(result.finishReason).toBe('stop');
  });

  it('sends a bearer key to a custom baseURL', async () => {
    await frontier({
      region: 'us-east-1',
      model: 'openai.gpt-5.4',
      baseURL: PROXY,
      auth: { apiKey: 'ABSKbedrockapikey0002' },
    }).step(stepRequest(), recordingContext());
    expect(seen[0]!.url.href).toBe(`${PROXY}/responses`);
    expect(seen[0]!.headers.get('authorization')).toBe('Bearer ABSKbedrockapikey0002');
  });

  it('sends requests to baseURL as they are, still signed for the chosen service', async () => {
    const runtime = frontier({
      region: 'us-east-1',
      model: 'openai.gpt-5.4',
      service: 'bedrock-runtime',
      baseURL: `${PROXY}/`,
      credentials,
    });
    await runtime.step(stepRequest(), recordingContext());
    expect(seen[0]!.url.href).toBe(`${PROXY}/responses`);
    expect(signingScope(seen[0]!)).toBe('bedrock');
    expect(runtime.id).toBe('frontier:proxy.example.com/bedrock/v1/openai.gpt-5.4');
  });
});

describe('frontier secrets', () => {
  /** Checks the credentials this runtime was given (the registry of secrets is per process). */
  function expectNoSecret(value: unknown, planted: string[]): void {
    const renderings = [
      value instanceof Error ? value.message : '',
      JSON.stringify(value),
      inspect(value, { depth: 10 }),
      value instanceof Error ? String(value.stack) : '',
    ];
    for (const text of renderings) for (const secret of planted) expect(text).not.toContain(secret);
  }

  const echoing = (status: number) => () =>
    errorBody(status, {
      message: `Denied: secret=${SECRET_ACCESS_KEY} token=${SESSION_TOKEN} key=ABSKplantedbedrockkey42 bearer=planted-token-from-provider`,
    });

  it('keeps AWS secrets out of errors and of the request itself', async () => {
    reply = echoing(403);
    const runtime = frontier({
      region: 'us-east-1',
      model: 'openai.gpt-5.4',
      credentials: { ...credentials, sessionToken: SESSION_TOKEN },
    });
    const error = await runtime.step(stepRequest(), recordingContext()).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(CloudhopError);
    expect(error).toMatchObject({ code: 'auth_failed', status: 403 });
    expectNoSecret(error, [SECRET_ACCESS_KEY, SESSION_TOKEN]);
    const sent = [...seen[0]!.headers.entries()].map(([name, value]) => `${name}: ${value}`).join('\n');
    expect(sent).not.toContain(SECRET_ACCESS_KEY);
  });

  it('keeps bearer keys and provided tokens out of errors', async () => {
    reply = echoing(401);
    const cases: Array<[FrontierOptions['auth'], string]> = [
      [{ apiKey: 'ABSKplantedbedrockkey42' }, 'ABSKplantedbedrockkey42'],
      [{ tokenProvider: () => 'planted-token-from-provider' }, 'planted-token-from-provider'],
    ];
    for (const [auth, secret] of cases) {
      const error = await frontier({ region: 'us-east-1', model: 'openai.gpt-5.4', auth })
        .step(stepRequest(), recordingContext())
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'auth_failed', status: 401 });
      expectNoSecret(error, [secret]);
    }
  });

  it('keeps secrets out of emitted events', async () => {
    reply = (body) =>
      body.previous_response_id
        ? errorBody(400, {
            message: `Previous response with id 'resp_old' not found (key=ABSKplantedbedrockkey42).`,
            code: 'previous_response_not_found',
          })
        : HttpResponse.json(responseExample(MESSAGE_RESPONSE));
    const context = recordingContext();
    await frontier({
      region: 'us-east-1',
      model: 'openai.gpt-5.4',
      auth: { apiKey: 'ABSKplantedbedrockkey42' },
    }).step(
      stepRequest({
        items: [user('hi')],
        remoteState: { remote: { responseId: 'resp_old' }, syncedCount: 0 },
      }),
      context,
    );
    expect(context.events.map((event) => event.type)).toEqual(['session-reseeded']);
    expectNoSecret(context.events, ['ABSKplantedbedrockkey42']);
  });

  it('keeps secrets out of option errors', () => {
    const error = catchSync(() =>
      frontier({ region: 'us-east-1', model: 'openai.gpt-5.4', service: 'bedrock' as never, credentials }),
    );
    expect(error).toMatchObject({ code: 'invalid_config', path: 'service' });
    expectNoSecret(error, [SECRET_ACCESS_KEY]);
  });
});

describe('frontier options', () => {
  it.each([
    ['region', { model: 'openai.gpt-5.4' }],
    ['model', { region: 'us-east-1' }],
    ['region', { region: 'US EAST', model: 'openai.gpt-5.4' }],
    ['service', { region: 'us-east-1', model: 'openai.gpt-5.4', service: 'bedrock-agent' }],
    ['auth', { region: 'us-east-1', model: 'openai.gpt-5.4', auth: 'iam' }],
    ['baseURL', { region: 'us-east-1', model: 'openai.gpt-5.4', baseURL: 'not a url' }],
    ['state', { region: 'us-east-1', model: 'openai.gpt-5.4', state: 'threads' }],
    ['regoin', { regoin: 'us-east-1', region: 'us-east-1', model: 'openai.gpt-5.4' }],
  ])('rejects a bad or missing %s synchronously', (option, options) => {
    const error = catchSync(() => frontier(options as never));
    expect(error).toBeInstanceOf(CloudhopError);
    expect(error).toMatchObject({ code: 'invalid_config', path: option });
    expect((error as Error).message.startsWith(`${option}: `)).toBe(true);
  });

  it('refuses the Conversations API on bedrock-runtime and names the service that has it', () => {
    const error = catchSync(() =>
      frontier({
        region: 'us-east-1',
        model: 'openai.gpt-5.4',
        service: 'bedrock-runtime',
        state: 'conversation',
      }),
    );
    expect(error).toMatchObject({ code: 'invalid_config', path: 'state' });
    expect((error as Error).message).toContain("service: 'bedrock-mantle'");
  });

  it('allows any state when baseURL is set, and the Conversations API on bedrock-mantle', () => {
    expect(() =>
      frontier({
        region: 'us-east-1',
        model: 'm',
        service: 'bedrock-runtime',
        state: 'conversation',
        baseURL: PROXY,
      }),
    ).not.toThrow();
    expect(() => frontier({ region: 'us-east-1', model: 'm', state: 'conversation' })).not.toThrow();
  });

  it('refuses AWS credentials together with bearer auth', () => {
    const error = catchSync(() =>
      frontier({ region: 'us-east-1', model: 'm', auth: { apiKey: 'ABSKkey000001' }, credentials }),
    );
    expect(error).toMatchObject({ code: 'invalid_config', path: 'credentials' });
  });
});

function catchSync(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a synchronous throw');
}
