import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openaiResponses } from '../../../src/runtimes/responses/openai-responses.js';
import { vendorText } from '../../helpers/fixtures.js';
import {
  assistant,
  errorBody,
  MESSAGE_RESPONSE,
  OPENAI_URL,
  previousResponseNotFound,
  record,
  recordingContext,
  responseExample,
  type SeenRequest,
  sse,
  stepRequest,
  toolCall,
  toolResult,
  user,
} from './responses-test-kit.js';

/** Handles that this fake server has forgotten (expired, deleted). */
const gone = new Set<string>();
let goneReply: (handle: string) => Response = previousResponseNotFound;
const seen: SeenRequest[] = [];
let conversationsCreated = 0;

const server = setupServer(
  http.post(`${OPENAI_URL}/conversations`, async ({ request }) => {
    await record(request, seen);
    conversationsCreated++;
    return HttpResponse.json({
      id: `conv_${conversationsCreated}`,
      object: 'conversation',
      created_at: 1741900000,
      metadata: {},
    });
  }),
  http.post(`${OPENAI_URL}/responses`, async ({ request }) => {
    await record(request, seen);
    const body = seen.at(-1)!.body;
    const handle: string | undefined = body.previous_response_id ?? body.conversation;
    if (handle !== undefined && gone.has(handle)) return goneReply(handle);
    if (body.stream) return sse(vendorText('responses-stream.txt'));
    const response = responseExample(MESSAGE_RESPONSE);
    if (body.conversation) response.conversation = { id: body.conversation };
    return HttpResponse.json(response);
  }),
);

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  seen.length = 0;
  gone.clear();
  goneReply = previousResponseNotFound;
  conversationsCreated = 0;
});
afterAll(() => server.close());

const MESSAGE_RESPONSE_ID = responseExample(MESSAGE_RESPONSE).id;

const transcript = () => [
  user('My name is Ada.'),
  assistant('Hello Ada.'),
  user('Weather in Paris?'),
  toolCall('call_1', 'get_weather', { city: 'Paris' }),
  toolResult('call_1', { tempC: 21 }),
  assistant('21 °C.'),
  user('What is my name?'),
];

const responsesCalls = () => seen.filter((request) => request.url.pathname.endsWith('/responses'));

describe('previous-response mode: reseeding', () => {
  const runtime = () => openaiResponses({ apiKey: 'sk-test-reseed', model: 'gpt-5.4' });

  it('reseeds on previous_response_not_found (400): full transcript, no handle, event, no error', async () => {
    gone.add('resp_expired');
    const context = recordingContext();
    const items = transcript();
    const result = await runtime().step(
      stepRequest({ items, remoteState: { remote: { responseId: 'resp_expired' }, syncedCount: 6 } }),
      context,
    );

    const [first, second] = responsesCalls();
    expect(first!.body.previous_response_id).toBe('resp_expired');
    expect(first!.body.input).toHaveLength(1);
    expect(second!.body).not.toHaveProperty('previous_response_id');
    expect(second!.body.input).toHaveLength(items.length);
    expect(second!.body.input.map((item: { type: string }) => item.type)).toEqual([
      'message',
      'message',
      'message',
      'function_call',
      'function_call_output',
      'message',
      'message',
    ]);
    expect(context.events).toEqual([
      {
        type: 'session-reseeded',
        runtimeId: 'openai-responses:api.openai.com/v1/gpt-5.4',
        reason: expect.stringContaining('previous_response_not_found'),
      },
    ]);
    expect(result.remote).toEqual({ responseId: MESSAGE_RESPONSE_ID });
    expect(result.finishReason).toBe('stop');
    expect(result.usage.requestBytes).toBe(first!.bytes + second!.bytes);
  });

  it('reseeds on a 404 for the stored response', async () => {
    gone.add('resp_deleted');
    goneReply = (handle) => errorBody(404, { message: `Response with id '${handle}' not found.` });
    const context = recordingContext();
    const result = await runtime().step(
      stepRequest({
        items: transcript(),
        remoteState: { remote: { responseId: 'resp_deleted' }, syncedCount: 6 },
      }),
      context,
    );
    expect(context.events.map((event) => event.type)).toEqual(['session-reseeded']);
    expect(responsesCalls()[1]!.body.input).toHaveLength(7);
    expect(result.remote).toEqual({ responseId: MESSAGE_RESPONSE_ID });
  });

  it('reseeds a streaming step the same way', async () => {
    gone.add('resp_expired');
    const context = recordingContext();
    const result = await runtime().step(
      stepRequest({
        items: transcript(),
        stream: true,
        remoteState: { remote: { responseId: 'resp_expired' }, syncedCount: 6 },
      }),
      context,
    );
    expect(context.events.map((event) => event.type)).toEqual(['session-reseeded', 'text-delta']);
    expect(result.remote).toEqual({ responseId: 'resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654' });
  });
});

describe('conversation mode', () => {
  const runtime = () =>
    openaiResponses({ apiKey: 'sk-test-conversation', model: 'gpt-5.4', state: 'conversation' });

  it('creates a conversation on first use, then continues it with only the new items', async () => {
    const rt = runtime();
    const items = [user('My name is Ada.')];
    const first = await rt.step(stepRequest({ items }), recordingContext());

    expect(seen.map((request) => request.url.pathname)).toEqual(['/v1/conversations', '/v1/responses']);
    const firstBody = seen[1]!.body;
    expect(firstBody.conversation).toBe('conv_1');
    expect(firstBody).not.toHaveProperty('previous_response_id');
    expect(firstBody.input).toHaveLength(1);
    expect(first.remote).toEqual({ conversationId: 'conv_1', responseId: MESSAGE_RESPONSE_ID });

    seen.length = 0;
    const next = [...items, ...first.items, user('What is my name?')];
    const second = await rt.step(
      stepRequest({
        items: next,
        remoteState: { remote: first.remote!, syncedCount: items.length + first.items.length },
      }),
      recordingContext(),
    );
    expect(seen.map((request) => request.url.pathname)).toEqual(['/v1/responses']);
    expect(seen[0]!.body.conversation).toBe('conv_1');
    expect(seen[0]!.body).not.toHaveProperty('previous_response_id');
    expect(seen[0]!.body.input).toEqual([
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What is my name?' }] },
    ]);
    expect(second.remote).toEqual({ conversationId: 'conv_1', responseId: MESSAGE_RESPONSE_ID });
  });

  it('starts a conversation with the whole transcript when the binding has no conversation', async () => {
    const items = transcript();
    await runtime().step(
      stepRequest({ items, remoteState: { remote: { responseId: 'resp_from_chaining' }, syncedCount: 6 } }),
      recordingContext(),
    );
    expect(conversationsCreated).toBe(1);
    expect(responsesCalls()[0]!.body.input).toHaveLength(items.length);
  });

  it('reseeds into a new conversation when the old one is gone', async () => {
    gone.add('conv_old');
    goneReply = (handle) => errorBody(404, { message: `Conversation with id '${handle}' not found.` });
    const context = recordingContext();
    const items = transcript();
    const result = await runtime().step(
      stepRequest({
        items,
        remoteState: { remote: { conversationId: 'conv_old', responseId: 'resp_x' }, syncedCount: 6 },
      }),
      context,
    );

    const [first, second] = responsesCalls();
    expect(first!.body.conversation).toBe('conv_old');
    expect(second!.body.conversation).toBe('conv_1');
    expect(second!.body.input).toHaveLength(items.length);
    expect(context.events.map((event) => event.type)).toEqual(['session-reseeded']);
    expect(result.remote).toEqual({ conversationId: 'conv_1', responseId: MESSAGE_RESPONSE_ID });
  });
});
