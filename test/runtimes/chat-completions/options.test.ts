import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type AzureChatOptions, azureChat } from '../../../src/azure.js';
import { CloudhopError } from '../../../src/core/errors.js';
import { type OpenAIChatOptions, openaiChat } from '../../../src/openai.js';

/** Calls `create` and returns the invalid_config it throws synchronously. */
function configError(create: () => unknown): CloudhopError {
  try {
    create();
  } catch (error) {
    expect(CloudhopError.is(error, 'invalid_config')).toBe(true);
    return error as CloudhopError;
  }
  throw new Error('expected invalid_config');
}

const azure = (options: Record<string, unknown>) => () => azureChat(options as unknown as AzureChatOptions);
const openai = (options: Record<string, unknown>) => () =>
  openaiChat(options as unknown as OpenAIChatOptions);
const valid = { endpoint: 'https://myres.openai.azure.com', deployment: 'gpt-4o', apiKey: 'k-valid-0001' };

describe('azureChat options', () => {
  it.each([
    ['endpoint', { deployment: 'gpt-4o', apiKey: 'k-valid-0001' }],
    ['deployment', { endpoint: 'https://myres.openai.azure.com', apiKey: 'k-valid-0001' }],
    ['endpoint', { ...valid, endpoint: 42 }],
    ['endpoint', { ...valid, endpoint: 'myres.openai.azure.com' }],
    ['endpoint', { ...valid, endpoint: 'https://myres.openai.azure.com/openai/deployments/gpt-4o' }],
    ['endpoint', { ...valid, endpoint: 'https://myres.openai.azure.com?api-key=secret-in-url' }],
    ['deployment', { ...valid, deployment: '' }],
    ['deployment', { ...valid, deployment: 'gpt-4o/chat' }],
    ['apiKey', { ...valid, apiKey: 123 }],
    ['apiVersion', { ...valid, apiVersion: 20241021 }],
    ['useV1', { ...valid, useV1: 'yes' }],
    [
      'azureADTokenProvider',
      { endpoint: valid.endpoint, deployment: 'gpt-4o', azureADTokenProvider: 'a-token' },
    ],
  ])('names %s when it is missing or wrong', (option, options) => {
    const error = configError(azure(options));
    expect(error.message).toContain(`"${option}"`);
    expect(error.message).toMatch(/^azureChat: /);
    expect(error.path).toBe(option);
  });

  it('needs a credential: apiKey or azureADTokenProvider', () => {
    const error = configError(azure({ endpoint: valid.endpoint, deployment: 'gpt-4o' }));
    expect(error.message).toContain('"apiKey"');
    expect(error.message).toContain('azureADTokenProvider');
  });

  it('refuses both apiKey and azureADTokenProvider', () => {
    const error = configError(azure({ ...valid, azureADTokenProvider: async () => 'token' }));
    expect(error.message).toContain('"azureADTokenProvider"');
    expect(error.message).toContain('not both');
  });

  it('names an unknown option (a typo would otherwise be ignored)', () => {
    const error = configError(azure({ ...valid, apiversion: '2024-10-21' }));
    expect(error.message).toContain('apiversion');
  });

  it('never echoes the key it refuses', () => {
    const error = configError(
      azure({ ...valid, apiKey: 'secret-key-value-998877', azureADTokenProvider: async () => 't' }),
    );
    expect(JSON.stringify(error)).not.toContain('secret-key-value-998877');
  });
});

describe('openaiChat options', () => {
  beforeEach(() => {
    vi.stubEnv('OPENAI_API_KEY', '');
    vi.stubEnv('OPENAI_BASE_URL', '');
  });
  afterEach(() => vi.unstubAllEnvs());

  it.each([
    ['model', { apiKey: 'sk-valid-0001' }],
    ['model', { model: '', apiKey: 'sk-valid-0001' }],
    ['baseURL', { model: 'gpt-4o', baseURL: 'localhost:11434' }],
    ['baseURL', { model: 'gpt-4o', baseURL: 7 }],
    ['apiKey', { model: 'gpt-4o', apiKey: {} }],
    ['organization', { model: 'gpt-4o', apiKey: 'sk-valid-0001', organization: 5 }],
    ['headers', { model: 'gpt-4o', apiKey: 'sk-valid-0001', headers: { 'x-n': 5 } }],
  ])('names %s when it is missing or wrong', (option, options) => {
    const error = configError(openai(options));
    expect(error.message).toContain(`"${option}`);
    expect(error.message).toMatch(/^openaiChat: /);
  });

  it('needs an API key for api.openai.com', () => {
    const error = configError(openai({ model: 'gpt-4o' }));
    expect(error.message).toContain('"apiKey"');
    expect(error.message).toContain('OPENAI_API_KEY');
  });

  it('needs no API key for another server', () => {
    expect(openaiChat({ model: 'llama3.2', baseURL: 'http://localhost:11434/v1' }).id).toBe(
      'openai-chat:localhost:11434/v1/llama3.2',
    );
  });

  it('rejects an OPENAI_BASE_URL that is not a URL', () => {
    vi.stubEnv('OPENAI_BASE_URL', 'not a url');
    const error = configError(openai({ model: 'gpt-4o', apiKey: 'sk-valid-0001' }));
    expect(error.message).toContain('OPENAI_BASE_URL');
  });
});
