// Planted credentials never leave cloudhop: not in an error (message, String, JSON, util.inspect,
// stack), a stream event, a debug line or an exported transcript — whatever the error path, and
// even when the vendor's error body echoes the credential back.
import { inspect } from 'node:util';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { delay, HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as z from 'zod/v4';
import { bedrockConverse, frontier } from '../../src/aws.js';
import { azureChat, azureResponses } from '../../src/azure.js';
import {
  type AgentEvent,
  CloudhopError,
  createAgent,
  exportSession,
  memoryStore,
  type Runtime,
  type SessionStore,
  tool,
} from '../../src/index.js';
import { openaiChat, openaiResponses } from '../../src/openai.js';
import { postgresStore } from '../../src/stores/postgres.js';
import { redisStore } from '../../src/stores/redis.js';
import { scriptedRuntime } from '../../src/testing/index.js';
import { vendorJson } from '../helpers/fixtures.js';
import { eventFrame, eventStreamResponse } from '../runtimes/bedrock-converse/helpers.js';
import { closedPort } from '../stores/helpers/services.js';

// ---------------------------------------------------------------------------------------------
// Planted credentials: one per runtime, so a leak points at the runtime that failed to register it.

const SECRETS = {
  azureChatKey: 'azkey-PLANTED-chat-3f9c2a7b1e5d4c8a9b0e',
  azureChatEntraToken: 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.PLANTED-entra-chat.c2lnbmF0dXJl',
  azureResponsesKey: 'azkey-PLANTED-responses-7d1e0c4b9a2f',
  azureResponsesEntraToken: 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.PLANTED-entra-responses.c2ln',
  openaiChatKey: 'sk-proj-PLANTEDchatKEY0123456789abcdefABCDEF',
  openaiGatewayKey: 'gw-PLANTED-gateway-key-5e6f7a8b',
  openaiResponsesKey: 'sk-proj-PLANTEDresponsesKEY0123456789abcdef',
  bedrockApiKey: 'ABSKQmVkcm9ja0FQSUtleS1QTEFOVEVELWJlYXJlcg==',
  frontierToken: 'bedrock-api-key-PLANTED-frontier-token-9a8b7c',
  frontierSecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/PLANTEDfrontierSECRET',
  frontierSessionToken: 'IQoJb3JpZ2luX2VjPLANTEDfrontierSESSIONtoken//////////wEaCXVzLWVhc3Qt',
  converseSecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/PLANTEDconverseSECRET',
  converseSessionToken: 'IQoJb3JpZ2luX2VjPLANTEDconverseSESSIONtoken//////////wEaCXVzLWVhc3Qt',
  ownClientSecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/PLANTEDownCLIENTsecret',
  ownClientSessionToken: 'IQoJb3JpZ2luX2VjPLANTEDownCLIENTsessionTOKEN//////////wEaCXVzLWVhc3Qt',
  toolKey: 'sk-proj-PLANTEDtoolKEY9876543210zyxwvuXYZ',
  storeKey: 'store-PLANTED-password-1a2b3c4d5e',
};
const ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';

/** Signatures and tokens seen on the wire: as secret as the credentials they were made with. */
const wireSecrets = new Set<string>();

function secretsIn(text: string): string[] {
  return [...Object.values(SECRETS), ...wireSecrets].filter((secret) => text.includes(secret));
}

/** Every way an application might print or ship an error. */
function renderings(error: unknown): string[] {
  const asError = error as Error;
  return [
    asError.message,
    String(error),
    JSON.stringify(error),
    inspect(error, { depth: 10 }),
    // What Node prints when a process dies of the error: custom inspectors off, `[cause]` shown.
    inspect(error, { depth: 10, customInspect: false }),
    asError.stack ?? '',
  ];
}

const debugLines: string[] = [];
const debug = (line: string) => debugLines.push(line);

/** What reached the console, the vendor SDKs' own log lines included (one quotes an unparsable chunk). */
const consoleLines: string[] = [];
for (const method of ['error', 'warn', 'info', 'log', 'debug'] as const) {
  vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
    consoleLines.push(args.map((arg) => (typeof arg === 'string' ? arg : inspect(arg))).join(' '));
  });
}

function expectNoSecrets(what: Record<string, unknown>): void {
  const found: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(what)) {
    const texts = Array.isArray(value) ? value.map(String) : [String(value)];
    const leaked = texts.flatMap(secretsIn);
    if (leaked.length > 0) found[name] = [...new Set(leaked)];
  }
  expect(found).toEqual({});
}

// ---------------------------------------------------------------------------------------------
// A vendor double: every route answers according to `mode`, echoing the credentials it received.

type Mode = 'ok' | 401 | 403 | 404 | 429 | 500 | 'content-filter' | 'malformed' | 'hang';

let mode: Mode = 'ok';
/** Called when a request reaches the double, so a test can abort while it is in flight. */
let onRequest: () => void = () => {};
/** What the last request's error body echoed back (to prove each case really carried a secret). */
let lastEcho = '';

/** The credential material of a request, as a careless server would echo it. */
function echoOf(request: Request): string {
  onRequest();
  const parts: string[] = [];
  const authorization = request.headers.get('authorization');
  if (authorization?.startsWith('Bearer ')) {
    // Echo the bare token: a redaction that only knew the "Bearer …" shape would miss it.
    parts.push(authorization.slice('Bearer '.length));
  } else if (authorization) {
    // SigV4: the whole header, signature included, as a proxy that quotes its input would.
    parts.push(authorization);
    const signature = /Signature=([0-9a-f]+)/.exec(authorization)?.[1];
    if (signature) wireSecrets.add(signature);
  }
  for (const header of ['api-key', 'x-amz-security-token', 'x-gateway-key']) {
    const value = request.headers.get(header);
    if (value) parts.push(value);
  }
  return parts.join(' ');
}

function streamedBody(contentType: string, text: string): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text));
      controller.close();
    },
  });
  return new HttpResponse(body, { headers: { 'content-type': contentType } });
}

const contentFilterBody = () =>
  structuredClone(vendorJson('azure-content-filter-error.json').examples[0].body) as {
    error: { message: string };
  };

/** OpenAI-family (chat completions and Responses, OpenAI and Azure) answers. */
async function openaiFamily(request: Request, kind: 'chat' | 'responses'): Promise<Response> {
  const body = (await request.json()) as { stream?: boolean };
  const echo = echoOf(request);
  lastEcho = echo;
  const error = (status: number, fields: Record<string, unknown>, headers: Record<string, string> = {}) =>
    HttpResponse.json(
      { error: { type: 'invalid_request_error', param: null, code: null, ...fields } },
      { status, headers },
    );
  switch (mode) {
    case 'ok':
      return HttpResponse.json(
        kind === 'chat'
          ? {
              id: 'chatcmpl-1',
              object: 'chat.completion',
              created: 1,
              model: 'gpt-4o',
              choices: [
                { index: 0, message: { role: 'assistant', content: 'Hello.' }, finish_reason: 'stop' },
              ],
              usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
            }
          : {
              id: 'resp_1',
              object: 'response',
              status: 'completed',
              output: [
                {
                  type: 'message',
                  id: 'msg_1',
                  role: 'assistant',
                  status: 'completed',
                  content: [{ type: 'output_text', text: 'Hello.', annotations: [] }],
                },
              ],
              usage: { input_tokens: 5, output_tokens: 2, total_tokens: 7 },
            },
      );
    case 401:
      return error(401, {
        message: `Incorrect API key provided: ${echo}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        code: 'invalid_api_key',
      });
    case 403:
      return error(403, {
        message: `The principal does not have permission to perform this action (credentials: ${echo}).`,
        code: 'PermissionDenied',
      });
    case 404:
      return error(404, {
        message: `The API deployment for this resource does not exist (key ${echo}).`,
        code: 'DeploymentNotFound',
      });
    case 429:
      return error(
        429,
        {
          message: `Rate limit reached for requests made with ${echo}. Please retry after 1 second.`,
          code: '429',
        },
        { 'retry-after-ms': '1' },
      );
    case 500:
      return error(500, {
        message: `The server had an error while processing your request (${echo}).`,
        type: 'server_error',
      });
    case 'content-filter': {
      const filtered = contentFilterBody();
      filtered.error.message = `${filtered.error.message} [request key ${echo}]`;
      return HttpResponse.json(filtered, { status: 400 });
    }
    case 'malformed':
      return body.stream
        ? streamedBody('text/event-stream', `data: ${echo} {"choices": [\n\n`)
        : new HttpResponse(`${echo} {"choices": [`, { headers: { 'content-type': 'application/json' } });
    case 'hang':
      await delay('infinite');
      return HttpResponse.error();
  }
}

/** Bedrock Converse answers, errors in the rest-json shape (`x-amzn-ErrorType`, `{ message }`). */
async function bedrockFamily(request: Request): Promise<Response> {
  const echo = echoOf(request);
  lastEcho = echo;
  const error = (status: number, type: string, message: string) =>
    HttpResponse.json(
      { message },
      {
        status,
        headers: { 'x-amzn-ErrorType': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/` },
      },
    );
  const answer = (text: string, stopReason: string) =>
    HttpResponse.json({
      output: { message: { role: 'assistant', content: [{ text }] } },
      stopReason,
      usage: { inputTokens: 5, outputTokens: 2, totalTokens: 7 },
      metrics: { latencyMs: 10 },
    });
  switch (mode) {
    case 'ok':
      return answer('Hello.', 'end_turn');
    case 401:
      return error(
        401,
        'UnrecognizedClientException',
        `The security token included in the request is invalid: ${echo}`,
      );
    case 403:
      return error(
        403,
        'AccessDeniedException',
        `User with credentials ${echo} is not authorized to perform bedrock:InvokeModel`,
      );
    case 404:
      return error(404, 'ResourceNotFoundException', `Model not found for request signed with ${echo}`);
    case 429:
      return error(
        429,
        'ThrottlingException',
        `Too many requests from ${echo}, please wait before trying again.`,
      );
    case 500:
      return error(500, 'InternalServerException', `Internal failure handling request ${echo}`);
    case 'content-filter':
      return request.url.endsWith('/converse-stream')
        ? eventStreamResponse([
            eventFrame({ messageStart: { role: 'assistant' } }),
            eventFrame({ messageStop: { stopReason: 'guardrail_intervened' } }),
            eventFrame({
              metadata: {
                usage: { inputTokens: 5, outputTokens: 0, totalTokens: 5 },
                metrics: { latencyMs: 1 },
              },
            }),
          ])
        : answer('Sorry, I cannot help with that.', 'guardrail_intervened');
    case 'malformed':
      return request.url.endsWith('/converse-stream')
        ? streamedBody('application/vnd.amazon.eventstream', `not an event stream ${echo}`)
        : new HttpResponse(`{"output": ${echo}`, { headers: { 'content-type': 'application/json' } });
    case 'hang':
      await delay('infinite');
      return HttpResponse.error();
  }
}

const AZURE = 'https://planted.openai.azure.com';
const MANTLE = 'https://bedrock-mantle.us-east-1.api.aws/v1';
const CONVERSE_ENDPOINT = 'http://bedrock.test:8080';
const BEDROCK_RUNTIME = 'https://bedrock-runtime.us-east-1.amazonaws.com';
const CONVERSE_MODEL = 'anthropic.claude-3-5-sonnet-20240620-v1:0';

const server = setupServer(
  http.post(`${AZURE}/openai/deployments/gpt-4o/chat/completions`, ({ request }) =>
    openaiFamily(request, 'chat'),
  ),
  http.post(`${AZURE}/openai/v1/responses`, ({ request }) => openaiFamily(request, 'responses')),
  http.post('https://api.openai.com/v1/chat/completions', ({ request }) => openaiFamily(request, 'chat')),
  http.post('https://api.openai.com/v1/responses', ({ request }) => openaiFamily(request, 'responses')),
  http.post(`${MANTLE}/responses`, ({ request }) => openaiFamily(request, 'responses')),
  http.post(`${CONVERSE_ENDPOINT}/model/:model/:operation`, ({ request }) => bedrockFamily(request)),
  http.post(`${BEDROCK_RUNTIME}/model/:model/:operation`, ({ request }) => bedrockFamily(request)),
);
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  mode = 'ok';
  onRequest = () => {};
  lastEcho = '';
  debugLines.length = 0;
  consoleLines.length = 0;
});
afterAll(() => server.close());

// ---------------------------------------------------------------------------------------------
// The runtimes, each with its own planted credential.

interface RuntimeUnderTest {
  label: string;
  make: () => Runtime;
  /** The planted secrets this runtime sends, so each case can prove the server echoed one. */
  planted: string[];
}

const runtimes: RuntimeUnderTest[] = [
  {
    label: 'azureChat (api-key)',
    make: () => azureChat({ endpoint: AZURE, deployment: 'gpt-4o', apiKey: SECRETS.azureChatKey }),
    planted: [SECRETS.azureChatKey],
  },
  {
    label: 'azureChat (Entra token provider)',
    make: () =>
      azureChat({
        endpoint: AZURE,
        deployment: 'gpt-4o',
        azureADTokenProvider: async () => SECRETS.azureChatEntraToken,
      }),
    planted: [SECRETS.azureChatEntraToken],
  },
  {
    label: 'azureResponses (api-key)',
    make: () => azureResponses({ endpoint: AZURE, model: 'gpt-5', apiKey: SECRETS.azureResponsesKey }),
    planted: [SECRETS.azureResponsesKey],
  },
  {
    label: 'azureResponses (Entra token provider)',
    make: () =>
      azureResponses({
        endpoint: AZURE,
        model: 'gpt-5',
        azureADTokenProvider: async () => SECRETS.azureResponsesEntraToken,
      }),
    planted: [SECRETS.azureResponsesEntraToken],
  },
  {
    label: 'openaiChat (API key and a gateway header)',
    make: () =>
      openaiChat({
        model: 'gpt-4o',
        apiKey: SECRETS.openaiChatKey,
        headers: { 'x-gateway-key': SECRETS.openaiGatewayKey },
      }),
    planted: [SECRETS.openaiChatKey, SECRETS.openaiGatewayKey],
  },
  {
    label: 'openaiResponses (API key)',
    make: () => openaiResponses({ model: 'gpt-5', apiKey: SECRETS.openaiResponsesKey }),
    planted: [SECRETS.openaiResponsesKey],
  },
  {
    label: 'frontier (Bedrock API key)',
    make: () =>
      frontier({ region: 'us-east-1', model: 'openai.gpt-5.4', auth: { apiKey: SECRETS.bedrockApiKey } }),
    planted: [SECRETS.bedrockApiKey],
  },
  {
    label: 'frontier (bearer token provider)',
    make: () =>
      frontier({
        region: 'us-east-1',
        model: 'openai.gpt-5.4',
        auth: { tokenProvider: async () => SECRETS.frontierToken },
      }),
    planted: [SECRETS.frontierToken],
  },
  {
    label: 'frontier (SigV4 with a session token)',
    make: () =>
      frontier({
        region: 'us-east-1',
        model: 'openai.gpt-5.4',
        credentials: {
          accessKeyId: ACCESS_KEY_ID,
          secretAccessKey: SECRETS.frontierSecretAccessKey,
          sessionToken: SECRETS.frontierSessionToken,
        },
      }),
    planted: [SECRETS.frontierSessionToken],
  },
  {
    label: 'bedrockConverse (credentials given to cloudhop)',
    make: () =>
      bedrockConverse({
        region: 'us-east-1',
        model: CONVERSE_MODEL,
        endpoint: CONVERSE_ENDPOINT,
        credentials: {
          accessKeyId: ACCESS_KEY_ID,
          secretAccessKey: SECRETS.converseSecretAccessKey,
          sessionToken: SECRETS.converseSessionToken,
        },
      }),
    planted: [SECRETS.converseSessionToken],
  },
  {
    label: 'bedrockConverse (your own client)',
    make: () =>
      bedrockConverse({
        region: 'us-east-1',
        model: CONVERSE_MODEL,
        client: new BedrockRuntimeClient({
          region: 'us-east-1',
          requestHandler: new NodeHttpHandler(),
          maxAttempts: 1,
          credentials: {
            accessKeyId: ACCESS_KEY_ID,
            secretAccessKey: SECRETS.ownClientSecretAccessKey,
            sessionToken: SECRETS.ownClientSessionToken,
          },
        }),
      }),
    planted: [SECRETS.ownClientSessionToken],
  },
];

const ERROR_MODES: Array<{ mode: Mode; code: string; echoedInMessage: boolean }> = [
  { mode: 401, code: 'auth_failed', echoedInMessage: true },
  { mode: 403, code: 'auth_failed', echoedInMessage: true },
  { mode: 404, code: 'invalid_config', echoedInMessage: true },
  { mode: 429, code: 'rate_limited', echoedInMessage: true },
  { mode: 500, code: 'provider_unavailable', echoedInMessage: true },
  { mode: 'content-filter', code: 'content_filtered', echoedInMessage: false },
  { mode: 'malformed', code: 'provider_error', echoedInMessage: false },
];

interface Outcome {
  error: unknown;
  events: AgentEvent[];
}

async function failingTurn(
  agent: ReturnType<typeof createAgent>,
  streamed: boolean,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<Outcome> {
  const events: AgentEvent[] = [];
  if (!streamed) {
    const error = await agent.run('Hello again', { session: 'planted', ...options }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    return { error, events };
  }
  const stream = agent.stream('Hello again', { session: 'planted', ...options });
  let error: unknown;
  try {
    for await (const event of stream) events.push(event);
  } catch (caught) {
    error = caught;
  }
  expect(await stream.result.catch((caught: unknown) => caught)).toBe(error);
  return { error, events };
}

async function scanTurn(store: SessionStore, outcome: Outcome): Promise<void> {
  expect(outcome.error).toBeInstanceOf(CloudhopError);
  const transcript = await exportSession(store, 'planted');
  expectNoSecrets({
    error: renderings(outcome.error),
    events: [JSON.stringify(outcome.events), inspect(outcome.events, { depth: 10 })],
    debug: debugLines,
    console: consoleLines,
    transcript: JSON.stringify(transcript),
  });
}

for (const runtime of runtimes) {
  describe(`secrets on ${runtime.label}`, () => {
    for (const streamed of [false, true]) {
      for (const { mode: errorMode, code, echoedInMessage } of ERROR_MODES) {
        it(`${streamed ? 'stream' : 'run'}: ${errorMode} → ${code}, nothing secret anywhere`, async () => {
          const store = memoryStore();
          const agent = createAgent({
            runtime: runtime.make(),
            store,
            debug,
            retry: { maxRetries: 1, initialDelayMs: 1, maxDelayMs: 1 },
          });
          mode = 'ok';
          await agent.run('Hello', { session: 'planted' });
          mode = errorMode;
          const outcome = await failingTurn(agent, streamed);

          // The server really echoed this runtime's credential back.
          expect(runtime.planted.some((secret) => lastEcho.includes(secret))).toBe(true);
          expect(outcome.error).toMatchObject({ code });
          if (echoedInMessage) expect((outcome.error as Error).message).toContain('[redacted]');
          if (errorMode === 429)
            expect(outcome.events.some((event) => event.type === 'retry')).toBe(streamed);
          await scanTurn(store, outcome);
        });
      }

      it(`${streamed ? 'stream' : 'run'}: a request timeout, nothing secret anywhere`, async () => {
        const store = memoryStore();
        const agent = createAgent({
          runtime: runtime.make(),
          store,
          debug,
          timeoutMs: 50,
          retry: { maxRetries: 0 },
        });
        await agent.run('Hello', { session: 'planted' });
        mode = 'hang';
        const outcome = await failingTurn(agent, streamed);
        expect(outcome.error).toMatchObject({ code: 'timeout' });
        await scanTurn(store, outcome);
      });

      it(`${streamed ? 'stream' : 'run'}: an abort, nothing secret anywhere`, async () => {
        const store = memoryStore();
        const agent = createAgent({ runtime: runtime.make(), store, debug, retry: { maxRetries: 0 } });
        await agent.run('Hello', { session: 'planted' });
        mode = 'hang';
        const controller = new AbortController();
        onRequest = () => controller.abort();
        const outcome = await failingTurn(agent, streamed, { signal: controller.signal });
        expect(outcome.error).toMatchObject({ code: 'aborted' });
        await scanTurn(store, outcome);
      });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Paths that do not depend on the runtime.

describe('secrets outside the runtimes', () => {
  it('a token provider that fails with a message echoing its own token: auth_failed, redacted', async () => {
    let calls = 0;
    const runtime = azureChat({
      endpoint: AZURE,
      deployment: 'gpt-4o',
      azureADTokenProvider: async () => {
        calls += 1;
        if (calls === 1) return SECRETS.azureChatEntraToken;
        throw new Error(`token ${SECRETS.azureChatEntraToken} expired and could not be refreshed`);
      },
    });
    const store = memoryStore();
    const agent = createAgent({ runtime, store, debug, retry: { maxRetries: 0 } });
    await agent.run('Hello', { session: 'planted' });
    const outcome = await failingTurn(agent, true);
    expect(outcome.error).toMatchObject({ code: 'auth_failed' });
    expect((outcome.error as Error).message).toMatch(/The token provider failed: token \[redacted\] expired/);
    await scanTurn(store, outcome);
  });

  it('a tool that fails with a message echoing a key: the tool_result, events, store and export are redacted', async () => {
    // The application gives cloudhop the key the tool also uses (here for an openaiChat runtime).
    openaiChat({ model: 'gpt-4o', apiKey: SECRETS.toolKey });
    const lookup = tool({
      name: 'lookup',
      input: z.object({ q: z.string() }),
      execute: () => {
        throw new Error(`upstream said: Incorrect API key provided: ${SECRETS.toolKey}`);
      },
    });
    const runtime = scriptedRuntime([
      { toolCalls: [{ name: 'lookup', arguments: { q: 'x' }, callId: 'call_1' }] },
      'The lookup failed.',
    ]);
    const store = memoryStore();
    const agent = createAgent({ runtime, store, debug, tools: [lookup] });
    const stream = agent.stream('Look it up', { session: 'planted' });
    const events: AgentEvent[] = [];
    for await (const event of stream) events.push(event);
    await stream.result;

    expect(events.find((event) => event.type === 'tool-result')).toMatchObject({
      isError: true,
      output: 'Error: tool "lookup" failed: upstream said: Incorrect API key provided: [redacted]',
    });
    expectNoSecrets({
      events: JSON.stringify(events),
      modelRequests: JSON.stringify(runtime.requests),
      store: JSON.stringify(await store.load({ namespace: 'default', sessionId: 'planted' })),
      transcript: JSON.stringify(await exportSession(store, 'planted')),
      debug: debugLines,
    });
  });

  it('a store that fails with a message echoing a credential: store_unavailable, redacted', async () => {
    // The application configured a Redis URL with a password; the driver's error quotes that URL.
    redisStore({ url: `redis://app:${SECRETS.storeKey}@cache.internal:6379` });
    const store: SessionStore = {
      ...memoryStore(),
      append: async () => {
        throw new Error(`connection to redis://app:${SECRETS.storeKey}@cache.internal:6379 was reset`);
      },
    };
    const agent = createAgent({ runtime: scriptedRuntime(['Hi.']), store, debug });
    const outcome = await failingTurn(agent, true);
    expect(outcome.error).toMatchObject({ code: 'store_unavailable' });
    expect((outcome.error as Error).message).toContain('redis://app:[redacted]@cache.internal');
    expectNoSecrets({
      error: renderings(outcome.error),
      events: JSON.stringify(outcome.events),
      debug: debugLines,
    });
  });

  it('a Redis store that cannot connect, with a password in its URL: store_unavailable, redacted', async () => {
    const port = await closedPort();
    const store = redisStore({ url: `redis://app:${SECRETS.storeKey}@127.0.0.1:${port}/0` });
    const agent = createAgent({ runtime: scriptedRuntime(['Hi.']), store, debug });
    const outcome = await failingTurn(agent, true);
    expect(outcome.error).toMatchObject({ code: 'store_unavailable' });
    expectNoSecrets({
      error: renderings(outcome.error),
      events: JSON.stringify(outcome.events),
      debug: debugLines,
    });
    await agent.close();
  });

  it('a Postgres store that cannot connect, with a password in its URL: store_unavailable, redacted', async () => {
    const port = await closedPort();
    const store = postgresStore({
      connectionString: `postgres://app:${SECRETS.storeKey}@127.0.0.1:${port}/db`,
    });
    const agent = createAgent({ runtime: scriptedRuntime(['Hi.']), store, debug });
    const outcome = await failingTurn(agent, true);
    expect(outcome.error).toMatchObject({ code: 'store_unavailable' });
    expectNoSecrets({
      error: renderings(outcome.error),
      events: JSON.stringify(outcome.events),
      debug: debugLines,
    });
    await agent.close();
  });

  it('the debug logger is off unless given, and when given it logs the turns it saw', async () => {
    mode = 401;
    const quiet = createAgent({
      runtime: openaiChat({ model: 'gpt-4o', apiKey: SECRETS.openaiChatKey }),
      retry: { maxRetries: 0 },
    });
    await quiet.run('Hello', { session: 'planted' }).catch(() => {});
    expect(debugLines).toEqual([]);

    const chatty = createAgent({
      runtime: openaiChat({ model: 'gpt-4o', apiKey: SECRETS.openaiChatKey }),
      retry: { maxRetries: 0 },
      debug,
    });
    await chatty.run('Hello', { session: 'planted' }).catch(() => {});
    expect(debugLines.length).toBeGreaterThan(0);
    expect(debugLines.every((line) => line.startsWith('[cloudhop] '))).toBe(true);
    expectNoSecrets({ debug: debugLines });
  });
});
