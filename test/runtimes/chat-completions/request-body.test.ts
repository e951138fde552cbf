import { HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { azureChat } from '../../../src/azure.js';
import {
  createItem,
  type Item,
  type MessageItem,
  type ReasoningItem,
  type ToolCallItem,
  type ToolResultItem,
} from '../../../src/core/items.js';
import type { StepRequest } from '../../../src/runtime/runtime.js';
import {
  AZURE_DEPLOYMENT_URL,
  AZURE_ENDPOINT,
  recordingContext,
  recordingServer,
  stepRequest,
  user,
  vendorExample,
} from './chat-test-kit.js';

const { seen, answerWith } = recordingServer();

/** Sends `request` through azureChat and returns the JSON body the server received. */
async function sentBody(request: StepRequest): Promise<any> {
  answerWith(AZURE_DEPLOYMENT_URL, () =>
    HttpResponse.json(vendorExample('azure-chat-completion.json', 'ms-docs-o1-preview-output')),
  );
  const runtime = azureChat({ endpoint: AZURE_ENDPOINT, deployment: 'gpt-4o', apiKey: 'body-test-key' });
  await runtime.step(request, recordingContext());
  return seen[0]!.body;
}

const message = (role: MessageItem['role'], content: MessageItem['content']) =>
  createItem<MessageItem>({ type: 'message', role, content });
const call = (callId: string, name: string, args: unknown) =>
  createItem<ToolCallItem>({ type: 'tool_call', callId, name, arguments: JSON.stringify(args) });
const result = (callId: string, output: string, isError?: boolean) =>
  createItem<ToolResultItem>({ type: 'tool_result', callId, output, ...(isError ? { isError } : {}) });
const reasoning = (family: string) =>
  createItem<ReasoningItem>({
    type: 'reasoning',
    summary: 'Thinking about the weather',
    provider: { family, data: { encrypted_content: 'gAAAAB-opaque' } },
  });

describe('chat request body', () => {
  it('maps a whole transcript: instructions, text, images, merged tool calls, results; reasoning is dropped', async () => {
    const items: Item[] = [
      message('system', [{ type: 'text', text: 'Answer in French.' }]),
      user('Hi, I am Ada.'),
      message('user', [
        { type: 'text', text: 'What is in these pictures?' },
        { type: 'image', mediaType: 'image/png', data: 'iVBORw0KGgo=' },
        { type: 'image', mediaType: 'image/jpeg', url: 'https://example.com/cat.jpg' },
      ]),
      message('assistant', [{ type: 'text', text: 'A cat. Let me check the weather too.' }]),
      reasoning('azure-openai'),
      call('call_paris', 'get_weather', { city: 'Paris' }),
      call('tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', 'get_weather', { city: 'Oslo' }),
      result('call_paris', '{"tempC":21}'),
      result('tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', 'Weather service down', true),
      reasoning('openai'),
      call('call_retry', 'get_weather', { city: 'Oslo' }),
      result('call_retry', '{"tempC":4}'),
      message('assistant', [{ type: 'text', text: 'Paris 21 °C, Oslo 4 °C.' }]),
      user('Thanks!'),
    ];
    const body = await sentBody(stepRequest({ items, instructions: 'You are a helpful assistant.' }));
    expect(body.messages).toEqual([
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'system', content: 'Answer in French.' },
      { role: 'user', content: 'Hi, I am Ada.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these pictures?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
        ],
      },
      {
        role: 'assistant',
        content: 'A cat. Let me check the weather too.',
        tool_calls: [
          {
            id: 'call_paris',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
          {
            id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_paris', content: '{"tempC":21}' },
      { role: 'tool', tool_call_id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', content: 'Weather service down' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_retry',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_retry', content: '{"tempC":4}' },
      { role: 'assistant', content: 'Paris 21 °C, Oslo 4 °C.' },
      { role: 'user', content: 'Thanks!' },
    ]);
    expect(JSON.stringify(body)).not.toContain('encrypted_content');
    expect(body.tools).toBeUndefined();
    expect(body.response_format).toBeUndefined();
  });

  it('sends no system message when there are no instructions', async () => {
    const body = await sentBody(stepRequest());
    expect(body.messages).toEqual([{ role: 'user', content: 'Hello' }]);
  });

  it('offers tools as functions and asks for structured output with a non-strict json_schema', async () => {
    const parameters = {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
      additionalProperties: false,
    };
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const body = await sentBody(
      stepRequest({
        tools: [
          { name: 'get_weather', description: 'Current weather for a city', parameters },
          { name: 'now', parameters: { type: 'object', properties: {} } },
        ],
        output: { name: 'city answer', schema },
      }),
    );
    expect(body.tools).toEqual([
      {
        type: 'function',
        function: { name: 'get_weather', description: 'Current weather for a city', parameters },
      },
      { type: 'function', function: { name: 'now', parameters: { type: 'object', properties: {} } } },
    ]);
    expect(body.response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'city_answer', schema, strict: false },
    });
  });

  it('reports the bytes of the body it sent', async () => {
    const items = [user('ü'.repeat(1000))];
    answerWith(AZURE_DEPLOYMENT_URL, () =>
      HttpResponse.json(vendorExample('azure-chat-completion.json', 'ms-docs-o1-preview-output')),
    );
    const runtime = azureChat({ endpoint: AZURE_ENDPOINT, deployment: 'gpt-4o', apiKey: 'body-test-key' });
    const { usage } = await runtime.step(stepRequest({ items }), recordingContext());
    expect(usage.requestBytes).toBe(seen[0]!.bytes);
    expect(usage.requestBytes).toBeGreaterThan(2000);
  });
});
