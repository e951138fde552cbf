import { HttpResponse } from 'msw';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { azureChat } from '../../../src/azure.js';
import { CloudhopError } from '../../../src/core/errors.js';
import { vendorText } from '../../helpers/fixtures.js';
import {
  AZURE_DEPLOYMENT_URL,
  AZURE_ENDPOINT,
  AZURE_V1_URL,
  asyncFilterStreams,
  gatedStream,
  recordingContext,
  recordingServer,
  sse,
  stepRequest,
  vendorExample,
} from './chat-test-kit.js';

const { seen, answerWith } = recordingServer();

const API_KEY = 'azure-test-key-0123456789';
const runtime = (extra: Partial<Parameters<typeof azureChat>[0]> = {}) =>
  azureChat({ endpoint: AZURE_ENDPOINT, deployment: 'gpt-4o', apiKey: API_KEY, ...extra });

const o1Output = () => vendorExample('azure-chat-completion.json', 'ms-docs-o1-preview-output');
const specExample = () =>
  vendorExample('azure-chat-completion.json', 'azure-rest-api-specs-2024-10-21-chat_completions');

describe('azureChat: identity', () => {
  it('names endpoint and deployment in a stable id, the same for both URL forms, without the key', () => {
    const deploymentPath = runtime();
    const v1 = runtime({ useV1: true });
    expect(deploymentPath.id).toBe('azure-chat:myres.openai.azure.com/gpt-4o');
    expect(v1.id).toBe(deploymentPath.id);
    expect(deploymentPath.kind).toBe('stateless');
    expect(deploymentPath.family).toBe('azure-openai');
    expect(deploymentPath.id).not.toContain(API_KEY);
  });
});

describe('azureChat: URL forms and authentication', () => {
  it('posts to the deployment path with the default GA api-version and the api-key header', async () => {
    answerWith(AZURE_DEPLOYMENT_URL, () => HttpResponse.json(o1Output()));
    await runtime().step(stepRequest(), recordingContext());
    const [request] = seen;
    expect(request!.url.pathname).toBe('/openai/deployments/gpt-4o/chat/completions');
    expect(request!.url.searchParams.get('api-version')).toBe('2024-10-21');
    expect(request!.headers.get('api-key')).toBe(API_KEY);
    expect(request!.headers.get('authorization')).toBeNull();
    expect(request!.body.model).toBe('gpt-4o');
    expect(request!.body.stream).toBeUndefined();
  });

  it('sends the apiVersion it was given', async () => {
    answerWith(AZURE_DEPLOYMENT_URL, () => HttpResponse.json(o1Output()));
    await runtime({ apiVersion: '2025-04-01-preview' }).step(stepRequest(), recordingContext());
    expect(seen[0]!.url.searchParams.get('api-version')).toBe('2025-04-01-preview');
  });

  it('uses /openai/v1 with the deployment as the body model and no api-version when useV1 is set', async () => {
    answerWith(AZURE_V1_URL, () => HttpResponse.json(o1Output()));
    await runtime({ useV1: true }).step(stepRequest(), recordingContext());
    const [request] = seen;
    expect(request!.url.pathname).toBe('/openai/v1/chat/completions');
    expect(request!.url.search).toBe('');
    expect(request!.body.model).toBe('gpt-4o');
    expect(request!.headers.get('api-key')).toBe(API_KEY);
    expect(request!.headers.get('authorization')).toBeNull();
  });

  it('passes an explicit apiVersion on the v1 path', async () => {
    answerWith(AZURE_V1_URL, () => HttpResponse.json(o1Output()));
    await runtime({ useV1: true, apiVersion: 'preview' }).step(stepRequest(), recordingContext());
    expect(seen[0]!.url.searchParams.get('api-version')).toBe('preview');
  });

  it.each([
    ['deployment path', AZURE_DEPLOYMENT_URL, false],
    ['v1 path', AZURE_V1_URL, true],
  ])('sends a fresh Entra token as a bearer token on each request (%s)', async (_, url, useV1) => {
    answerWith(url, () => HttpResponse.json(o1Output()));
    let issued = 0;
    const rt = azureChat({
      endpoint: AZURE_ENDPOINT,
      deployment: 'gpt-4o',
      useV1,
      azureADTokenProvider: async () => `entra-token-number-${++issued}`,
    });
    await rt.step(stepRequest(), recordingContext());
    await rt.step(stepRequest(), recordingContext());
    expect(seen.map((request) => request.headers.get('authorization'))).toEqual([
      'Bearer entra-token-number-1',
      'Bearer entra-token-number-2',
    ]);
    expect(seen.every((request) => request.headers.get('api-key') === null)).toBe(true);
  });
});

describe('azureChat: the AzureOpenAI environment variables', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('takes the endpoint and key from AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY, and names that endpoint', async () => {
    vi.stubEnv('AZURE_OPENAI_ENDPOINT', `${AZURE_ENDPOINT}/`);
    vi.stubEnv('AZURE_OPENAI_API_KEY', API_KEY);
    answerWith(AZURE_DEPLOYMENT_URL, () => HttpResponse.json(o1Output()));
    const fromEnvironment = azureChat({ deployment: 'gpt-4o' });
    expect(fromEnvironment.id).toBe('azure-chat:myres.openai.azure.com/gpt-4o');
    await fromEnvironment.step(stepRequest(), recordingContext());
    expect(seen[0]!.url.pathname).toBe('/openai/deployments/gpt-4o/chat/completions');
    expect(seen[0]!.headers.get('api-key')).toBe(API_KEY);
  });

  it('lets the options win, and never adds the environment key to a token provider', async () => {
    vi.stubEnv('AZURE_OPENAI_ENDPOINT', 'https://other-resource.openai.azure.com');
    vi.stubEnv('AZURE_OPENAI_API_KEY', 'environment-key-must-not-be-sent');
    expect(runtime().id).toBe('azure-chat:myres.openai.azure.com/gpt-4o');
    answerWith(AZURE_DEPLOYMENT_URL, () => HttpResponse.json(o1Output()));
    await azureChat({
      endpoint: AZURE_ENDPOINT,
      deployment: 'gpt-4o',
      azureADTokenProvider: async () => 'entra-token-from-provider',
    }).step(stepRequest(), recordingContext());
    expect(seen[0]!.headers.get('authorization')).toBe('Bearer entra-token-from-provider');
    expect(seen[0]!.headers.get('api-key')).toBeNull();
  });

  it('throws invalid_config naming the variable when it is not a resource URL, or the option when neither is set', () => {
    vi.stubEnv('AZURE_OPENAI_ENDPOINT', 'myres.openai.azure.com');
    const badVariable = (() => {
      try {
        azureChat({ deployment: 'gpt-4o', apiKey: API_KEY });
      } catch (error) {
        return error as CloudhopError;
      }
    })();
    expect(badVariable).toMatchObject({ code: 'invalid_config', path: 'endpoint' });
    expect(badVariable!.message).toContain('AZURE_OPENAI_ENDPOINT');
    vi.stubEnv('AZURE_OPENAI_ENDPOINT', '');
    expect(() => azureChat({ deployment: 'gpt-4o', apiKey: API_KEY })).toThrow(
      /option "endpoint": is required.*AZURE_OPENAI_ENDPOINT/,
    );
  });
});

describe('azureChat: answers', () => {
  it('turns a completion into one assistant message with cloudhop ids and normalized usage', async () => {
    const body = o1Output();
    answerWith(AZURE_DEPLOYMENT_URL, () => HttpResponse.json(body));
    const result = await runtime().step(stepRequest(), recordingContext());
    expect(result.finishReason).toBe('stop');
    expect(result.items).toHaveLength(1);
    const [message] = result.items;
    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      content: [{ type: 'text', text: body.choices[0].message.content }],
    });
    expect(message!.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(result.usage).toEqual({
      inputTokens: 20,
      outputTokens: 1843,
      totalTokens: 1863,
      cachedInputTokens: 0,
      reasoningTokens: 448,
      requestBytes: seen[0]!.bytes,
    });
    // What a trace names as gen_ai.response.id and gen_ai.response.model.
    expect(result.response).toEqual({ id: body.id, model: body.model });
  });

  it('reports only the usage fields the service sent', async () => {
    answerWith(AZURE_DEPLOYMENT_URL, () => HttpResponse.json(specExample()));
    const result = await runtime().step(stepRequest(), recordingContext());
    expect(result.usage).toEqual({
      inputTokens: 33,
      outputTokens: 557,
      totalTokens: 590,
      requestBytes: seen[0]!.bytes,
    });
  });

  it('rejects an answer the output filter withheld (HTTP 200, finish_reason content_filter) with its categories', async () => {
    // The vendor example with the verdict a filtered answer carries: finish_reason content_filter, violence filtered.
    const body = o1Output();
    body.choices[0].finish_reason = 'content_filter';
    body.choices[0].message.content = null;
    body.choices[0].content_filter_results.violence = { filtered: true, severity: 'high' };
    answerWith(AZURE_DEPLOYMENT_URL, () => HttpResponse.json(body));
    const error = await runtime()
      .step(stepRequest(), recordingContext())
      .catch((e) => e);
    expect(error).toBeInstanceOf(CloudhopError);
    expect(error).toMatchObject({ code: 'content_filtered', categories: ['violence'], retryable: false });
    expect(error.runtimeId).toBe('azure-chat:myres.openai.azure.com/gpt-4o');
  });
});

describe('azureChat: streaming', () => {
  it('streams the recorded Azure answer: empty-choices chunks at both ends, usage from the last one', async () => {
    answerWith(AZURE_DEPLOYMENT_URL, () => sse(vendorText('azure-chat-stream.txt')));
    const context = recordingContext();
    const result = await runtime().step(stepRequest({ stream: true }), context);
    expect(context.deltas()).toEqual(['Capital', ' of', ' Denmark', '.']);
    expect(result.items).toHaveLength(1);
    expect(result.items[0]).toMatchObject({
      type: 'message',
      content: [{ type: 'text', text: 'Capital of Denmark.' }],
    });
    expect(result.finishReason).toBe('stop');
    expect(result.usage).toEqual({
      inputTokens: 15,
      outputTokens: 78,
      totalTokens: 93,
      cachedInputTokens: 0,
      reasoningTokens: 64,
      requestBytes: seen[0]!.bytes,
    });
    expect(seen[0]!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    // Azure's first chunk (prompt filter results) carries an empty id and model: the answer's own are kept.
    const answered = vendorText('azure-chat-stream.txt')
      .split('\n')
      .filter((line) => line.startsWith('data: {'))
      .map((line) => JSON.parse(line.slice('data: '.length)))
      .find((chunk) => chunk.id !== '');
    expect(answered.id).toMatch(/^chatcmpl-/);
    expect(result.response).toEqual({ id: answered.id, model: answered.model });
  });

  it('emits each text delta as it arrives, before the stream has ended', async () => {
    const gate = gatedStream();
    answerWith(
      AZURE_DEPLOYMENT_URL,
      () => new HttpResponse(gate.body, { headers: { 'content-type': 'text/event-stream' } }),
    );
    const lines = vendorText('azure-chat-stream.txt')
      .split('\n\n')
      .filter((event) => event.startsWith('data: '));
    const firstText = lines.findIndex((event) => event.includes('"Capital"'));
    const order: string[] = [];
    const context = recordingContext();
    context.emit = (event) => {
      context.events.push(event);
      if (event.type !== 'text-delta') return;
      order.push(`delta ${event.delta}`);
      if (event.delta === 'Capital') {
        order.push('rest sent');
        gate.send(lines.slice(firstText + 1).join('\n\n') + '\n\n');
        gate.end();
      }
    };
    gate.send(lines.slice(0, firstText + 1).join('\n\n') + '\n\n');
    const result = await runtime().step(stepRequest({ stream: true }), context);
    expect(order).toEqual(['delta Capital', 'rest sent', 'delta  of', 'delta  Denmark', 'delta .']);
    expect(result.items[0]).toMatchObject({ content: [{ text: 'Capital of Denmark.' }] });
  });

  it('accepts the asynchronous filter: annotation-only chunks, also after finish_reason stop', async () => {
    answerWith(AZURE_DEPLOYMENT_URL, () => sse(asyncFilterStreams().passes));
    const context = recordingContext();
    const result = await runtime().step(stepRequest({ stream: true }), context);
    expect(context.deltas()).toEqual(['Color', ' is', ' a']);
    expect(result.finishReason).toBe('stop');
    expect(result.items).toHaveLength(1);
    expect(result.items[0]).toMatchObject({ content: [{ text: 'Color is a' }] });
    expect(result.usage).toEqual({
      inputTokens: 0,
      outputTokens: 0,
      totalTokens: 0,
      requestBytes: seen[0]!.bytes,
    });
  });

  it('fails with content_filtered when a content_filter verdict follows finish_reason stop', async () => {
    // Stream 1 of the doc, with stream 2's blocking annotation chunk arriving after its stop chunk.
    const { passes, blocked } = asyncFilterStreams();
    const verdict = blocked.split('\n').find((line) => line.includes('"finish_reason":"content_filter"'))!;
    answerWith(AZURE_DEPLOYMENT_URL, () => sse(passes.replace('data: [DONE]', `${verdict}\n\ndata: [DONE]`)));
    const error = await runtime()
      .step(stepRequest({ stream: true }), recordingContext())
      .catch((e) => e);
    expect(error).toMatchObject({ code: 'content_filtered', categories: ['protected_material_text'] });
  });

  it('fails with content_filtered when the asynchronous filter blocks the stream late', async () => {
    answerWith(AZURE_DEPLOYMENT_URL, () => sse(asyncFilterStreams().blocked));
    const context = recordingContext();
    const error = await runtime()
      .step(stepRequest({ stream: true }), context)
      .catch((e) => e);
    expect(context.deltas()).toEqual(['Hey', ' Jude', ',', ' better']);
    expect(error).toBeInstanceOf(CloudhopError);
    expect(error).toMatchObject({
      code: 'content_filtered',
      categories: ['protected_material_text'],
      retryable: false,
    });
  });
});
