import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { azureChat } from '../../../src/azure.js';
import { CloudhopError } from '../../../src/core/errors.js';
import { recordingContext, sseOf, stepRequest } from './chat-test-kit.js';

// A real socket rather than msw: when the SDK throws mid-stream it awaits the body's cancel,
// which msw's mocked bodies never settle.
const chunk = {
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'gpt-4o',
  choices: [{ index: 0, delta: { role: 'assistant', content: 'Hel' }, finish_reason: null }],
};
// OpenAI's mid-stream failure: an `error` envelope in place of a chunk.
const errorEvent = {
  error: {
    message: 'The server had an error while processing your request. Sorry about that!',
    type: 'server_error',
    param: null,
    code: null,
  },
};

const local = createServer((_, response) => {
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  response.end(sseOf([chunk, errorEvent]));
});
let endpoint = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(local.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => local.close(() => resolve())));

it('an error event inside the stream → provider_unavailable with the vendor message', async () => {
  const runtime = azureChat({ endpoint, deployment: 'gpt-4o', apiKey: 'local-test-key' });
  const context = recordingContext();
  const error = await runtime.step(stepRequest({ stream: true }), context).catch((e: unknown) => e);
  expect(context.deltas()).toEqual(['Hel']);
  expect(error).toBeInstanceOf(CloudhopError);
  expect(error).toMatchObject({ code: 'provider_unavailable', retryable: true });
  expect((error as Error).message).toContain('The server had an error');
});
