// Bad input: every case ends in a CloudhopError with the documented code and a message that names
// what to fix, and leaves the store exactly as it was. Tool outputs are the exception by design: the
// model gets an error tool_result naming the problem and the turn goes on.
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import * as z from 'zod/v4';
import { bedrockConverse, frontier } from '../../src/aws.js';
import { azureChat, azureResponses } from '../../src/azure.js';
import { startEmulator } from '../../src/emulator/index.js';
import {
  type AgentEvent,
  type AgentOptions,
  CloudhopError,
  type CloudhopErrorCode,
  createAgent,
  exportSession,
  failover,
  type Item,
  importSession,
  memoryStore,
  type Runtime,
  type SessionKey,
  type SessionStore,
  type ToolResultItem,
  tool,
} from '../../src/index.js';
import { openaiChat, openaiResponses } from '../../src/openai.js';
import { postgresStore } from '../../src/stores/postgres.js';
import { redisStore } from '../../src/stores/redis.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { scriptedRuntime } from '../../src/testing/index.js';

// ---------------------------------------------------------------------------------------------
// The store every case runs against: seeded with one session, and recording every write that
// went through. After each case of the error suites it must hold exactly what it held before.

const SEED_KEY: SessionKey = { namespace: 'default', sessionId: 'seeded' };
const SEED_ITEMS: Item[] = [
  {
    type: 'message',
    id: '01SEEDUSER0000000000000000',
    role: 'user',
    content: [{ type: 'text', text: 'My name is Ada.' }],
    createdAt: '2025-01-01T00:00:00.000Z',
  },
  {
    type: 'message',
    id: '01SEEDASSISTANT00000000000',
    role: 'assistant',
    content: [{ type: 'text', text: 'Hello Ada.' }],
    createdAt: '2025-01-01T00:00:01.000Z',
  },
];
const NAMESPACES = ['default', 'tenant-a'];

interface WatchedStore extends SessionStore {
  /** Writes that went through: `append ns/id` or `delete ns/id`. */
  readonly writes: string[];
}

function watchedStore(inner: SessionStore): WatchedStore {
  const writes: string[] = [];
  const name = (key: SessionKey) => `${key.namespace}/${key.sessionId}`;
  return {
    writes,
    load: (key) => inner.load(key),
    async append(key, items, options) {
      const version = await inner.append(key, items, options);
      writes.push(`append ${name(key)}`);
      return version;
    },
    lock: (key, ttlMs, options) => inner.lock(key, ttlMs, options),
    async delete(key) {
      await inner.delete(key);
      writes.push(`delete ${name(key)}`);
    },
    list: (options) => inner.list(options),
    close: () => inner.close(),
  };
}

/** Every session of every namespace the cases use, with its items, version and bindings. */
async function storeContents(target: SessionStore): Promise<unknown> {
  const contents: Record<string, unknown> = {};
  for (const namespace of NAMESPACES) {
    for (const sessionId of (await target.list({ namespace })).ids) {
      const snapshot = await target.load({ namespace, sessionId });
      contents[`${namespace}/${sessionId}`] = {
        items: snapshot?.items,
        version: snapshot?.version,
        bindings: snapshot?.bindings,
      };
    }
  }
  return contents;
}

let store: WatchedStore;
let contentsBefore: unknown;

beforeEach(async () => {
  const inner = memoryStore();
  await inner.append(SEED_KEY, SEED_ITEMS, { expectedVersion: 0 });
  store = watchedStore(inner);
  contentsBefore = await storeContents(store);
});

/** Asserted after every case that must leave the store as it was. */
async function expectStoreUntouched(): Promise<void> {
  expect(store.writes).toEqual([]);
  expect(await storeContents(store)).toEqual(contentsBefore);
}

// ---------------------------------------------------------------------------------------------
// Assertions shared by the tables.

function expectCloudhopError(error: unknown, code: CloudhopErrorCode, message: RegExp): CloudhopError {
  expect(error).toBeInstanceOf(CloudhopError);
  const typed = error as CloudhopError;
  expect({ code: typed.code, message: typed.message }).toEqual({
    code,
    message: expect.stringMatching(message),
  });
  return typed;
}

/** Calls `call`, which must throw synchronously; anything it started by mistake is shut down. */
function thrownSynchronously(call: () => unknown): unknown {
  try {
    const value = call() as { then?: unknown } | undefined;
    if (value && typeof value.then === 'function') {
      (value as Promise<{ close?: () => Promise<void> }>).then(
        (started) => started?.close?.(),
        () => {},
      );
    }
  } catch (error) {
    return error;
  }
  throw new Error('expected a synchronous throw');
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

/** Consumes a stream that must end by throwing; returns what it threw and what `result` rejected with. */
async function streamFailure(stream: AsyncIterable<AgentEvent> & { result: Promise<unknown> }) {
  let thrown: unknown;
  const events: AgentEvent[] = [];
  try {
    for await (const event of stream) events.push(event);
  } catch (error) {
    thrown = error;
  }
  if (thrown === undefined) throw new Error('expected the stream to end with an error');
  return { thrown, result: await rejection(stream.result), events };
}

interface SyncCase {
  name: string;
  call: () => unknown;
  code: CloudhopErrorCode;
  message: RegExp;
}

function syncCases(cases: SyncCase[]): void {
  for (const { name, call, code, message } of cases) {
    it(name, async () => {
      expectCloudhopError(thrownSynchronously(call), code, message);
      await expectStoreUntouched();
    });
  }
}

const answerHi = () => scriptedRuntime(() => 'Hi.');

// ---------------------------------------------------------------------------------------------
// Configuration: every factory validates eagerly and throws invalid_config naming the option.

const AZURE = 'https://myres.openai.azure.com';
const tokenProvider = async () => 'entra-token';
const validTool = tool({ name: 'get_weather', input: z.object({ city: z.string() }), execute: () => 21 });

describe('bad input: createAgent options', () => {
  const agentWith = (options: Partial<Record<keyof AgentOptions, unknown>> & Record<string, unknown>) => () =>
    createAgent({ runtime: answerHi(), store, ...options } as AgentOptions);

  syncCases([
    {
      name: 'createAgent without a runtime',
      call: () => createAgent({ store } as unknown as AgentOptions),
      code: 'invalid_config',
      message: /option "runtime": must be a runtime such as azureChat/,
    },
    {
      name: 'createAgent with a string as runtime',
      call: agentWith({ runtime: 'azure' }),
      code: 'invalid_config',
      message: /option "runtime"/,
    },
    {
      name: 'createAgent with no options at all',
      call: () => createAgent(undefined as unknown as AgentOptions),
      code: 'invalid_config',
      message: /^createAgent: .*expected object/,
    },
    {
      name: 'createAgent with a store that is not a SessionStore',
      call: agentWith({ store: { load() {} } }),
      code: 'invalid_config',
      message: /option "store": must be a SessionStore such as memoryStore\(\)/,
    },
    {
      name: 'createAgent with maxSteps 0',
      call: agentWith({ maxSteps: 0 }),
      code: 'invalid_config',
      message: /option "maxSteps": .*>=1/,
    },
    {
      name: 'createAgent with negative maxSteps',
      call: agentWith({ maxSteps: -3 }),
      code: 'invalid_config',
      message: /option "maxSteps": .*>=1/,
    },
    {
      name: 'createAgent with a huge maxSteps',
      call: agentWith({ maxSteps: 1e9 }),
      code: 'invalid_config',
      message: /option "maxSteps": .*<=1000/,
    },
    {
      name: 'createAgent with a fractional maxSteps',
      call: agentWith({ maxSteps: 2.5 }),
      code: 'invalid_config',
      message: /option "maxSteps": .*int/,
    },
    {
      name: 'createAgent with maxSteps as a string',
      call: agentWith({ maxSteps: '5' }),
      code: 'invalid_config',
      message: /option "maxSteps": .*expected number/,
    },
    {
      name: 'createAgent with negative retry.maxRetries',
      call: agentWith({ retry: { maxRetries: -1 } }),
      code: 'invalid_config',
      message: /option "retry\.maxRetries": .*>=0/,
    },
    {
      name: 'createAgent with a huge retry.maxRetries',
      call: agentWith({ retry: { maxRetries: 1000 } }),
      code: 'invalid_config',
      message: /option "retry\.maxRetries": .*<=20/,
    },
    {
      name: 'createAgent with negative retry.initialDelayMs',
      call: agentWith({ retry: { initialDelayMs: -5 } }),
      code: 'invalid_config',
      message: /option "retry\.initialDelayMs"/,
    },
    {
      name: 'createAgent with an unknown retry key',
      call: agentWith({ retry: { retries: 3 } }),
      code: 'invalid_config',
      message: /option "retry": Unrecognized key: "retries"/,
    },
    {
      name: 'createAgent with timeoutMs 0',
      call: agentWith({ timeoutMs: 0 }),
      code: 'invalid_config',
      message: /option "timeoutMs": .*>0/,
    },
    {
      name: 'createAgent with timeoutMs NaN',
      call: agentWith({ timeoutMs: Number.NaN }),
      code: 'invalid_config',
      message: /option "timeoutMs"/,
    },
    {
      name: 'createAgent with timeoutMs as a string',
      call: agentWith({ timeoutMs: '30s' }),
      code: 'invalid_config',
      message: /option "timeoutMs": .*expected number/,
    },
    {
      name: 'createAgent with timeoutMs beyond a day',
      call: agentWith({ timeoutMs: 2 ** 40 }),
      code: 'invalid_config',
      message: /option "timeoutMs": .*<=86400000/,
    },
    {
      name: 'createAgent with context.maxItems 0',
      call: agentWith({ context: { maxItems: 0 } }),
      code: 'invalid_config',
      message: /option "context\.maxItems": .*>=1/,
    },
    {
      name: 'createAgent with an unknown context key',
      call: agentWith({ context: { window: 3 } }),
      code: 'invalid_config',
      message: /option "context": Unrecognized key: "window"/,
    },
    {
      name: 'createAgent with a namespace containing a space',
      call: agentWith({ namespace: 'tenant a' }),
      code: 'invalid_config',
      message: /option "namespace": must be 1-256 characters from \[A-Za-z0-9\._:@-\]/,
    },
    {
      name: 'createAgent with an empty namespace',
      call: agentWith({ namespace: '' }),
      code: 'invalid_config',
      message: /option "namespace": must be 1-256 characters/,
    },
    {
      name: 'createAgent with a 257-character namespace',
      call: agentWith({ namespace: 'n'.repeat(257) }),
      code: 'invalid_config',
      message: /option "namespace": must be 1-256 characters/,
    },
    {
      name: 'createAgent with a numeric namespace',
      call: agentWith({ namespace: 42 }),
      code: 'invalid_config',
      message: /option "namespace"/,
    },
    {
      name: 'createAgent with a misspelt option (maxStep)',
      call: agentWith({ maxStep: 3 }),
      code: 'invalid_config',
      message: /^createAgent: Unrecognized key: "maxStep"/,
    },
    {
      name: 'createAgent with numeric instructions',
      call: agentWith({ instructions: 42 }),
      code: 'invalid_config',
      message: /option "instructions": .*expected string/,
    },
    {
      name: 'createAgent with a debug logger that is not a function',
      call: agentWith({ debug: 'yes' }),
      code: 'invalid_config',
      message: /option "debug": must be a function/,
    },
    {
      name: 'createAgent with negative lockTtlMs',
      call: agentWith({ lockTtlMs: -1 }),
      code: 'invalid_config',
      message: /option "lockTtlMs"/,
    },
    {
      name: 'createAgent with tools that are not a list',
      call: agentWith({ tools: 'get_weather' }),
      code: 'invalid_config',
      message: /option "tools": .*expected array/,
    },
  ]);
});

describe('bad input: azureChat options', () => {
  syncCases([
    {
      name: 'azureChat without endpoint',
      call: () => azureChat({ deployment: 'gpt-4o', apiKey: 'k' } as never),
      code: 'invalid_config',
      message: /option "endpoint": is required: the Azure OpenAI resource URL/,
    },
    {
      name: 'azureChat with an endpoint that is not a URL',
      call: () => azureChat({ endpoint: 'myres.openai.azure.com', deployment: 'gpt-4o', apiKey: 'k' }),
      code: 'invalid_config',
      message: /option "endpoint": must be an absolute http\(s\) URL/,
    },
    {
      name: 'azureChat with an ftp:// endpoint',
      call: () => azureChat({ endpoint: 'ftp://myres.example', deployment: 'gpt-4o', apiKey: 'k' }),
      code: 'invalid_config',
      message: /option "endpoint": must be an absolute http\(s\) URL/,
    },
    {
      name: 'azureChat with an endpoint that already ends in /openai',
      call: () => azureChat({ endpoint: `${AZURE}/openai`, deployment: 'gpt-4o', apiKey: 'k' }),
      code: 'invalid_config',
      message: /option "endpoint": must be the resource root .*without "\/openai/,
    },
    {
      name: 'azureChat with credentials inside the endpoint URL',
      call: () =>
        azureChat({
          endpoint: 'https://user:pass@myres.openai.azure.com',
          deployment: 'gpt-4o',
          apiKey: 'k',
        }),
      code: 'invalid_config',
      message: /option "endpoint": must not carry credentials/,
    },
    {
      name: 'azureChat without deployment',
      call: () => azureChat({ endpoint: AZURE, apiKey: 'k' } as never),
      code: 'invalid_config',
      message: /option "deployment": is required/,
    },
    {
      name: 'azureChat with a deployment containing a slash',
      call: () => azureChat({ endpoint: AZURE, deployment: 'gpt-4o/chat', apiKey: 'k' }),
      code: 'invalid_config',
      message: /option "deployment": must be a deployment name, without "\/"/,
    },
    {
      name: 'azureChat with both apiKey and azureADTokenProvider',
      call: () =>
        azureChat({
          endpoint: AZURE,
          deployment: 'gpt-4o',
          apiKey: 'k',
          azureADTokenProvider: tokenProvider,
        }),
      code: 'invalid_config',
      message: /option "azureADTokenProvider": give either apiKey or azureADTokenProvider, not both/,
    },
    {
      name: 'azureChat with neither apiKey nor azureADTokenProvider',
      call: () => azureChat({ endpoint: AZURE, deployment: 'gpt-4o' }),
      code: 'invalid_config',
      message: /option "apiKey": give apiKey or azureADTokenProvider/,
    },
    {
      name: 'azureChat with a numeric apiKey',
      call: () => azureChat({ endpoint: AZURE, deployment: 'gpt-4o', apiKey: 1234 as never }),
      code: 'invalid_config',
      message: /option "apiKey": must be a string/,
    },
    {
      name: 'azureChat with an azureADTokenProvider that is not a function',
      call: () =>
        azureChat({ endpoint: AZURE, deployment: 'gpt-4o', azureADTokenProvider: 'token' as never }),
      code: 'invalid_config',
      message: /option "azureADTokenProvider": must be a function/,
    },
    {
      name: 'azureChat with useV1 as a string',
      call: () => azureChat({ endpoint: AZURE, deployment: 'gpt-4o', apiKey: 'k', useV1: 'yes' as never }),
      code: 'invalid_config',
      message: /option "useV1": must be true or false/,
    },
    {
      name: 'azureChat with a misspelt option (apikey)',
      call: () => azureChat({ endpoint: AZURE, deployment: 'gpt-4o', apikey: 'k' } as never),
      code: 'invalid_config',
      message: /^azureChat: Unrecognized key: "apikey"/,
    },
  ]);
});

describe('bad input: azureResponses options', () => {
  syncCases([
    {
      name: 'azureResponses without endpoint',
      call: () => azureResponses({ model: 'gpt-5', apiKey: 'k' } as never),
      code: 'invalid_config',
      message: /^endpoint: is required \(azureResponses: the resource endpoint/,
    },
    {
      name: 'azureResponses with an endpoint that is not a URL',
      call: () => azureResponses({ endpoint: 'myres', model: 'gpt-5', apiKey: 'k' }),
      code: 'invalid_config',
      message: /^endpoint: is not valid \(azureResponses: the resource endpoint, e\.g\. 'https:/,
    },
    {
      name: 'azureResponses with both apiKey and azureADTokenProvider',
      call: () =>
        azureResponses({ endpoint: AZURE, model: 'gpt-5', apiKey: 'k', azureADTokenProvider: tokenProvider }),
      code: 'invalid_config',
      message: /^azureADTokenProvider: azureResponses needs exactly one of apiKey or azureADTokenProvider/,
    },
    {
      name: 'azureResponses with neither apiKey nor azureADTokenProvider',
      call: () => azureResponses({ endpoint: AZURE, model: 'gpt-5' }),
      code: 'invalid_config',
      message: /^apiKey: azureResponses needs exactly one of apiKey or azureADTokenProvider/,
    },
    {
      name: 'azureResponses without model',
      call: () => azureResponses({ endpoint: AZURE, apiKey: 'k' } as never),
      code: 'invalid_config',
      message: /^model: is required \(azureResponses: the deployment name/,
    },
    {
      name: 'azureResponses with an unknown state',
      call: () => azureResponses({ endpoint: AZURE, apiKey: 'k', model: 'gpt-5', state: 'sticky' as never }),
      code: 'invalid_config',
      message: /^state: must be one of 'previous-response', 'conversation'/,
    },
    {
      name: 'azureResponses with a chat-only option (deployment)',
      call: () => azureResponses({ endpoint: AZURE, apiKey: 'k', model: 'gpt-5', deployment: 'd' } as never),
      code: 'invalid_config',
      message: /^deployment: azureResponses has no option 'deployment'; check its spelling/,
    },
  ]);
});

describe('bad input: openaiChat options', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  syncCases([
    {
      name: 'openaiChat without model',
      call: () => openaiChat({ apiKey: 'k' } as never),
      code: 'invalid_config',
      message: /option "model": is required: the model name/,
    },
    {
      name: 'openaiChat with a blank model',
      call: () => openaiChat({ apiKey: 'k', model: '  ' }),
      code: 'invalid_config',
      message: /option "model": must not be empty/,
    },
    {
      name: 'openaiChat with a baseURL that has no scheme',
      call: () => openaiChat({ apiKey: 'k', model: 'llama3', baseURL: 'localhost:11434/v1' }),
      code: 'invalid_config',
      message: /option "baseURL": must be an absolute http\(s\) URL/,
    },
    {
      name: 'openaiChat with a baseURL carrying a query',
      call: () => openaiChat({ apiKey: 'k', model: 'llama3', baseURL: 'http://localhost:11434/v1?key=abc' }),
      code: 'invalid_config',
      message: /option "baseURL": must not carry credentials, a query or a fragment/,
    },
    {
      name: 'openaiChat with a non-string header value',
      call: () => openaiChat({ apiKey: 'k', model: 'gpt-4o', headers: { 'x-gateway-key': 42 } as never }),
      code: 'invalid_config',
      message: /option "headers\.x-gateway-key": must be a string/,
    },
    {
      name: 'openaiChat on api.openai.com without an API key',
      call: () => {
        vi.stubEnv('OPENAI_API_KEY', '');
        vi.stubEnv('OPENAI_BASE_URL', '');
        return openaiChat({ model: 'gpt-4o' });
      },
      code: 'invalid_config',
      message: /option "apiKey": is required for api\.openai\.com \(or set OPENAI_API_KEY\)/,
    },
    {
      name: 'openaiChat with a misspelt option (baseUrl)',
      call: () => openaiChat({ model: 'gpt-4o', apiKey: 'k', baseUrl: 'http://x' } as never),
      code: 'invalid_config',
      message: /^openaiChat: Unrecognized key: "baseUrl"/,
    },
  ]);
});

describe('bad input: openaiResponses options', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  syncCases([
    {
      name: 'openaiResponses without model',
      call: () => openaiResponses({ apiKey: 'k' } as never),
      code: 'invalid_config',
      message: /^model: is required \(openaiResponses: a model name/,
    },
    {
      name: 'openaiResponses with a baseURL that is not a URL',
      call: () => openaiResponses({ apiKey: 'k', model: 'gpt-5', baseURL: 'api.openai.com' }),
      code: 'invalid_config',
      message: /^baseURL: is not valid \(openaiResponses: an http\(s\) URL of a Responses API server/,
    },
    {
      name: 'openaiResponses without an API key',
      call: () => {
        vi.stubEnv('OPENAI_API_KEY', '');
        return openaiResponses({ model: 'gpt-5' });
      },
      code: 'invalid_config',
      message: /^apiKey: is required \(openaiResponses: pass an OpenAI API key or set OPENAI_API_KEY\)/,
    },
    {
      name: 'openaiResponses with an unknown state',
      call: () => openaiResponses({ apiKey: 'k', model: 'gpt-5', state: 'server' as never }),
      code: 'invalid_config',
      message: /^state: must be one of 'previous-response', 'conversation'/,
    },
    {
      name: 'openaiResponses with an unknown option (stream)',
      call: () => openaiResponses({ apiKey: 'k', model: 'gpt-5', stream: true } as never),
      code: 'invalid_config',
      message: /^stream: openaiResponses has no option 'stream'/,
    },
  ]);
});

describe('bad input: frontier options', () => {
  syncCases([
    {
      name: 'frontier without region',
      call: () => frontier({ model: 'openai.gpt-5.4' } as never),
      code: 'invalid_config',
      message: /^region: is required \(frontier: an AWS region such as 'us-east-1'\)/,
    },
    {
      name: 'frontier with a region that is not a region name',
      call: () => frontier({ region: 'US East', model: 'openai.gpt-5.4' }),
      code: 'invalid_config',
      message: /^region: is not valid \(frontier: an AWS region such as 'us-east-1'\)/,
    },
    {
      name: 'frontier without model',
      call: () => frontier({ region: 'us-east-1' } as never),
      code: 'invalid_config',
      message: /^model: is required \(frontier: a Bedrock model that supports the Responses API/,
    },
    {
      name: 'frontier with an unknown service',
      call: () => frontier({ region: 'us-east-1', model: 'm', service: 'bedrock' as never }),
      code: 'invalid_config',
      message: /^service: must be one of 'bedrock-mantle', 'bedrock-runtime'/,
    },
    {
      name: 'frontier with an empty bearer apiKey',
      call: () => frontier({ region: 'us-east-1', model: 'm', auth: { apiKey: '' } }),
      code: 'invalid_config',
      message: /^auth\.apiKey: must not be empty/,
    },
    {
      name: 'frontier with credentials alongside bearer auth',
      call: () =>
        frontier({
          region: 'us-east-1',
          model: 'm',
          auth: { apiKey: 'bedrock-key' },
          credentials: { accessKeyId: 'AKIA', secretAccessKey: 'secret' },
        }),
      code: 'invalid_config',
      message: /^credentials: only apply to auth: 'sigv4'/,
    },
    {
      name: 'frontier asking for conversations on bedrock-runtime',
      call: () =>
        frontier({ region: 'us-east-1', model: 'm', service: 'bedrock-runtime', state: 'conversation' }),
      code: 'invalid_config',
      message:
        /^state: 'conversation' is not available on service 'bedrock-runtime' .*use service: 'bedrock-mantle'/,
    },
    {
      name: 'frontier with a baseURL that is not a URL',
      call: () => frontier({ region: 'us-east-1', model: 'm', baseURL: 'bedrock-proxy' }),
      code: 'invalid_config',
      message: /^baseURL: is not valid \(frontier: an http\(s\) URL/,
    },
    {
      name: 'frontier with an unknown option (endpoint)',
      call: () => frontier({ region: 'us-east-1', model: 'm', endpoint: 'https://x' } as never),
      code: 'invalid_config',
      message: /^endpoint: frontier has no option 'endpoint'; check its spelling \(options: region, model/,
    },
  ]);
});

describe('bad input: bedrockConverse options', () => {
  const MODEL = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
  const someClient = { send: async () => ({}) };
  syncCases([
    {
      name: 'bedrockConverse without region',
      call: () => bedrockConverse({ model: MODEL } as never),
      code: 'invalid_config',
      message: /option "region": is required: the AWS region/,
    },
    {
      name: 'bedrockConverse without model',
      call: () => bedrockConverse({ region: 'us-east-1' } as never),
      code: 'invalid_config',
      message: /option "model": is required: the Bedrock model id/,
    },
    {
      name: 'bedrockConverse with an upper-case region',
      call: () => bedrockConverse({ region: 'US-EAST-1', model: MODEL }),
      code: 'invalid_config',
      message: /option "region": must be an AWS region name such as "us-east-1"/,
    },
    {
      name: 'bedrockConverse with a client that cannot send',
      call: () => bedrockConverse({ region: 'us-east-1', model: MODEL, client: {} as never }),
      code: 'invalid_config',
      message: /option "client": must be a BedrockRuntimeClient/,
    },
    {
      name: 'bedrockConverse with both client and credentials',
      call: () =>
        bedrockConverse({
          region: 'us-east-1',
          model: MODEL,
          client: someClient,
          credentials: { accessKeyId: 'AKIA', secretAccessKey: 'secret' },
        }),
      code: 'invalid_config',
      message: /option "credentials" cannot be combined with "client"/,
    },
    {
      name: 'bedrockConverse with both client and endpoint',
      call: () =>
        bedrockConverse({
          region: 'us-east-1',
          model: MODEL,
          client: someClient,
          endpoint: 'http://127.0.0.1:4010',
        }),
      code: 'invalid_config',
      message: /option "endpoint" cannot be combined with "client"/,
    },
    {
      name: 'bedrockConverse with an endpoint without scheme',
      call: () => bedrockConverse({ region: 'us-east-1', model: MODEL, endpoint: 'localhost:4010' }),
      code: 'invalid_config',
      message: /option "endpoint": must be an http:\/\/ or https:\/\/ URL/,
    },
    {
      name: 'bedrockConverse with credentials missing the secret',
      call: () =>
        bedrockConverse({ region: 'us-east-1', model: MODEL, credentials: { accessKeyId: 'AKIA' } as never }),
      code: 'invalid_config',
      message: /option "credentials": must be \{ accessKeyId, secretAccessKey, sessionToken\? \}/,
    },
    {
      name: 'bedrockConverse with a negative temperature',
      call: () =>
        bedrockConverse({ region: 'us-east-1', model: MODEL, inferenceConfig: { temperature: -1 } }),
      code: 'invalid_config',
      message: /option "inferenceConfig\.temperature"/,
    },
    {
      name: 'bedrockConverse with a snake_case inferenceConfig key',
      call: () =>
        bedrockConverse({ region: 'us-east-1', model: MODEL, inferenceConfig: { max_tokens: 100 } as never }),
      code: 'invalid_config',
      message: /option "inferenceConfig": Unrecognized key: "max_tokens"/,
    },
    {
      name: 'bedrockConverse with an unknown option (modelId)',
      call: () => bedrockConverse({ region: 'us-east-1', model: MODEL, modelId: MODEL } as never),
      code: 'invalid_config',
      message: /^bedrockConverse: Unrecognized key: "modelId"/,
    },
  ]);
});

describe('bad input: scriptedRuntime options', () => {
  syncCases([
    {
      name: 'scriptedRuntime with a script that is a string',
      call: () => scriptedRuntime('Hi.' as never),
      code: 'invalid_config',
      message: /^scriptedRuntime: the script must be an array of steps or a function/,
    },
    {
      name: 'scriptedRuntime with an empty id',
      call: () => scriptedRuntime(['Hi.'], { id: '' }),
      code: 'invalid_config',
      message: /^scriptedRuntime: option "id"/,
    },
    {
      name: 'scriptedRuntime with an unknown option (name)',
      call: () => scriptedRuntime(['Hi.'], { name: 'x' } as never),
      code: 'invalid_config',
      message: /^scriptedRuntime: Unrecognized key: "name"/,
    },
  ]);
});

describe('bad input: failover options', () => {
  const one = scriptedRuntime(['a'], { id: 'one' });
  syncCases([
    {
      name: 'failover of no runtimes',
      call: () => failover([]),
      code: 'invalid_config',
      message: /^failover\(runtimes\): needs at least one runtime/,
    },
    {
      name: 'failover of a runtime instead of a list',
      call: () => failover(one as unknown as Runtime[]),
      code: 'invalid_config',
      message: /^failover\(runtimes\): .*expected array/,
    },
    {
      name: 'failover with a member that is not a runtime',
      call: () => failover([one, { id: 'x' } as unknown as Runtime]),
      code: 'invalid_config',
      message: /^failover\(runtimes\): option "1": must be a runtime/,
    },
    {
      name: 'failover listing the same runtime twice',
      call: () => failover([one, one]),
      code: 'invalid_config',
      message: /two runtimes have the same id; list each endpoint once/,
    },
    {
      name: 'failover with a negative cooldownMs',
      call: () => failover([one], { cooldownMs: -1 }),
      code: 'invalid_config',
      message: /^failover: option "cooldownMs"/,
    },
    {
      name: 'failover with failureThreshold 0',
      call: () => failover([one], { failureThreshold: 0 }),
      code: 'invalid_config',
      message: /^failover: option "failureThreshold": .*>=1/,
    },
    {
      name: 'failover with an unknown option (retries)',
      call: () => failover([one], { retries: 2 } as never),
      code: 'invalid_config',
      message: /^failover: Unrecognized key: "retries"/,
    },
  ]);
});

describe('bad input: startEmulator options', () => {
  syncCases([
    {
      name: 'startEmulator with a negative port',
      call: () => startEmulator({ port: -1 }),
      code: 'invalid_config',
      message: /^port: .*>=0 \(emulator options: port, host/,
    },
    {
      name: 'startEmulator with a port above 65535',
      call: () => startEmulator({ port: 70_000 }),
      code: 'invalid_config',
      message: /^port: .*<=65535/,
    },
    {
      name: 'startEmulator with an empty host',
      call: () => startEmulator({ host: '' }),
      code: 'invalid_config',
      message: /^host: /,
    },
    {
      name: 'startEmulator with a fault on an unknown route',
      call: () => startEmulator({ faults: [{ route: 'embeddings' as never, status: 500 }] }),
      code: 'invalid_config',
      message: /^faults\[0\]\.route: .*"chat"\|"responses"/,
    },
    {
      name: 'startEmulator with a fault that does nothing',
      call: () => startEmulator({ faults: [{ route: 'chat' }] }),
      code: 'invalid_config',
      message: /faults\[0\].*needs at least one of status, latencyMs, cutAfterChunks or dropStored/,
    },
    {
      name: 'startEmulator with a respond hook that is not a function',
      call: () => startEmulator({ respond: 'hello' as never }),
      code: 'invalid_config',
      message: /^respond: expected a function/,
    },
    {
      name: 'startEmulator with expireAfterMs 0',
      call: () => startEmulator({ expireAfterMs: 0 }),
      code: 'invalid_config',
      message: /^expireAfterMs: .*>=1/,
    },
    {
      name: 'startEmulator with an unknown option (bind)',
      call: () => startEmulator({ bind: '0.0.0.0' } as never),
      code: 'invalid_config',
      message: /Unrecognized key: "bind" \(emulator options: port, host, respond, faults, expireAfterMs\)/,
    },
  ]);
});

describe('bad input: store factories', () => {
  syncCases([
    {
      name: 'sqliteStore with neither path nor database',
      call: () => sqliteStore({}),
      code: 'invalid_config',
      message: /^sqliteStore: option "path": give exactly one of `path` .* or `database`/,
    },
    {
      name: 'sqliteStore with both path and database',
      call: () =>
        sqliteStore({ path: ':memory:', database: { prepare() {}, exec() {}, close() {} } as never }),
      code: 'invalid_config',
      message: /^sqliteStore: option "path": give exactly one of/,
    },
    {
      name: 'sqliteStore with an empty path',
      call: () => sqliteStore({ path: '' }),
      code: 'invalid_config',
      message: /^sqliteStore: option "path": must be a file path or ":memory:"/,
    },
    {
      name: 'sqliteStore with an unknown driver',
      call: () => sqliteStore({ path: ':memory:', driver: 'mysql' as never }),
      code: 'invalid_config',
      message: /^sqliteStore: option "driver": .*"better-sqlite3"\|"node:sqlite"/,
    },
    {
      name: 'sqliteStore with an unknown option (file)',
      call: () => sqliteStore({ file: 'x.db' } as never),
      code: 'invalid_config',
      message: /^sqliteStore: Unrecognized key: "file"/,
    },
    {
      name: 'redisStore with an http:// url',
      call: () => redisStore({ url: 'http://localhost:6379' }),
      code: 'invalid_config',
      message: /^redisStore: option "url": must start with redis:\/\/ or rediss:\/\//,
    },
    {
      name: 'redisStore with neither url nor client',
      call: () => redisStore({}),
      code: 'invalid_config',
      message: /^redisStore: option "url": give exactly one of `url` .* or `client`/,
    },
    {
      name: 'redisStore with a client that is not ioredis',
      call: () => redisStore({ client: { get() {} } as never }),
      code: 'invalid_config',
      message: /^redisStore: option "client": must be an ioredis client/,
    },
    {
      name: 'redisStore with fractional ttlSeconds',
      call: () => redisStore({ url: 'redis://localhost:6379', ttlSeconds: 1.5 }),
      code: 'invalid_config',
      message: /^redisStore: option "ttlSeconds": must be a whole number of seconds/,
    },
    {
      name: 'redisStore with negative ttlSeconds',
      call: () => redisStore({ url: 'redis://localhost:6379', ttlSeconds: -1 }),
      code: 'invalid_config',
      message: /^redisStore: option "ttlSeconds"/,
    },
    {
      name: 'redisStore with an unknown option (prefix)',
      call: () => redisStore({ url: 'redis://localhost:6379', prefix: 'app:' } as never),
      code: 'invalid_config',
      message: /^redisStore: Unrecognized key: "prefix"/,
    },
    {
      name: 'postgresStore with a mysql:// connection string',
      call: () => postgresStore({ connectionString: 'mysql://localhost/db' }),
      code: 'invalid_config',
      message: /^postgresStore: option "connectionString": must start with postgres:\/\/ or postgresql:\/\//,
    },
    {
      name: 'postgresStore with neither connectionString nor pool',
      call: () => postgresStore({}),
      code: 'invalid_config',
      message: /^postgresStore: option "connectionString": give exactly one of/,
    },
    {
      name: 'postgresStore with a pool that is not a pg Pool',
      call: () => postgresStore({ pool: { query() {} } as never }),
      code: 'invalid_config',
      message: /^postgresStore: option "pool": must be a pg Pool/,
    },
    {
      name: 'postgresStore with a schema name over 63 characters',
      call: () => postgresStore({ connectionString: 'postgres://localhost/db', schema: 's'.repeat(64) }),
      code: 'invalid_config',
      message: /^postgresStore: option "schema": must be at most 63 characters/,
    },
    {
      name: 'postgresStore with an unknown option (ssl)',
      call: () => postgresStore({ connectionString: 'postgres://localhost/db', ssl: true } as never),
      code: 'invalid_config',
      message: /^postgresStore: Unrecognized key: "ssl"/,
    },
  ]);
});

// ---------------------------------------------------------------------------------------------
// Tool definitions: tool() and createAgent({ tools }) refuse them eagerly.

describe('bad input: tool definitions', () => {
  const input = z.object({ city: z.string() });
  const execute = () => 21;
  syncCases([
    {
      name: 'tool with a space in its name',
      call: () => tool({ name: 'get weather', input, execute }),
      code: 'invalid_config',
      message: /^tool\("get weather"\): option "name": must be 1-64 characters from \[a-zA-Z0-9_-\]/,
    },
    {
      name: 'tool with a dotted name',
      call: () => tool({ name: 'weather.get', input, execute }),
      code: 'invalid_config',
      message: /option "name": must be 1-64 characters/,
    },
    {
      name: 'tool with an empty name',
      call: () => tool({ name: '', input, execute }),
      code: 'invalid_config',
      message: /option "name": must be 1-64 characters/,
    },
    {
      name: 'tool with a 65-character name',
      call: () => tool({ name: 'a'.repeat(65), input, execute }),
      code: 'invalid_config',
      message: /option "name": must be 1-64 characters/,
    },
    {
      name: 'tool with a JSON schema instead of a zod schema',
      call: () => tool({ name: 'get_weather', input: { type: 'object', properties: {} } as never, execute }),
      code: 'invalid_config',
      message: /option "input": must be a zod schema \(z\.object\(\{\.\.\.\}\)\) from zod 4/,
    },
    {
      name: 'tool with a schema from another library (no zod 4 internals)',
      call: () =>
        tool({ name: 'get_weather', input: { parse() {}, safeParse() {}, _def: {} } as never, execute }),
      code: 'invalid_config',
      message: /option "input": must be a zod schema/,
    },
    {
      name: 'tool with a string input schema',
      call: () => tool({ name: 'get_weather', input: z.string(), execute }),
      code: 'invalid_config',
      message: /option "input" must be an object schema \(z\.object\(\{\.\.\.\}\)\)/,
    },
    {
      name: 'tool with an array input schema',
      call: () => tool({ name: 'get_weather', input: z.array(z.string()), execute }),
      code: 'invalid_config',
      message: /option "input" must be an object schema/,
    },
    {
      name: 'tool with an input that JSON schema cannot express',
      call: () => tool({ name: 'count', input: z.object({ n: z.bigint() }), execute }),
      code: 'invalid_config',
      message: /option "input" cannot be expressed as JSON schema .*Use plain zod types/,
    },
    {
      name: 'tool without execute',
      call: () => tool({ name: 'get_weather', input } as never),
      code: 'invalid_config',
      message: /option "execute": must be a function \(input, context\) => output/,
    },
    {
      name: 'tool with execute that is not a function',
      call: () => tool({ name: 'get_weather', input, execute: 'fetch' as never }),
      code: 'invalid_config',
      message: /option "execute": must be a function/,
    },
    {
      name: 'tool with a numeric description',
      call: () => tool({ name: 'get_weather', description: 7 as never, input, execute }),
      code: 'invalid_config',
      message: /option "description": .*expected string/,
    },
    {
      name: 'createAgent with two tools of the same name',
      call: () =>
        createAgent({
          runtime: answerHi(),
          store,
          tools: [validTool, tool({ name: 'get_weather', input, execute })],
        }),
      code: 'invalid_config',
      message: /option "tools" has two tools named "get_weather"; tool names must be unique/,
    },
    {
      name: 'createAgent with a tool not made by tool()',
      call: () =>
        createAgent({
          runtime: answerHi(),
          store,
          tools: [{ name: 'get_weather', input, execute } as never],
        }),
      code: 'invalid_config',
      message: /option "tools\.0" must be made with tool\(\{\.\.\.\}\)/,
    },
  ]);
});

// ---------------------------------------------------------------------------------------------
// Turn calls: run() rejects and stream() errors, never a synchronous throw, nothing committed.

interface TurnCase {
  name: string;
  input?: unknown;
  options: unknown;
  code: CloudhopErrorCode;
  message: RegExp;
  /** The agent's namespace, when the case is about one. */
  namespace?: string;
}

function turnCases(cases: TurnCase[]): void {
  for (const { name, input = 'Hello', options, code, message, namespace } of cases) {
    const agent = () =>
      createAgent({ runtime: answerHi(), store, ...(namespace === undefined ? {} : { namespace }) });

    it(`run: ${name}`, async () => {
      let pending: Promise<unknown> | undefined;
      expect(() => {
        pending = agent().run(input as string, options as { session: string });
      }).not.toThrow();
      expectCloudhopError(await rejection(pending!), code, message);
      await expectStoreUntouched();
    });

    it(`stream: ${name}`, async () => {
      let stream: ReturnType<ReturnType<typeof agent>['stream']> | undefined;
      expect(() => {
        stream = agent().stream(input as string, options as { session: string });
      }).not.toThrow();
      const { thrown, result, events } = await streamFailure(stream!);
      expectCloudhopError(thrown, code, message);
      expect(result).toBe(thrown);
      expect(events).toEqual([]);
      await expectStoreUntouched();
    });
  }
}

describe('bad input: session ids', () => {
  const SESSION_RULE = /is not valid: use 1-256 characters from \[A-Za-z0-9\._:@-\]/;
  turnCases([
    {
      name: 'an empty session id',
      options: { session: '' },
      code: 'invalid_session_id',
      message: SESSION_RULE,
    },
    {
      name: 'a 257-character session id',
      options: { session: 's'.repeat(257) },
      code: 'invalid_session_id',
      message: SESSION_RULE,
    },
    {
      name: 'a session id with a space',
      options: { session: 'user 42' },
      code: 'invalid_session_id',
      message: /Session id "user 42" is not valid: use 1-256 characters/,
    },
    {
      name: 'a session id with a path separator',
      options: { session: '../seeded' },
      code: 'invalid_session_id',
      message: SESSION_RULE,
    },
    {
      name: 'a session id with non-ASCII characters',
      options: { session: 'usér-42' },
      code: 'invalid_session_id',
      message: SESSION_RULE,
    },
    {
      name: 'a session id with a newline',
      options: { session: 'seeded\n' },
      code: 'invalid_session_id',
      message: SESSION_RULE,
    },
    {
      name: 'a session id with SQL wildcards',
      options: { session: 'seed%' },
      code: 'invalid_session_id',
      message: SESSION_RULE,
    },
    {
      name: 'a numeric session id',
      options: { session: 42 },
      code: 'invalid_session_id',
      message: /Session id 42 is not valid/,
    },
    {
      name: 'no session id',
      options: {},
      code: 'invalid_session_id',
      message: /Session id undefined is not valid/,
    },
    {
      name: 'no options at all',
      options: undefined,
      code: 'invalid_session_id',
      message: /pass options with a session id, e\.g\. \{ session: "user-42" \}/,
    },
    {
      name: 'a bad session id on an agent with a namespace',
      namespace: 'tenant-a',
      options: { session: 'tenant-a/seeded' },
      code: 'invalid_session_id',
      message: SESSION_RULE,
    },
  ]);

  it('agent.session() refuses a bad id before touching the store', async () => {
    const agent = createAgent({ runtime: answerHi(), store, namespace: 'tenant-a' });
    expectCloudhopError(
      thrownSynchronously(() => agent.session('bad id')),
      'invalid_session_id',
      /Session id "bad id" is not valid/,
    );
    await expectStoreUntouched();
  });

  it('importSession refuses a bad target session id', async () => {
    const file = await exportSession(store, 'seeded');
    const error = await rejection(importSession(store, file, { sessionId: 'bad id' }));
    expectCloudhopError(error, 'invalid_session_id', /sessionId "bad id" must be 1-256 characters/);
    await expectStoreUntouched();
  });

  it('importSession refuses a bad target namespace', async () => {
    const file = await exportSession(store, 'seeded');
    const error = await rejection(importSession(store, file, { namespace: 'tenant/a', sessionId: 'copy' }));
    expectCloudhopError(error, 'invalid_session_id', /namespace "tenant\/a" must be 1-256 characters/);
    await expectStoreUntouched();
  });

  it('exportSession of a session that is not there names the id and namespace', async () => {
    const error = await rejection(exportSession(store, 'seeded', { namespace: 'tenant-a' }));
    expectCloudhopError(error, 'invalid_session_id', /no session "seeded" in namespace "tenant-a"/);
    await expectStoreUntouched();
  });
});

describe('bad input: run and stream inputs', () => {
  const INPUT_RULE = /input must be a non-empty string or a non-empty array of parts/;
  turnCases([
    {
      name: 'an empty input array',
      input: [],
      options: { session: 's' },
      code: 'invalid_config',
      message: INPUT_RULE,
    },
    {
      name: 'an empty string',
      input: '',
      options: { session: 's' },
      code: 'invalid_config',
      message: INPUT_RULE,
    },
    {
      name: 'a misspelt run option (timeoutMS)',
      input: 'hello',
      options: { session: 's', timeoutMS: 10 },
      code: 'invalid_config',
      message: /unknown option "timeoutMS"/,
    },
    {
      name: 'a numeric input',
      input: 42,
      options: { session: 's' },
      code: 'invalid_config',
      message: INPUT_RULE,
    },
    {
      name: 'a null input',
      input: null,
      options: { session: 's' },
      code: 'invalid_config',
      message: INPUT_RULE,
    },
    {
      name: 'a text part without text',
      input: [{ type: 'text' }],
      options: { session: 's' },
      code: 'invalid_config',
      message: INPUT_RULE,
    },
    {
      name: 'a part of an unknown type',
      input: [{ type: 'audio', data: 'AAAA' }],
      options: { session: 's' },
      code: 'invalid_config',
      message: INPUT_RULE,
    },
    {
      name: 'an image part without data or url',
      input: [{ type: 'image', mediaType: 'image/png' }],
      options: { session: 's' },
      code: 'invalid_config',
      message: /\{ type: "image", mediaType, data \| url \}/,
    },
    {
      name: 'a text part that smuggles a role',
      input: [{ type: 'text', text: 'hi', role: 'system' }],
      options: { session: 's' },
      code: 'invalid_config',
      message: INPUT_RULE,
    },
    {
      name: 'an output that is a JSON schema, not zod',
      options: { session: 's', output: { type: 'object', properties: {} } },
      code: 'invalid_config',
      message: /option "output" must be a zod 4 schema, e\.g\. z\.object/,
    },
    {
      name: 'an output schema JSON schema cannot express',
      options: { session: 's', output: z.object({ n: z.bigint() }) },
      code: 'invalid_config',
      message: /option "output" cannot be expressed as JSON schema/,
    },
    {
      name: 'a negative timeoutMs',
      options: { session: 's', timeoutMs: -5 },
      code: 'invalid_config',
      message: /option "timeoutMs" must be a positive number of milliseconds/,
    },
    {
      name: 'timeoutMs as a string',
      options: { session: 's', timeoutMs: '5s' },
      code: 'invalid_config',
      message: /option "timeoutMs" must be a positive number/,
    },
    {
      name: 'timeoutMs NaN',
      options: { session: 's', timeoutMs: Number.NaN },
      code: 'invalid_config',
      message: /option "timeoutMs" must be a positive number/,
    },
    {
      name: 'timeoutMs Infinity (a timer Node would fire at once)',
      options: { session: 's', timeoutMs: Number.POSITIVE_INFINITY },
      code: 'invalid_config',
      message: /option "timeoutMs" .*at most 86400000 .*leave it out for no turn timeout/,
    },
    {
      name: 'timeoutMs beyond what a timer can hold',
      options: { session: 's', timeoutMs: 2 ** 40 },
      code: 'invalid_config',
      message: /option "timeoutMs" .*at most 86400000/,
    },
    {
      name: 'an empty idempotencyKey',
      options: { session: 's', idempotencyKey: '' },
      code: 'invalid_config',
      message: /option "idempotencyKey" must be 1-256 characters from \[A-Za-z0-9\._:@-\]/,
    },
    {
      name: 'an idempotencyKey with a space',
      options: { session: 's', idempotencyKey: 'turn 1' },
      code: 'invalid_config',
      message: /option "idempotencyKey" must be 1-256 characters/,
    },
    {
      name: 'a numeric idempotencyKey',
      options: { session: 's', idempotencyKey: 7 },
      code: 'invalid_config',
      message: /option "idempotencyKey"/,
    },
    {
      name: 'a signal that is not an AbortSignal',
      options: { session: 's', signal: { aborted: false } },
      code: 'invalid_config',
      message: /option "signal" must be an AbortSignal/,
    },
    {
      name: 'a signal given as a string',
      options: { session: 's', signal: 'abort' },
      code: 'invalid_config',
      message: /option "signal" must be an AbortSignal/,
    },
  ]);
});

// ---------------------------------------------------------------------------------------------
// Tool outputs: a result that cannot become the model's input goes back to the model as an error
// tool_result naming the problem; the turn goes on and the model's recovery is committed.

describe('bad input: tool outputs', () => {
  interface ToolOutputCase {
    name: string;
    execute: () => unknown;
    /** What the model reads in the error tool_result. */
    output: RegExp;
  }

  const circular: Record<string, unknown> = { name: 'loop' };
  circular.self = circular;
  const TEN_MB = 10 * 1024 * 1024;

  const cases: ToolOutputCase[] = [
    {
      name: 'a BigInt',
      execute: () => ({ total: 10n }),
      output: /^Error: the tool's result cannot be serialized to JSON \(.*BigInt.*\)\. Return plain data/,
    },
    {
      name: 'a circular object',
      execute: () => circular,
      output:
        /^Error: the tool's result cannot be serialized to JSON \(.*circular.*\)\. Return plain data: .*without cycles/is,
    },
    {
      name: 'a function',
      execute: () => () => 'weather',
      output: /^Error: the tool returned a function, which is not JSON\. Return plain data\./,
    },
    {
      name: 'a symbol',
      execute: () => Symbol('sunny'),
      output: /^Error: the tool returned a symbol, which is not JSON/,
    },
    {
      name: 'a 10 MB string',
      execute: () => 'x'.repeat(TEN_MB),
      output: new RegExp(
        `^Error: the tool's result is ${TEN_MB} bytes, over the 1048576-byte limit\\. Return a summary`,
      ),
    },
    {
      name: 'a 10 MB object',
      execute: () => ({ rows: Array.from({ length: 1024 }, () => 'y'.repeat(10 * 1024)) }),
      output: /^Error: the tool's result is \d+ bytes, over the 1048576-byte limit/,
    },
    {
      name: 'an object whose toJSON throws',
      execute: () => ({
        toJSON() {
          throw new Error('lazy value not loaded');
        },
      }),
      output: /^Error: the tool's result cannot be serialized to JSON \(lazy value not loaded\)/,
    },
    {
      name: 'a thrown Error',
      execute: () => {
        throw new Error('weather service returned 502');
      },
      output: /^Error: tool "probe" failed: weather service returned 502$/,
    },
    {
      name: 'a thrown string',
      execute: () => {
        throw 'no forecast';
      },
      output: /^Error: tool "probe" failed: no forecast$/,
    },
  ];

  for (const { name, execute, output } of cases) {
    it(`a tool returning ${name}: the model gets an error tool_result and the turn completes`, async () => {
      const probe = tool({ name: 'probe', input: z.object({ city: z.string() }), execute });
      const runtime = scriptedRuntime([
        { toolCalls: [{ name: 'probe', arguments: { city: 'Paris' }, callId: 'call_probe' }] },
        'The tool failed; I will answer without it.',
      ]);
      const agent = createAgent({ runtime, store, tools: [probe] });
      const stream = agent.stream('Weather in Paris?', { session: 'tools' });
      const events: AgentEvent[] = [];
      for await (const event of stream) events.push(event);
      const result = await stream.result;

      expect(result.text).toBe('The tool failed; I will answer without it.');
      const toolResult = events.find((event) => event.type === 'tool-result');
      expect(toolResult).toMatchObject({
        callId: 'call_probe',
        isError: true,
        output: expect.stringMatching(output),
      });
      // What the model was sent on the next step: the error text as the call's result.
      const sent = runtime.requests[1]!.items.at(-1) as ToolResultItem;
      expect(sent).toMatchObject({ type: 'tool_result', callId: 'call_probe', isError: true });
      expect(sent.output).toMatch(output);
      expect(sent.output.length).toBeLessThan(1024);
      // Committed as one turn: user, tool call, error result, answer.
      const items = await agent.session('tools').items();
      expect(items.map((item) => item.type)).toEqual(['message', 'tool_call', 'tool_result', 'message']);
      expect(items[2]).toMatchObject({ isError: true, output: sent.output });
    });
  }

  it('arguments that are not JSON go back to the model, which can recover', async () => {
    const probe = tool({ name: 'probe', input: z.object({ city: z.string() }), execute: ({ city }) => city });
    const runtime = scriptedRuntime([
      { toolCalls: [{ name: 'probe', arguments: '{"city": Par', callId: 'call_bad' }] },
      'Sorry.',
    ]);
    const agent = createAgent({ runtime, store, tools: [probe] });
    const result = await agent.run('Weather?', { session: 'tools' });
    expect(result.text).toBe('Sorry.');
    expect(runtime.requests[1]!.items.at(-1)).toMatchObject({
      type: 'tool_result',
      isError: true,
      output: 'Error: the arguments for "probe" are not valid JSON. Send a JSON object.',
    });
  });

  it('a call of a tool that does not exist names the tools that do', async () => {
    const probe = tool({ name: 'probe', input: z.object({}), execute: () => 'ok' });
    const runtime = scriptedRuntime([
      { toolCalls: [{ name: 'rm_rf', arguments: {}, callId: 'call_x' }] },
      'Ok.',
    ]);
    const agent = createAgent({ runtime, store, tools: [probe] });
    await agent.run('Clean up', { session: 'tools' });
    expect(runtime.requests[1]!.items.at(-1)).toMatchObject({
      isError: true,
      output: 'Error: there is no tool named "rm_rf". Available tools: probe.',
    });
  });

  it('arguments that do not fit the schema name the field', async () => {
    const probe = tool({ name: 'probe', input: z.object({ city: z.string() }), execute: ({ city }) => city });
    const runtime = scriptedRuntime([
      { toolCalls: [{ name: 'probe', arguments: { city: 7 }, callId: 'c1' }] },
      'Ok.',
    ]);
    const agent = createAgent({ runtime, store, tools: [probe] });
    await agent.run('Weather?', { session: 'tools' });
    expect((runtime.requests[1]!.items.at(-1) as ToolResultItem).output).toMatch(
      /^Error: invalid arguments for "probe": city: .*expected string.*Call it again with arguments that fit its schema/,
    );
  });

  it('a model that keeps sending invalid arguments ends in tool_input_invalid, nothing committed', async () => {
    const probe = tool({ name: 'probe', input: z.object({ city: z.string() }), execute: ({ city }) => city });
    const runtime = scriptedRuntime(() => ({ toolCalls: [{ name: 'probe', arguments: { town: 'Paris' } }] }));
    const agent = createAgent({ runtime, store, tools: [probe], maxSteps: 3 });
    const error = await rejection(agent.run('Weather?', { session: 'tools' }));
    expectCloudhopError(error, 'tool_input_invalid', /sent invalid tool arguments until maxSteps \(3\)/);
    expect(runtime.requests).toHaveLength(3);
    await expectStoreUntouched();
  });
});

// ---------------------------------------------------------------------------------------------
// Structured outputs: an answer that is not JSON or does not fit fails the turn with output_invalid.

describe('bad input: structured outputs', () => {
  const City = z.object({ city: z.string(), address: z.object({ zip: z.string() }).optional() });
  const cases: Array<{ name: string; answer: string; message: RegExp; path?: string }> = [
    {
      name: 'an answer that is not JSON',
      answer: 'The city is Paris.',
      message: /The model's answer is not JSON \(it starts: "The city is Paris\."\)/,
    },
    { name: 'an empty answer', answer: '', message: /The model's answer is not JSON/ },
    {
      name: 'truncated JSON',
      answer: '{"city": "Par',
      message: /The model's answer is not JSON/,
    },
    {
      name: 'JSON of the wrong type at a field',
      answer: '{"city": 75001}',
      message: /does not match the output schema at "city": .*expected string.*Retry, or loosen the schema/,
      path: 'city',
    },
    {
      name: 'JSON missing a required field',
      answer: '{"town": "Paris"}',
      message: /does not match the output schema at "city"/,
      path: 'city',
    },
    {
      name: 'JSON wrong deep inside',
      answer: '{"city": "Paris", "address": {"zip": 75001}}',
      message: /does not match the output schema at "address\.zip"/,
      path: 'address.zip',
    },
    {
      name: 'a JSON array instead of an object',
      answer: '["Paris"]',
      message: /does not match the output schema at "<root>"/,
      path: '',
    },
  ];

  for (const { name, answer, message, path } of cases) {
    it(`run: ${name} → output_invalid, nothing committed`, async () => {
      const agent = createAgent({ runtime: scriptedRuntime([answer]), store });
      const error = await rejection(agent.run('Which city?', { session: 'typed', output: City }));
      const typed = expectCloudhopError(error, 'output_invalid', message);
      if (path !== undefined) expect(typed.path).toBe(path);
      expect(typed.retryable).toBe(false);
      await expectStoreUntouched();
    });
  }

  it('stream: an answer of the wrong shape errors the stream after its text, nothing committed', async () => {
    const agent = createAgent({ runtime: scriptedRuntime(['{"city": 75001}']), store });
    const { thrown, result, events } = await streamFailure(
      agent.stream('Which city?', { session: 'typed', output: City }),
    );
    expectCloudhopError(thrown, 'output_invalid', /at "city"/);
    expect(result).toBe(thrown);
    expect(events.some((event) => event.type === 'turn-finish')).toBe(false);
    await expectStoreUntouched();
  });
});

// ---------------------------------------------------------------------------------------------
// Transcripts: importSession validates the whole file before writing anything.

describe('bad input: transcripts', () => {
  const validFile = () => ({
    format: 'cloudhop.transcript/v1',
    namespace: 'tenant-a',
    sessionId: 'imported',
    exportedAt: '2025-01-01T00:00:00.000Z',
    items: [
      {
        type: 'message',
        id: '01USER',
        role: 'user',
        content: [{ type: 'text', text: 'Weather?' }],
        createdAt: '2025-01-01T00:00:00.000Z',
      },
      {
        type: 'tool_call',
        id: '01CALL',
        callId: 'call_1',
        name: 'get_weather',
        arguments: '{"city":"Paris"}',
        createdAt: '2025-01-01T00:00:01.000Z',
      },
      {
        type: 'tool_result',
        id: '01RESULT',
        callId: 'call_1',
        output: '21',
        createdAt: '2025-01-01T00:00:02.000Z',
      },
    ] as Array<Record<string, unknown>>,
    bindings: {} as Record<string, unknown>,
  });

  function tampered(change: (file: ReturnType<typeof validFile>) => void) {
    const file = validFile();
    change(file);
    return file;
  }

  function nested(depth: number): unknown {
    let value: unknown = 'bottom';
    for (let level = 0; level < depth; level++) value = { next: value };
    return value;
  }

  const cases: Array<{ name: string; file: () => unknown; message: RegExp; path?: string }> = [
    {
      name: 'a file of another format version',
      file: () => tampered((f) => Object.assign(f, { format: 'cloudhop.transcript/v3' })),
      message:
        /The format must be "cloudhop\.transcript\/v1" or "cloudhop\.transcript\/v2" \(at "format"\)\. Export the session again/,
      path: 'format',
    },
    {
      name: 'a file without a format',
      file: () => tampered((f) => Reflect.deleteProperty(f, 'format')),
      message: /The format must be "cloudhop\.transcript\/v1"/,
      path: 'format',
    },
    {
      name: 'truncated JSON text',
      file: () => JSON.stringify(validFile()).slice(0, 120),
      message: /The transcript is not valid JSON \(.*\) \(at "<root>"\)/,
      path: '',
    },
    {
      name: 'JSON text that is not an object',
      file: () => '"cloudhop.transcript/v1"',
      message: /The transcript field is invalid/,
    },
    { name: 'a number', file: () => 42, message: /The transcript field is invalid/ },
    { name: 'null', file: () => null, message: /The transcript field is invalid/ },
    {
      name: 'items that are not a list',
      file: () => tampered((f) => Object.assign(f, { items: { 0: f.items[0] } })),
      message: /\(at "items"\)/,
      path: 'items',
    },
    {
      name: 'an item of an unknown type',
      file: () => tampered((f) => Object.assign(f.items[0]!, { type: 'function' })),
      message: /\(at "items\.0\.type"\)/,
      path: 'items.0.type',
    },
    {
      name: 'a message with a made-up role',
      file: () => tampered((f) => Object.assign(f.items[0]!, { role: 'admin' })),
      message: /\(at "items\.0\.role"\)/,
      path: 'items.0.role',
    },
    {
      name: 'a text part whose text is a number',
      file: () => tampered((f) => Object.assign(f.items[0]!, { content: [{ type: 'text', text: 42 }] })),
      message: /\(at "items\.0\.content\.0"\)/,
      path: 'items.0.content.0',
    },
    {
      name: 'an item with an extra field',
      file: () => tampered((f) => Object.assign(f.items[0]!, { trusted: true })),
      message: /Unrecognized key: "trusted" \(at "items\.0"\)/,
      path: 'items.0',
    },
    {
      name: 'an item with an empty id',
      file: () => tampered((f) => Object.assign(f.items[0]!, { id: '' })),
      message: /\(at "items\.0\.id"\)/,
      path: 'items.0.id',
    },
    {
      name: 'a tool call without callId',
      file: () => tampered((f) => Reflect.deleteProperty(f.items[1]!, 'callId')),
      message: /\(at "items\.1\.callId"\)/,
      path: 'items.1.callId',
    },
    {
      name: 'tool call arguments as an object instead of JSON text',
      file: () => tampered((f) => Object.assign(f.items[1]!, { arguments: { city: 'Paris' } })),
      message: /\(at "items\.1\.arguments"\)/,
      path: 'items.1.arguments',
    },
    {
      name: 'a tool result whose output is an object',
      file: () => tampered((f) => Object.assign(f.items[2]!, { output: { tempC: 21 } })),
      message: /\(at "items\.2\.output"\)/,
      path: 'items.2.output',
    },
    {
      name: 'a tool result with isError as a string',
      file: () => tampered((f) => Object.assign(f.items[2]!, { isError: 'yes' })),
      message: /\(at "items\.2\.isError"\)/,
      path: 'items.2.isError',
    },
    {
      name: 'a namespace with a slash',
      file: () => tampered((f) => Object.assign(f, { namespace: 'tenant/a' })),
      message: /\(at "namespace"\)/,
      path: 'namespace',
    },
    {
      name: 'a 257-character session id',
      file: () => tampered((f) => Object.assign(f, { sessionId: 's'.repeat(257) })),
      message: /\(at "sessionId"\)/,
      path: 'sessionId',
    },
    {
      name: 'an unknown top-level field',
      file: () => tampered((f) => Object.assign(f, { owner: 'admin' })),
      message: /Unrecognized key: "owner"/,
    },
    {
      name: 'a binding synced beyond the items in the file',
      file: () =>
        tampered((f) => {
          f.bindings['openai-responses:api.openai.com/v1/gpt-5'] = {
            runtimeId: 'openai-responses:api.openai.com/v1/gpt-5',
            remote: { responseId: 'resp_1' },
            syncedVersion: 9,
          };
        }),
      message:
        /is beyond the 3 items in the file \(at "bindings\.openai-responses:api\.openai\.com\/v1\/gpt-5\.syncedVersion"\)/,
      path: 'bindings.openai-responses:api.openai.com/v1/gpt-5.syncedVersion',
    },
    {
      name: 'a binding filed under another runtime id',
      file: () =>
        tampered((f) => {
          f.bindings.frontier = { runtimeId: 'openai-responses', remote: {}, syncedVersion: 1 };
        }),
      message: /must equal its key \(at "bindings\.frontier\.runtimeId"\)/,
      path: 'bindings.frontier.runtimeId',
    },
    {
      name: 'a binding with an unknown remote field',
      file: () =>
        tampered((f) => {
          f.bindings.frontier = { runtimeId: 'frontier', remote: { token: 'x' }, syncedVersion: 1 };
        }),
      message: /\(at "bindings\.frontier\.remote"\)/,
      path: 'bindings.frontier.remote',
    },
    {
      name: 'reasoning data nested 65 levels deep',
      file: () =>
        tampered((f) => {
          f.items.push({
            type: 'reasoning',
            id: '01REASONING',
            provider: { family: 'openai', data: nested(65) },
            createdAt: '2025-01-01T00:00:03.000Z',
          });
        }),
      message: /The transcript nests deeper than 64 levels/,
      path: '',
    },
    {
      name: 'JSON text nested 100,000 levels deep',
      file: () => `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`,
      message: /The transcript nests deeper than 64 levels/,
      path: '',
    },
    {
      name: 'JSON text over 64 MB',
      file: () => `{"format":"cloudhop.transcript/v1","pad":"${' '.repeat(64 * 1024 * 1024)}"}`,
      message: /The transcript is \d+ characters long, over the 67108864-byte import limit/,
      path: '',
    },
  ];

  for (const { name, file, message, path } of cases) {
    it(`importSession of ${name} → transcript_invalid, nothing written`, async () => {
      const error = await rejection(importSession(store, file()));
      const typed = expectCloudhopError(error, 'transcript_invalid', message);
      if (path !== undefined) expect(typed.path).toBe(path);
      await expectStoreUntouched();
    });
  }

  it('the valid file these cases tamper with does import', async () => {
    const other = memoryStore();
    expect(await importSession(other, validFile())).toEqual({ namespace: 'tenant-a', sessionId: 'imported' });
    expect((await other.load({ namespace: 'tenant-a', sessionId: 'imported' }))?.version).toBe(3);
  });

  it('importSession over an existing session → store_conflict, the session stays as it was', async () => {
    const file = tampered((f) => Object.assign(f, { namespace: 'default', sessionId: 'seeded' }));
    const error = await rejection(importSession(store, file));
    expectCloudhopError(
      error,
      'store_conflict',
      /session "seeded" \(namespace "default"\) is at version 2, not the expected 0/,
    );
    await expectStoreUntouched();
  });
});

// ---------------------------------------------------------------------------------------------
// Malformed provider responses: a typed error, no partial turn in the store.

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const AZURE_CHAT_URL = `${AZURE}/openai/deployments/gpt-4o/chat/completions`;
const OPENAI_CHAT_URL = 'https://api.openai.com/v1/chat/completions';
const OPENAI_RESPONSES_URL = 'https://api.openai.com/v1/responses';
const BEDROCK_ENDPOINT = 'http://bedrock.test:8080';
const BEDROCK_MODEL = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
const BEDROCK_URL = `${BEDROCK_ENDPOINT}/model/${encodeURIComponent(BEDROCK_MODEL)}`;

function jsonText(text: string): Response {
  return new HttpResponse(text, { headers: { 'content-type': 'application/json' } });
}

/** A streamed body (a string body would leave msw hanging when the client cancels it mid-parse). */
function streamed(contentType: string, chunks: Array<string | Uint8Array>): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks)
        controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
      controller.close();
    },
  });
  return new HttpResponse(body, { headers: { 'content-type': contentType } });
}

const sseText = (text: string) => streamed('text/event-stream', text === '' ? [] : [text]);
const eventStream = (bytes: Uint8Array[]) => streamed('application/vnd.amazon.eventstream', bytes);

interface ProviderCase {
  name: string;
  stream: boolean;
  reply: () => Response;
  code: 'provider_error' | 'provider_unavailable';
  message: RegExp;
}

interface ProviderUnderTest {
  label: string;
  runtime: () => Runtime;
  url: (stream: boolean) => string;
  cases: ProviderCase[];
}

const usage = '"usage":{"inputTokens":1,"outputTokens":1,"totalTokens":2}';

function chatCases(service: string): ProviderCase[] {
  return [
    {
      name: 'an invalid JSON body',
      stream: false,
      reply: () => jsonText('{"id": "chatcmpl-1", "choices": [{'),
      code: 'provider_error',
      message: new RegExp(`^${service} sent a response or stream chunk that is not JSON`),
    },
    {
      name: 'a body without choices',
      stream: false,
      reply: () => jsonText('{"id":"chatcmpl-1","object":"chat.completion"}'),
      code: 'provider_error',
      message: new RegExp(
        `^${service} sent a chat completion that cannot be read: it has no \`choices\`. Check that the endpoint speaks the chat completions API`,
      ),
    },
    {
      name: 'choices that are not a list',
      stream: false,
      reply: () => jsonText('{"id":"chatcmpl-1","choices":"stop"}'),
      code: 'provider_error',
      message: /chat completion that cannot be read: it has no `choices`/,
    },
    {
      name: 'a choice whose message is a number',
      stream: false,
      reply: () => jsonText('{"id":"chatcmpl-1","choices":[{"index":0,"message":5,"finish_reason":"stop"}]}'),
      code: 'provider_error',
      message: /cannot be read: `choices\[0\]\.message` is not an object/,
    },
    {
      name: 'message content that is a number',
      stream: false,
      reply: () =>
        jsonText(
          '{"id":"chatcmpl-1","choices":[{"index":0,"message":{"role":"assistant","content":42},"finish_reason":"stop"}]}',
        ),
      code: 'provider_error',
      message: /cannot be read: `message\.content` is not a string/,
    },
    {
      name: 'tool calls that are not a list',
      stream: false,
      reply: () =>
        jsonText(
          '{"id":"chatcmpl-1","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":"get_weather"},"finish_reason":"tool_calls"}]}',
        ),
      code: 'provider_error',
      message: /cannot be read: `message\.tool_calls` is not a list/,
    },
    {
      name: 'a tool call without a function name',
      stream: false,
      reply: () =>
        jsonText(
          '{"id":"chatcmpl-1","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function"}]},"finish_reason":"tool_calls"}]}',
        ),
      code: 'provider_error',
      message: /cannot be read: `message\.tool_calls` holds a call without a function name/,
    },
    {
      name: 'an HTML page with status 200',
      stream: false,
      reply: () =>
        new HttpResponse('<html><body>Gateway login</body></html>', {
          headers: { 'content-type': 'text/html' },
        }),
      code: 'provider_error',
      message: /cannot be read: the body is not a JSON object/,
    },
    {
      name: 'an empty stream',
      stream: true,
      reply: () => sseText(''),
      code: 'provider_unavailable',
      message: new RegExp(`^${service} ended the stream before the answer was complete`),
    },
    {
      name: 'SSE garbage',
      stream: true,
      reply: () => sseText('data: {garbage\n\n'),
      code: 'provider_error',
      message: new RegExp(`^${service} sent a response or stream chunk that is not JSON`),
    },
    {
      name: 'a stream of chunks with choices of the wrong type and no finish',
      stream: true,
      reply: () => sseText('data: {"id":"c","choices":"x"}\n\ndata: [DONE]\n\n'),
      code: 'provider_unavailable',
      message: /ended the stream before the answer was complete/,
    },
  ];
}

const providers: ProviderUnderTest[] = [
  {
    label: 'azureChat',
    runtime: () => azureChat({ endpoint: AZURE, deployment: 'gpt-4o', apiKey: 'azure-key-for-bad-input' }),
    url: () => AZURE_CHAT_URL,
    cases: chatCases('Azure OpenAI'),
  },
  {
    label: 'openaiChat',
    runtime: () => openaiChat({ model: 'gpt-4o', apiKey: 'sk-bad-input-key' }),
    url: () => OPENAI_CHAT_URL,
    cases: chatCases('OpenAI'),
  },
  {
    label: 'openaiResponses',
    runtime: () => openaiResponses({ model: 'gpt-5', apiKey: 'sk-bad-input-key' }),
    url: () => OPENAI_RESPONSES_URL,
    cases: [
      {
        name: 'an invalid JSON body',
        stream: false,
        reply: () => jsonText('{"id":"resp_1","output":['),
        code: 'provider_error',
        message: /^The Responses endpoint sent a body or stream event that is not JSON/,
      },
      {
        name: 'a response with no output',
        stream: false,
        reply: () => jsonText('{"id":"resp_1","object":"response","status":"completed"}'),
        code: 'provider_error',
        message:
          /^The Responses endpoint sent a response that cannot be read .*Check that baseURL points at a Responses API server/,
      },
      {
        name: 'a response without object and without output',
        stream: false,
        reply: () => jsonText('{"id":"resp_1","status":"completed"}'),
        code: 'provider_error',
        message: /^The Responses endpoint sent a response that has no `output`/,
      },
      {
        name: 'an output that is not a list',
        stream: false,
        reply: () => jsonText('{"id":"resp_1","status":"completed","output":"Hello"}'),
        code: 'provider_error',
        message: /^The Responses endpoint sent a response that has an `output` that is not a list/,
      },
      {
        name: 'an empty stream',
        stream: true,
        reply: () => sseText(''),
        code: 'provider_unavailable',
        message: /^The response stream ended before response\.completed/,
      },
      {
        name: 'SSE garbage',
        stream: true,
        reply: () => sseText('event: response.created\ndata: {garbage\n\n'),
        code: 'provider_error',
        message: /^The Responses endpoint sent a body or stream event that is not JSON/,
      },
      {
        name: 'a completed event whose output is not a list',
        stream: true,
        reply: () =>
          sseText(
            'event: response.completed\ndata: {"type":"response.completed","response":{"id":"resp_1","status":"completed","output":"Hello"}}\n\n',
          ),
        code: 'provider_error',
        message:
          /^The Responses endpoint sent a response that (has an `output` that is not a list|cannot be read)/,
      },
    ],
  },
  {
    label: 'bedrockConverse',
    runtime: () =>
      bedrockConverse({
        region: 'us-east-1',
        model: BEDROCK_MODEL,
        endpoint: BEDROCK_ENDPOINT,
        credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'bad-input-secret-access-key' },
      }),
    url: (stream) => `${BEDROCK_URL}/${stream ? 'converse-stream' : 'converse'}`,
    cases: [
      {
        name: 'an invalid JSON body',
        stream: false,
        reply: () => jsonText('{"output": {"message": '),
        code: 'provider_error',
        message: /^The request to Bedrock \(.* in bedrock\.test:8080\) failed \(SyntaxError/,
      },
      {
        name: 'a response with no output',
        stream: false,
        reply: () => jsonText(`{"stopReason":"end_turn",${usage}}`),
        code: 'provider_error',
        message:
          /^Bedrock answered the Converse request for .* without `output\.message\.content`\. Check that the endpoint speaks the Converse API/,
      },
      {
        name: 'content that is not a list',
        stream: false,
        reply: () =>
          jsonText(
            `{"output":{"message":{"role":"assistant","content":"Hello"}},"stopReason":"end_turn",${usage}}`,
          ),
        code: 'provider_error',
        message: /without `output\.message\.content`/,
      },
      {
        name: 'an empty event stream',
        stream: true,
        reply: () => eventStream([]),
        code: 'provider_unavailable',
        message: /^Bedrock ended the ConverseStream for .* before the answer was complete \(no messageStop\)/,
      },
      {
        name: 'bytes that are not event-stream frames',
        stream: true,
        reply: () => eventStream([new TextEncoder().encode('<html>this is not an event stream</html>')]),
        code: 'provider_error',
        message: /^The request to Bedrock \(.*\) failed \(.*(Truncated event message|checksum|prelude)/i,
      },
    ],
  },
];

for (const provider of providers) {
  describe(`bad input: malformed ${provider.label} responses`, () => {
    for (const { name, stream, reply, code, message } of provider.cases) {
      it(`${stream ? 'stream' : 'run'}: ${name} → ${code}, session unchanged`, async () => {
        server.use(http.post(provider.url(stream), () => reply()));
        const runtime = provider.runtime();
        const agent = createAgent({ runtime, store, retry: { maxRetries: 0 } });
        const error = stream
          ? (await streamFailure(agent.stream('Hello', { session: 'seeded' }))).thrown
          : await rejection(agent.run('Hello', { session: 'seeded' }));
        const typed = expectCloudhopError(error, code, message);
        expect(typed.runtimeId).toBe(runtime.id);
        expect(typed.retryable).toBe(code === 'provider_unavailable');
        await expectStoreUntouched();
        await agent.close();
      });
    }
  });
}
