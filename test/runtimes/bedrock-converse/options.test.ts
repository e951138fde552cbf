import { ConverseCommand, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bedrockConverse } from '../../../src/aws.js';
import { CloudhopError } from '../../../src/core/errors.js';
import { CREDENTIALS, converseBody, MODEL, REGION, stepContext, stepRequest, user } from './helpers.js';

function configError(make: () => unknown): CloudhopError {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(CloudhopError);
    expect((error as CloudhopError).code).toBe('invalid_config');
    return error as CloudhopError;
  }
  throw new Error('expected invalid_config');
}

describe('bedrockConverse options', () => {
  it('is a stateless runtime of the aws-bedrock-converse family named after region and model', () => {
    const runtime = bedrockConverse({ region: REGION, model: MODEL });
    expect(runtime).toMatchObject({
      id: `bedrock-converse:bedrock-runtime.us-east-1.amazonaws.com/${MODEL}`,
      kind: 'stateless',
      family: 'aws-bedrock-converse',
    });
  });

  it('names the runtime after the endpoint host and path, without credentials or query', () => {
    const runtime = bedrockConverse({
      region: REGION,
      model: 'amazon.nova-lite-v1:0',
      endpoint: 'https://user:pass@proxy.example.com:8443/bedrock/?token=abc',
    });
    expect(runtime.id).toBe('bedrock-converse:proxy.example.com:8443/bedrock/amazon.nova-lite-v1:0');
  });

  it.each([
    ['region', { model: MODEL }],
    ['model', { region: REGION }],
  ])('throws invalid_config naming %s when it is missing', (option, options) => {
    const error = configError(() => bedrockConverse(options as never));
    expect(error.message).toContain(`"${option}"`);
    expect(error.message).toContain('is required');
    expect(error.path).toBe(option);
  });

  it.each([
    ['region', { region: 'US East', model: MODEL }],
    ['model', { region: REGION, model: '  ' }],
    ['endpoint', { region: REGION, model: MODEL, endpoint: 'ftp://example.com' }],
    ['client', { region: REGION, model: MODEL, client: {} }],
    ['credentials', { region: REGION, model: MODEL, credentials: { accessKeyId: 'AKID' } }],
    ['inferenceConfig', { region: REGION, model: MODEL, inferenceConfig: { maxTokens: -1 } }],
    ['inferenceConfig', { region: REGION, model: MODEL, inferenceConfig: { max_tokens: 100 } }],
    ['regoin', { region: REGION, model: MODEL, regoin: 'us-west-2' }],
  ])('throws invalid_config naming %s when it is wrong', (option, options) => {
    const error = configError(() => bedrockConverse(options as never));
    expect(error.message).toContain(option);
  });

  it('refuses credentials or endpoint next to an injected client, which would silently ignore them', () => {
    const client = { send: async () => ({}) };
    expect(
      configError(() => bedrockConverse({ region: REGION, model: MODEL, client, credentials: CREDENTIALS }))
        .path,
    ).toBe('credentials');
    expect(
      configError(() =>
        bedrockConverse({ region: REGION, model: MODEL, client, endpoint: 'http://localhost:1' }),
      ).path,
    ).toBe('endpoint');
  });

  it('never puts a credential in a validation message', () => {
    const error = configError(() =>
      bedrockConverse({
        region: REGION,
        model: MODEL,
        credentials: { secretAccessKey: CREDENTIALS.secretAccessKey } as never,
      }),
    );
    expect(JSON.stringify(error)).not.toContain(CREDENTIALS.secretAccessKey);
  });

  it('uses an injected client as it is, with the SDK commands and the step signal', async () => {
    const send = vi.fn(async (_command: unknown, _options?: unknown) =>
      converseBody([{ text: 'from my client' }]),
    );
    const client = { send };
    const runtime = bedrockConverse({ region: REGION, model: MODEL, client });
    const controller = new AbortController();
    const result = await runtime.step(stepRequest([user('hi')]), stepContext(controller.signal));
    expect(result.items[0]).toMatchObject({
      type: 'message',
      content: [{ type: 'text', text: 'from my client' }],
    });
    const [command, options] = send.mock.calls[0]!;
    expect(command).toBeInstanceOf(ConverseCommand);
    expect((command as ConverseCommand).input).toMatchObject({
      modelId: MODEL,
      messages: [{ role: 'user' }],
    });
    expect(options).toEqual({ abortSignal: controller.signal });

    send.mockResolvedValueOnce({ stream: (async function* () {})() } as never);
    await runtime.step(stepRequest([user('hi')], { stream: true }), stepContext()).catch(() => undefined);
    expect(send.mock.calls[1]![0]).toBeInstanceOf(ConverseStreamCommand);

    await runtime.close?.();
    expect(send).toHaveBeenCalledTimes(2);
  });
});

describe("bedrockConverse and the AWS SDK's endpoint variables", () => {
  afterEach(() => vi.unstubAllEnvs());

  it('names the endpoint of AWS_ENDPOINT_URL_BEDROCK_RUNTIME, which wins over AWS_ENDPOINT_URL', () => {
    vi.stubEnv('AWS_ENDPOINT_URL', 'https://shared.example.com');
    expect(bedrockConverse({ region: REGION, model: MODEL }).id).toBe(
      `bedrock-converse:shared.example.com/${MODEL}`,
    );
    vi.stubEnv('AWS_ENDPOINT_URL_BEDROCK_RUNTIME', 'http://127.0.0.1:4010');
    expect(bedrockConverse({ region: REGION, model: MODEL }).id).toBe(
      `bedrock-converse:127.0.0.1:4010/${MODEL}`,
    );
  });

  it('lets the endpoint option, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS or an injected client set the variables aside', () => {
    vi.stubEnv('AWS_ENDPOINT_URL_BEDROCK_RUNTIME', 'http://127.0.0.1:4010');
    const regional = `bedrock-converse:bedrock-runtime.us-east-1.amazonaws.com/${MODEL}`;
    expect(bedrockConverse({ region: REGION, model: MODEL, endpoint: 'https://proxy.example.com' }).id).toBe(
      `bedrock-converse:proxy.example.com/${MODEL}`,
    );
    expect(bedrockConverse({ region: REGION, model: MODEL, client: { send: async () => ({}) } }).id).toBe(
      regional,
    );
    vi.stubEnv('AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', 'true');
    expect(bedrockConverse({ region: REGION, model: MODEL }).id).toBe(regional);
  });

  it('throws invalid_config naming the variable when it holds no http(s) URL', () => {
    vi.stubEnv('AWS_ENDPOINT_URL_BEDROCK_RUNTIME', 'localhost:4010');
    const error = configError(() => bedrockConverse({ region: REGION, model: MODEL }));
    expect(error.message).toContain('AWS_ENDPOINT_URL_BEDROCK_RUNTIME');
    expect(error.path).toBe('endpoint');
  });
});

describe('bedrockConverse loads the AWS SDK lazily', () => {
  it('does not load @aws-sdk/client-bedrock-runtime on import or creation, only on the first step', async () => {
    vi.resetModules();
    let loaded = false;
    vi.doMock('@aws-sdk/client-bedrock-runtime', async (importOriginal) => {
      loaded = true;
      return importOriginal();
    });
    try {
      await import('../../../src/index.js');
      const aws = await import('../../../src/aws.js');
      const send = vi.fn(async () => converseBody([{ text: 'ok' }]));
      const runtime = aws.bedrockConverse({ region: REGION, model: MODEL, client: { send } });
      expect(loaded).toBe(false);
      await runtime.step(stepRequest([user('hi')]), stepContext());
      expect(loaded).toBe(true);
    } finally {
      vi.doUnmock('@aws-sdk/client-bedrock-runtime');
      vi.resetModules();
    }
  });

  it('fails the step with invalid_config naming the package to install when the SDK is missing', async () => {
    vi.resetModules();
    vi.doMock('@aws-sdk/client-bedrock-runtime', () => {
      throw Object.assign(new Error("Cannot find package '@aws-sdk/client-bedrock-runtime'"), {
        code: 'ERR_MODULE_NOT_FOUND',
      });
    });
    try {
      const aws = await import('../../../src/aws.js');
      const runtime = aws.bedrockConverse({ region: REGION, model: MODEL });
      const error = await runtime.step(stepRequest([user('hi')]), stepContext()).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'CloudhopError', code: 'invalid_config', retryable: false });
      expect((error as Error).message).toContain('npm install @aws-sdk/client-bedrock-runtime');
    } finally {
      vi.doUnmock('@aws-sdk/client-bedrock-runtime');
      vi.resetModules();
    }
  });
});
