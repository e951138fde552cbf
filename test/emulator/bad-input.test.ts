import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { AZURE_API_VERSION, BEARER, openaiClient, post, readJson } from './helpers.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(() => emu.close());

const AZURE_CHAT = `/openai/deployments/d/chat/completions?api-version=${AZURE_API_VERSION}`;
const BEDROCK_ERROR_TYPE = 'ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/';

type Case = [path: string, body: unknown];

const openaiStyle: Case[] = [
  ['/v1/chat/completions', '{"model": "m", "messages": ['],
  ['/v1/chat/completions', 'not json at all'],
  ['/v1/chat/completions', ''],
  ['/v1/chat/completions', '[]'],
  ['/v1/chat/completions', 'null'],
  ['/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }] }],
  ['/v1/chat/completions', { model: 'm' }],
  ['/v1/chat/completions', { model: 'm', messages: [] }],
  ['/v1/chat/completions', { model: 'm', messages: 'hi' }],
  ['/v1/chat/completions', { model: 42, messages: [{ role: 'user', content: 'hi' }] }],
  ['/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 42 }] }],
  ['/v1/chat/completions', { model: 'm', messages: [{ role: 'wizard', content: 'hi' }] }],
  ['/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: 'yes' }],
  [
    '/v1/chat/completions',
    { model: 'm', messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function' }] },
  ],
  [AZURE_CHAT, '{oops'],
  [AZURE_CHAT, { messages: [{ role: 'tool', content: 'no call id' }] }],
  [AZURE_CHAT, { messages: null }],
  ['/v1/responses', '{"model":'],
  ['/v1/responses', { input: 'hi' }],
  ['/v1/responses', { model: 'm' }],
  ['/v1/responses', { model: 'm', input: 42 }],
  ['/v1/responses', { model: 'm', input: [{ type: 'function_call', name: 'x' }] }],
  ['/v1/responses', { model: 'm', input: 'hi', store: 'yes' }],
  ['/v1/responses', { model: 'm', input: 'hi', text: { format: { type: 'json_schema' } } }],
  ['/v1/conversations', { items: 'nope' }],
  ['/v1/conversations', { items: Array.from({ length: 21 }, () => ({ role: 'user', content: 'x' })) }],
];

const bedrockStyle: Case[] = [
  ['/model/m/converse', '{"messages": ['],
  ['/model/m/converse', ''],
  ['/model/m/converse', {}],
  ['/model/m/converse', { messages: [] }],
  ['/model/m/converse', { messages: [{ role: 'user', content: 'hi' }] }],
  ['/model/m/converse', { messages: [{ role: 'user', content: [{ text: 1 }] }] }],
  ['/model/m/converse', { messages: [{ role: 'robot', content: [{ text: 'hi' }] }] }],
  ['/model/m/converse', { messages: [{ role: 'user', content: [{ text: 'a', image: {} }] }] }],
  ['/model/m/converse-stream', { messages: [{ role: 'assistant', content: [{ text: 'hi' }] }] }],
  ['/model/m/converse-stream', 'garbage'],
];

describe('malformed requests', () => {
  it(`answers ${openaiStyle.length + bedrockStyle.length} malformed requests with 400 in each vendor's envelope, and keeps serving`, async () => {
    expect(openaiStyle.length + bedrockStyle.length).toBeGreaterThanOrEqual(30);
    for (const [path, body] of openaiStyle) {
      const response = await post(emu, path, body, path.startsWith('/openai/') ? { 'api-key': 'k' } : BEARER);
      expect(response.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      const envelope = await readJson(response);
      expect(Object.keys(envelope.error).sort(), JSON.stringify(envelope)).toEqual([
        'code',
        'message',
        'param',
        'type',
      ]);
      expect(envelope.error.type).toBe('invalid_request_error');
    }
    for (const [path, body] of bedrockStyle) {
      const response = await post(emu, path, body);
      expect(response.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(response.headers.get('x-amzn-errortype')).toBe(BEDROCK_ERROR_TYPE);
      const envelope = await readJson(response);
      expect(Object.keys(envelope)).toEqual(['message']);
    }
    const after = await openaiClient(emu).chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'still there?' }],
    });
    expect(after.choices[0]!.message.content).toBe('Echo: still there? (context: 1 message)');
  });

  it('names the missing parameter the way OpenAI does', async () => {
    const response = await post(emu, '/v1/responses', { model: 'm' });
    expect(await readJson(response)).toEqual({
      error: {
        message: "Missing required parameter: 'input'.",
        type: 'invalid_request_error',
        param: 'input',
        code: 'missing_required_parameter',
      },
    });
  });

  it('survives garbage that is not HTTP at all', async () => {
    await new Promise<void>((resolve) => {
      const socket = net.connect(Number(new URL(emu.url).port), '127.0.0.1', () => {
        socket.write('\x16\x03\x01 this is not http\r\n\r\n');
      });
      socket.on('data', () => {});
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
    });
    const response = await fetch(`${emu.url}/_emulator/stats`);
    expect(response.status).toBe(200);
  });
});

describe('size limits, unknown routes and credentials', () => {
  it('answers a body over 10 MB with 413 and keeps serving', async () => {
    const big = JSON.stringify({ model: 'm', input: 'x'.repeat(10 * 1024 * 1024 + 10) });
    const response = await post(emu, '/v1/responses', big);
    expect(response.status).toBe(413);
    expect((await readJson(response)).error.code).toBe('request_too_large');
    const bedrock = await post(emu, '/model/m/converse', big);
    expect(bedrock.status).toBe(413);
    expect(bedrock.headers.get('x-amzn-errortype')).toBe(BEDROCK_ERROR_TYPE);
    expect((await post(emu, '/v1/responses', { model: 'm', input: 'small' })).status).toBe(200);
  });

  it("answers unknown routes with 404 in the path's vendor shape", async () => {
    const openai = await post(emu, '/v1/completions-of-the-future', {});
    expect(openai.status).toBe(404);
    expect((await readJson(openai)).error.message).toBe('Invalid URL (POST /v1/completions-of-the-future)');

    const azure = await post(emu, `/openai/deployments/d/embeddings?api-version=${AZURE_API_VERSION}`, {});
    expect(azure.status).toBe(404);
    expect(await readJson(azure)).toEqual({ error: { code: '404', message: 'Resource not found' } });

    const bedrock = await post(emu, '/model/m/invoke', {});
    expect(bedrock.status).toBe(404);
    expect(bedrock.headers.get('x-amzn-errortype')).toMatch(/^UnknownOperationException:/);

    const wrongMethod = await fetch(`${emu.url}/v1/chat/completions`, { headers: BEARER });
    expect(wrongMethod.status).toBe(404);
  });

  it("answers a request without credentials with each vendor's 401 shape", async () => {
    const openai = await post(emu, '/v1/chat/completions', { model: 'm', messages: [] }, {});
    expect(openai.status).toBe(401);
    expect((await readJson(openai)).error).toMatchObject({
      type: 'invalid_request_error',
      code: 'invalid_api_key',
    });

    const azure = await post(emu, AZURE_CHAT, { messages: [] }, {});
    expect(azure.status).toBe(401);
    const azureBody = await readJson(azure);
    expect(azureBody.error.code).toBe('401');
    expect(azureBody.error.message).toMatch(
      /^Access denied due to invalid subscription key or wrong API endpoint/,
    );

    const bedrock = await post(emu, '/model/m/converse', { messages: [] }, {});
    expect(bedrock.status).toBe(403);
    expect(bedrock.headers.get('x-amzn-errortype')).toMatch(/^UnrecognizedClientException:/);

    const emptyKey = await post(emu, '/v1/responses', { model: 'm', input: 'hi' }, { 'api-key': '' });
    expect(emptyKey.status).toBe(401);
  });

  it('accepts an api-key header, a bearer token or a SigV4 Authorization header', async () => {
    const body = { model: 'm', input: 'hi' };
    const accepted: Array<Record<string, string>> = [
      { 'api-key': 'k' },
      { authorization: 'Bearer some-token' },
      {
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/bedrock/aws4_request, Signature=abc',
      },
    ];
    for (const headers of accepted) {
      expect((await post(emu, '/v1/responses', body, headers)).status).toBe(200);
    }
  });
});
