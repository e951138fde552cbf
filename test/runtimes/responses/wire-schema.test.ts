import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { summaryMessage } from '../../../src/agent/context-policy.js';
import { createItem, type Item, type MessageItem, type SummaryItem } from '../../../src/core/items.js';
import type { Runtime, StepRequest } from '../../../src/runtime/runtime.js';
import { azureResponses } from '../../../src/runtimes/responses/azure-responses.js';
import { frontier } from '../../../src/runtimes/responses/frontier.js';
import { openaiResponses } from '../../../src/runtimes/responses/openai-responses.js';
import { vendorText } from '../../helpers/fixtures.js';
import { vendorSchema } from '../../helpers/vendor-schema.js';
import {
  assistant,
  errorBody,
  FUNCTION_CALL_RESPONSE,
  OPENAI_URL,
  previousResponseNotFound,
  reasoning,
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

/** The request schemas of OpenAI's published OpenAPI document (source: see test/fixtures/vendor/specs/README.md). */
const spec = vendorSchema(
  new URL(
    '../../fixtures/vendor/specs/openai-openapi.responses-chat-conversations.extract.json',
    import.meta.url,
  ),
);

const AZURE = 'https://myres.openai.azure.com/openai/v1';
const MANTLE = 'https://bedrock-mantle.us-east-1.api.aws/v1';

const seen: SeenRequest[] = [];
let conversations = 0;
const server = setupServer(
  ...[OPENAI_URL, AZURE, MANTLE].flatMap((base) => [
    http.post(`${base}/conversations`, async ({ request }) => {
      await record(request, seen);
      conversations++;
      return HttpResponse.json({
        id: `conv_${conversations}`,
        object: 'conversation',
        created_at: 1741900000,
        metadata: {},
      });
    }),
    http.post(`${base}/responses`, async ({ request }) => {
      await record(request, seen);
      const body = seen.at(-1)!.body;
      if (body.previous_response_id === 'resp_gone') return previousResponseNotFound('resp_gone');
      if (body.conversation === 'conv_gone') {
        return errorBody(404, {
          message: "Conversation with id 'conv_gone' not found.",
          param: 'conversation',
        });
      }
      if (body.stream) return sse(vendorText('responses-stream.recorded-openai-function-call.txt'));
      return HttpResponse.json(responseExample(FUNCTION_CALL_RESPONSE));
    }),
  ]),
);

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  seen.length = 0;
  conversations = 0;
});
afterAll(() => server.close());

/** Which request schema of the spec a captured request must fit. */
function definitionFor(request: SeenRequest): string {
  const path = request.url.pathname;
  if (path.endsWith('/responses')) return 'CreateResponse';
  if (path.endsWith('/conversations')) return 'CreateConversationBody';
  throw new Error(`no request schema for ${path}`);
}

/** Every body the runtime sent this test fits the spec; returns the schemas they were checked against. */
function expectEveryBodyToFitTheSpec(): string[] {
  expect(seen.length).toBeGreaterThan(0);
  return seen.map((request) => {
    const definition = definitionFor(request);
    expect({ definition, errors: spec.errors(definition, request.body) }).toEqual({ definition, errors: [] });
    return definition;
  });
}

/** A call id issued by another provider, longer than the 64 characters a Responses call_id may have. */
const FOREIGN_CALL_ID = `toolu_bdrk_${'01QPMcZk8xW3vJpLr9T2aE6u'.repeat(3)}`;

const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' } },
    required: ['city'],
    additionalProperties: false,
  },
};

/** What a moved, compacted session carries: every item kind, written by other runtimes too. */
function movedSession(family: string): Item[] {
  const summary = createItem<SummaryItem>({
    type: 'summary',
    text: 'The user is called Ada and plans a trip to Paris.',
    covers: { fromVersion: 0, toVersion: 12 },
  });
  return [
    summaryMessage(summary),
    createItem<MessageItem>({
      type: 'message',
      role: 'user',
      content: [
        { type: 'text', text: 'What is on these pictures?' },
        {
          type: 'image',
          mediaType: 'image/png',
          data: 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==',
        },
        {
          type: 'image',
          mediaType: 'image/jpeg',
          url: 'https://upload.wikimedia.org/wikipedia/commons/a/a8/Tour_Eiffel.jpg',
        },
      ],
    }),
    reasoning(family, 'rs_67ca09c5efe0819096d0511c92b8c890096610f474011cc0', 'gAAAAABoreasoning'),
    reasoning('aws-bedrock-converse', 'not-an-rs-id', 'signature-from-bedrock'),
    createItem<MessageItem>({
      type: 'message',
      role: 'assistant',
      content: [
        { type: 'text', text: 'The first shows a pixel; ' },
        { type: 'text', text: 'the second, the Eiffel Tower.' },
      ],
    }),
    user('Weather in Paris and in Lyon?'),
    toolCall(FOREIGN_CALL_ID, 'get_weather', { city: 'Paris' }),
    toolCall('call_unLAR8MvFNptuiZK6K6HCy5k', 'get_weather', { city: 'Lyon' }),
    toolResult(FOREIGN_CALL_ID, { city: 'Paris', tempC: 21 }),
    toolResult('call_unLAR8MvFNptuiZK6K6HCy5k', { city: 'Lyon', tempC: 24 }),
    assistant('21 °C in Paris, 24 °C in Lyon.'),
    user('Answer as JSON: which city is warmer?'),
  ];
}

const CITY_ANSWER = {
  name: 'city_answer',
  schema: {
    type: 'object',
    properties: { city: { type: 'string' } },
    required: ['city'],
    additionalProperties: false,
  },
};

const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wire-schema-test-secret' };

const runtimes: Array<[string, string, (state?: 'conversation') => Runtime]> = [
  [
    'openaiResponses',
    'openai',
    (state) => openaiResponses({ apiKey: 'sk-test-wire-schema', model: 'gpt-5.4', ...(state && { state }) }),
  ],
  [
    'azureResponses',
    'azure-openai',
    (state) =>
      azureResponses({
        endpoint: 'https://myres.openai.azure.com',
        apiKey: 'azure-wire-schema',
        model: 'gpt-5.1',
        ...(state && { state }),
      }),
  ],
  [
    'frontier',
    'aws-bedrock-openai',
    (state) =>
      frontier({ region: 'us-east-1', model: 'openai.gpt-5.4', credentials, ...(state && { state }) }),
  ],
];

describe.each(runtimes)('%s request bodies fit the OpenAI OpenAPI schema', (_name, family, makeRuntime) => {
  const moved = (overrides: Partial<StepRequest> = {}) =>
    stepRequest({
      instructions: 'You are a helpful assistant.',
      items: movedSession(family),
      tools: [WEATHER_TOOL],
      output: CITY_ANSWER,
      ...overrides,
    });

  it('a new remote session seeded with a moved, compacted session of every item kind', async () => {
    await makeRuntime().step(moved(), recordingContext());
    expect(expectEveryBodyToFitTheSpec()).toEqual(['CreateResponse']);
    const input = seen[0]!.body.input;
    expect(input.map((item: { type: string; role?: string }) => item.role ?? item.type)).toEqual([
      'system',
      'user',
      'reasoning',
      'assistant',
      'user',
      'function_call',
      'function_call',
      'function_call_output',
      'function_call_output',
      'assistant',
      'user',
    ]);
  });

  it('a streamed step chained with previous_response_id, carrying tool results', async () => {
    const items = movedSession(family);
    await makeRuntime().step(
      moved({ stream: true, remoteState: { remote: { responseId: 'resp_earlier' }, syncedCount: 8 } }),
      recordingContext(),
    );
    expect(expectEveryBodyToFitTheSpec()).toEqual(['CreateResponse']);
    expect(seen[0]!.body).toMatchObject({ previous_response_id: 'resp_earlier', stream: true });
    expect(seen[0]!.body.input).toHaveLength(items.length - 8);
  });

  it('the reseed after the stored response is gone', async () => {
    const context = recordingContext();
    await makeRuntime().step(
      moved({
        remoteState: { remote: { responseId: 'resp_gone' }, syncedCount: 10 },
        reseedItems: async () => movedSession(family),
      }),
      context,
    );
    expect(context.events.map((event) => event.type)).toEqual(['session-reseeded']);
    expect(expectEveryBodyToFitTheSpec()).toEqual(['CreateResponse', 'CreateResponse']);
  });

  it('conversation mode: the conversation, the responses in it, and the reseed into a new one', async () => {
    const runtime = makeRuntime('conversation');
    const first = await runtime.step(moved(), recordingContext());
    await runtime.step(
      moved({ remoteState: { remote: first.remote!, syncedCount: 10 } }),
      recordingContext(),
    );
    await runtime.step(
      moved({
        remoteState: { remote: { conversationId: 'conv_gone' }, syncedCount: 10 },
        reseedItems: async () => movedSession(family),
      }),
      recordingContext(),
    );
    expect(expectEveryBodyToFitTheSpec()).toEqual([
      'CreateConversationBody',
      'CreateResponse',
      'CreateResponse',
      'CreateResponse',
      'CreateConversationBody',
      'CreateResponse',
    ]);
  });
});

describe(`the schema check (${spec.source.split(' (')[0]})`, () => {
  it('refuses what the Responses API refuses: assistant output parts without id and status, a call_id over 64', () => {
    const outputText = { type: 'output_text', text: 'Hello Ada.', annotations: [], logprobs: [] };
    const assistantWithoutId = { type: 'message', role: 'assistant', content: [outputText] };
    const longCallOutput = { type: 'function_call_output', call_id: FOREIGN_CALL_ID, output: '{}' };
    for (const item of [assistantWithoutId, longCallOutput]) {
      expect(spec.errors('CreateResponse', { model: 'gpt-5.4', input: [item] })).not.toEqual([]);
    }
    // The same message as the server returned it, with its id and status, is an input item it takes.
    const outputMessage = {
      ...assistantWithoutId,
      id: 'msg_67ccd3acc8d48190a77525dc6de64b4104becb25c2f8ba74',
      status: 'completed',
    };
    expect(spec.errors('CreateResponse', { model: 'gpt-5.4', input: [outputMessage] })).toEqual([]);
  });
});
