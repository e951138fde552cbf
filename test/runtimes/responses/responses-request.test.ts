import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createItem, type MessageItem } from '../../../src/core/items.js';
import { openaiResponses } from '../../../src/runtimes/responses/openai-responses.js';
import {
  assistant,
  errorBody,
  FUNCTION_CALL_RESPONSE,
  MESSAGE_RESPONSE,
  OPENAI_URL,
  reasoning,
  record,
  recordingContext,
  responseExample,
  type SeenRequest,
  stepRequest,
  toolCall,
  toolResult,
  user,
} from './responses-test-kit.js';

const seen: SeenRequest[] = [];
let reply: () => Response = () => HttpResponse.json(responseExample(MESSAGE_RESPONSE));
const server = setupServer(
  http.post(`${OPENAI_URL}/responses`, async ({ request }) => {
    await record(request, seen);
    return reply();
  }),
);

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  seen.length = 0;
  reply = () => HttpResponse.json(responseExample(MESSAGE_RESPONSE));
});
afterAll(() => server.close());

/** A reply that answers the first request with `failure`, and every later one with `then()`. */
function failOnceThen(failure: Response, then: () => Response): () => Response {
  let first = true;
  return () => {
    if (!first) return then();
    first = false;
    return failure;
  };
}

const runtime = () => openaiResponses({ apiKey: 'sk-test-request-mapping', model: 'gpt-5.4' });

describe('Responses request body', () => {
  it('starts a new remote session with the whole transcript, store and encrypted reasoning', async () => {
    const items = [user('My name is Ada.'), assistant('Hello Ada.'), user('What is my name?')];
    const result = await runtime().step(stepRequest({ items }), recordingContext());

    expect(seen).toHaveLength(1);
    const body = seen[0]!.body;
    expect(body.model).toBe('gpt-5.4');
    expect(body.store).toBe(true);
    expect(body.include).toEqual(['reasoning.encrypted_content']);
    expect(body).not.toHaveProperty('previous_response_id');
    expect(body).not.toHaveProperty('conversation');
    expect(body.input).toEqual([
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'My name is Ada.' }] },
      { type: 'message', role: 'assistant', content: 'Hello Ada.' },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What is my name?' }] },
    ]);
    expect(result.remote).toEqual({ responseId: responseExample(MESSAGE_RESPONSE).id });
    expect(result.usage.requestBytes).toBe(seen[0]!.bytes);
  });

  it('sends only the items after syncedCount with previous_response_id', async () => {
    const items = [user('My name is Ada.'), assistant('Hello Ada.'), user('What is my name?')];
    await runtime().step(
      stepRequest({ items, remoteState: { remote: { responseId: 'resp_earlier' }, syncedCount: 2 } }),
      recordingContext(),
    );

    const body = seen[0]!.body;
    expect(body.previous_response_id).toBe('resp_earlier');
    expect(body.input).toEqual([
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What is my name?' }] },
    ]);
  });

  it('sends the instructions on every request, also when chaining', async () => {
    const rt = runtime();
    await rt.step(stepRequest({ instructions: 'Be brief.' }), recordingContext());
    await rt.step(
      stepRequest({
        instructions: 'Be brief.',
        items: [user('a'), assistant('b'), user('c')],
        remoteState: { remote: { responseId: 'resp_1' }, syncedCount: 2 },
      }),
      recordingContext(),
    );
    expect(seen.map((request) => request.body.instructions)).toEqual(['Be brief.', 'Be brief.']);
  });

  it('maps tools and structured output without strict mode', async () => {
    const parameters = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const schema = { type: 'object', properties: { city: { type: 'string' } } };
    await runtime().step(
      stepRequest({
        tools: [{ name: 'get_weather', description: 'Current weather', parameters }],
        output: { name: 'city_answer', schema },
      }),
      recordingContext(),
    );
    const body = seen[0]!.body;
    expect(body.tools).toEqual([
      { type: 'function', name: 'get_weather', description: 'Current weather', parameters, strict: false },
    ]);
    expect(body.text).toEqual({
      format: { type: 'json_schema', name: 'city_answer', schema, strict: false },
    });
  });

  it('sends tool calls and results by call_id and never an item id', async () => {
    const items = [
      user('Weather in Paris?'),
      toolCall('call_unLAR8MvFNptuiZK6K6HCy5k', 'get_weather', { city: 'Paris' }),
      toolResult('call_unLAR8MvFNptuiZK6K6HCy5k', { tempC: 21 }),
    ];
    await runtime().step(stepRequest({ items }), recordingContext());

    const [, call, output] = seen[0]!.body.input;
    expect(call).toEqual({
      type: 'function_call',
      call_id: 'call_unLAR8MvFNptuiZK6K6HCy5k',
      name: 'get_weather',
      arguments: '{"city":"Paris"}',
    });
    expect(output).toEqual({
      type: 'function_call_output',
      call_id: 'call_unLAR8MvFNptuiZK6K6HCy5k',
      output: '{"tempC":21}',
    });
    for (const item of seen[0]!.body.input) expect(item).not.toHaveProperty('id');
  });

  it('sends an assistant message of several text parts back as its text, in order', async () => {
    const items = [
      user('Weather?'),
      createItem<MessageItem>({
        type: 'message',
        role: 'assistant',
        content: [
          { type: 'text', text: 'Paris: 21 °C. ' },
          { type: 'text', text: 'Lyon: 24 °C.' },
        ],
      }),
      user('Thanks.'),
    ];
    await runtime().step(stepRequest({ items }), recordingContext());
    expect(seen[0]!.body.input[1]).toEqual({
      type: 'message',
      role: 'assistant',
      content: 'Paris: 21 °C. Lyon: 24 °C.',
    });
  });

  it('rewrites a call id over 64 characters to one the API takes, the same in every request', async () => {
    const foreignId = `toolu_bdrk_${'01QPMcZk8xW3vJpLr9T2aE6u'.repeat(3)}`;
    const rt = runtime();
    await rt.step(
      stepRequest({
        items: [user('Weather in Paris?'), toolCall(foreignId, 'get_weather', { city: 'Paris' })],
      }),
      recordingContext(),
    );
    await rt.step(
      stepRequest({
        items: [toolResult(foreignId, { tempC: 21 })],
        remoteState: { remote: { responseId: 'resp_with_the_call' }, syncedCount: 0 },
      }),
      recordingContext(),
    );

    const sentCallId = seen[0]!.body.input[1].call_id;
    expect(sentCallId).toMatch(/^cloudhop_[A-Za-z0-9_-]{43}$/);
    expect(seen[1]!.body.input).toEqual([
      { type: 'function_call_output', call_id: sentCallId, output: '{"tempC":21}' },
    ]);
  });

  it('echoes call ids of up to 64 characters exactly as the server issued them', async () => {
    const longest = `call_${'x'.repeat(59)}`;
    await runtime().step(
      stepRequest({
        items: [
          user('Weather in Paris?'),
          toolCall(longest, 'get_weather', { city: 'Paris' }),
          toolResult(longest, { tempC: 21 }),
        ],
      }),
      recordingContext(),
    );
    expect(seen[0]!.body.input.slice(1).map((item: { call_id: string }) => item.call_id)).toEqual([
      longest,
      longest,
    ]);
  });

  it('replays reasoning only to its own provider family', async () => {
    const items = [
      user('Think.'),
      reasoning('openai', 'rs_same_family', 'gAAAA-openai'),
      reasoning('azure-openai', 'rs_other_family', 'gAAAA-azure'),
      assistant('Done.'),
      user('Again.'),
    ];
    await runtime().step(stepRequest({ items }), recordingContext());

    const replayed = seen[0]!.body.input.filter((item: { type: string }) => item.type === 'reasoning');
    expect(replayed).toEqual([
      {
        type: 'reasoning',
        id: 'rs_same_family',
        summary: [{ type: 'summary_text', text: 'thinking' }],
        encrypted_content: 'gAAAA-openai',
      },
    ]);
    expect(seen[0]!.body.input.filter((item: { type: string }) => item.type === 'message')).toHaveLength(3);
  });

  it('sends images as input_image data URLs and system messages as input text', async () => {
    const items = [
      createItem<MessageItem>({
        type: 'message',
        role: 'system',
        content: [{ type: 'text', text: 'Be formal.' }],
      }),
      createItem<MessageItem>({
        type: 'message',
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image', mediaType: 'image/png', data: 'iVBORw0KGgo=' },
          { type: 'image', mediaType: 'image/jpeg', url: 'https://example.com/cat.jpg' },
        ],
      }),
    ];
    await runtime().step(stepRequest({ items }), recordingContext());

    expect(seen[0]!.body.input).toEqual([
      { type: 'message', role: 'system', content: [{ type: 'input_text', text: 'Be formal.' }] },
      {
        type: 'message',
        role: 'user',
        content: [
          { type: 'input_text', text: 'What is this?' },
          { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'auto' },
          { type: 'input_image', image_url: 'https://example.com/cat.jpg', detail: 'auto' },
        ],
      },
    ]);
  });

  it('stops asking for encrypted reasoning once the model says it has none', async () => {
    reply = failOnceThen(
      errorBody(400, { message: 'Encrypted content is not supported with this model.', param: 'include' }),
      () => HttpResponse.json(responseExample(FUNCTION_CALL_RESPONSE)),
    );
    const rt = runtime();
    const result = await rt.step(stepRequest(), recordingContext());
    await rt.step(stepRequest(), recordingContext());

    expect(result.finishReason).toBe('tool_calls');
    expect(seen.map((request) => request.body.include)).toEqual([
      ['reasoning.encrypted_content'],
      undefined,
      undefined,
    ]);
    expect(result.usage.requestBytes).toBe(seen[0]!.bytes + seen[1]!.bytes);
  });

  it('resends without replayed reasoning when the server cannot use it', async () => {
    reply = failOnceThen(
      errorBody(400, {
        message: 'The encrypted content gAAA...ng== could not be verified.',
        code: 'invalid_encrypted_content',
      }),
      () => HttpResponse.json(responseExample(MESSAGE_RESPONSE)),
    );
    const items = [user('Think.'), reasoning('openai', 'rs_from_other_model', 'gAAAA-x'), user('Again.')];
    const result = await runtime().step(stepRequest({ items }), recordingContext());

    expect(result.finishReason).toBe('stop');
    expect(seen).toHaveLength(2);
    expect(seen[1]!.body.input.map((item: { type: string }) => item.type)).toEqual(['message', 'message']);
  });

  it('drops a replayed reasoning item the server does not know, without reseeding the session', async () => {
    reply = failOnceThen(
      errorBody(404, { message: "Item with id 'rs_unknown_here' not found.", param: 'input' }),
      () => HttpResponse.json(responseExample(MESSAGE_RESPONSE)),
    );
    const context = recordingContext();
    const items = [user('a'), assistant('b'), reasoning('openai', 'rs_unknown_here', 'gAAAA-y'), user('c')];
    await runtime().step(
      stepRequest({ items, remoteState: { remote: { responseId: 'resp_live' }, syncedCount: 2 } }),
      context,
    );

    expect(context.events).toEqual([]);
    expect(seen.map((request) => request.body.previous_response_id)).toEqual(['resp_live', 'resp_live']);
    expect(seen[1]!.body.input.map((item: { type: string }) => item.type)).toEqual(['message']);
  });
});
