import {
  ConverseCommand,
  ConverseStreamCommand,
  InternalServerException,
  ServiceUnavailableException,
  ThrottlingException,
} from '@aws-sdk/client-bedrock-runtime';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CloudhopError } from '../../src/core/errors.js';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { AZURE_API_VERSION, azureClient, bedrockClient, openaiClient, post, readJson } from './helpers.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterEach(() => emu.faults.clear());
afterAll(() => emu.close());

const chat = (client: OpenAI) =>
  client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });

async function outcome(promise: Promise<unknown>): Promise<'ok' | number> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof OpenAI.APIError && error.status !== undefined) return error.status;
    throw error;
  }
}

describe('status faults', () => {
  it('answers 429 with retry-after and retry-after-ms in the OpenAI envelope', async () => {
    emu.faults.set({ route: 'chat', status: 429, retryAfterMs: 2500, count: 1 });
    const error = await chat(openaiClient(emu)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const rateLimit = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rateLimit.headers.get('retry-after')).toBe('3');
    expect(rateLimit.headers.get('retry-after-ms')).toBe('2500');
    expect(rateLimit.code).toBe('rate_limit_exceeded');
    // count: 1 is used up, so the next request goes through.
    expect(await outcome(chat(openaiClient(emu)))).toBe('ok');
  });

  it("answers 429 on Azure paths in Azure's shape, with a default retry delay", async () => {
    emu.faults.set({ route: 'chat', status: 429, count: 1 });
    const response = await post(
      emu,
      `/openai/deployments/d/chat/completions?api-version=${AZURE_API_VERSION}`,
      { messages: [{ role: 'user', content: 'hi' }] },
      { 'api-key': 'k' },
    );
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after-ms')).toBe('1000');
    expect(response.headers.get('retry-after')).toBe('1');
    const body = await readJson(response);
    expect(body.error.code).toBe('429');
    expect(body.error.message).toContain(`API version ${AZURE_API_VERSION}`);
    expect(body.error.message).toContain('Please retry after 1 seconds');
  });

  it('answers 500 and 503 through the clients', async () => {
    emu.faults.set({ route: 'responses', status: 500, count: 1 });
    const internal = await openaiClient(emu)
      .responses.create({ model: 'm', input: 'hi' })
      .catch((e: unknown) => e);
    expect(internal).toBeInstanceOf(OpenAI.InternalServerError);

    emu.faults.set({ route: 'chat', status: 503, count: 1 });
    expect(await outcome(chat(azureClient(emu)))).toBe(503);
  });

  it('answers Bedrock faults with the modeled exceptions', async () => {
    const client = bedrockClient(emu);
    const send = () =>
      client
        .send(new ConverseCommand({ modelId: 'm', messages: [{ role: 'user', content: [{ text: 'hi' }] }] }))
        .catch((e: unknown) => e);
    emu.faults.set([{ route: 'converse', status: 429, retryAfterMs: 1500, count: 1 }]);
    const throttled = await send();
    expect(throttled).toBeInstanceOf(ThrottlingException);
    expect((throttled as ThrottlingException).$response?.headers['retry-after-ms']).toBe('1500');
    emu.faults.set({ route: 'converse', status: 500, count: 1 });
    expect(await send()).toBeInstanceOf(InternalServerException);
    emu.faults.set({ route: 'converse', status: 503, count: 1 });
    expect(await send()).toBeInstanceOf(ServiceUnavailableException);
    client.destroy();
  });

  it('fails the next `count` requests, then recovers', async () => {
    emu.faults.set({ route: 'chat', status: 500, count: 2 });
    const client = openaiClient(emu);
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await outcome(chat(client)));
    expect(results).toEqual([500, 500, 'ok', 'ok']);
  });

  it('fails a `rate` share of requests, spread evenly so runs repeat', async () => {
    emu.faults.set({ route: 'chat', status: 503, rate: 0.5 });
    const client = openaiClient(emu);
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await outcome(chat(client)));
    expect(results).toEqual(['ok', 503, 'ok', 503, 'ok', 503]);

    emu.faults.set({ route: 'chat', status: 503, rate: 0 });
    expect(await outcome(chat(client))).toBe('ok');
  });

  it("only touches the fault's route, unless the route is '*'", async () => {
    emu.faults.set({ route: 'converse', status: 500 });
    expect(await outcome(chat(openaiClient(emu)))).toBe('ok');
    emu.faults.set({ route: '*', status: 500 });
    expect(await outcome(chat(openaiClient(emu)))).toBe(500);
    expect(await outcome(openaiClient(emu).conversations.create())).toBe(500);
  });
});

describe('latency, cut streams and dropped state', () => {
  it('delays the faulted route while other routes answer at once', async () => {
    emu.faults.set({ route: 'responses', latencyMs: 1500, count: 1 });
    const client = openaiClient(emu);
    let slowSettled = false;
    const slow = client.responses.create({ model: 'm', input: 'slow' }).finally(() => {
      slowSettled = true;
    });
    await chat(client);
    expect(slowSettled).toBe(false);
    expect((await slow).output_text).toBe('Echo: slow (context: 1 message)');
  });

  it('holds 20 requests under a latency fault at once without a MaxListenersExceededWarning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      emu.faults.set({ route: 'chat', latencyMs: 50 });
      const request = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] };
      const replies = await Promise.all(
        Array.from({ length: 20 }, () => post(emu, '/v1/chat/completions', request)),
      );
      expect(replies.map((reply) => reply.status)).toEqual(Array(20).fill(200));
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('cuts a chat stream after N chunks', async () => {
    emu.faults.set({ route: 'chat', cutAfterChunks: 2, count: 1 });
    const stream = await openaiClient(emu).chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'a long enough message to stream in many chunks' }],
      stream: true,
    });
    let received = 0;
    const error = await (async () => {
      for await (const _chunk of stream) received++;
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(received).toBeLessThanOrEqual(2);
  });

  it('cuts a Responses stream after N events, before response.completed', async () => {
    emu.faults.set({ route: 'responses', cutAfterChunks: 3, count: 1 });
    const stream = await openaiClient(emu).responses.create({
      model: 'm',
      input: 'cut me off',
      stream: true,
    });
    const types: string[] = [];
    const error = await (async () => {
      for await (const event of stream) types.push(event.type);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(types).not.toContain('response.completed');
  });

  it.each([
    ['HTTP/2', false],
    ['HTTP/1.1', true],
  ])('cuts a ConverseStream after N frames over %s', async (_label, http1) => {
    emu.faults.set({ route: 'converse-stream', cutAfterChunks: 2, count: 1 });
    const client = bedrockClient(emu, { http1 });
    const error = await (async () => {
      const response = await client.send(
        new ConverseStreamCommand({
          modelId: 'm',
          messages: [{ role: 'user', content: [{ text: 'stream that gets cut short' }] }],
        }),
      );
      const names: string[] = [];
      for await (const event of response.stream ?? []) names.push(Object.keys(event)[0]!);
      return names;
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    client.destroy();
  });

  it('drops stored responses, so a chain fails as if the server had expired it', async () => {
    const client = openaiClient(emu);
    const first = await client.responses.create({ model: 'm', input: 'My name is Ada.' });
    emu.faults.set({ route: 'responses', dropStored: true, count: 1 });
    const error = await client.responses
      .create({ model: 'm', input: 'What is my name?', previous_response_id: first.id })
      .catch((e: unknown) => e);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('previous_response_not_found');
  });
});

describe('fault control', () => {
  it('takes faults over HTTP without credentials, and clears them', async () => {
    const set = await fetch(`${emu.url}/_emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ route: 'chat', status: 503 }),
    });
    expect(set.status).toBe(200);
    expect((await readJson(set)).faults).toEqual([{ route: 'chat', status: 503 }]);
    expect(await outcome(chat(openaiClient(emu)))).toBe(503);

    const cleared = await fetch(`${emu.url}/_emulator/faults`, { method: 'DELETE' });
    expect(cleared.status).toBe(200);
    expect(await outcome(chat(openaiClient(emu)))).toBe('ok');
  });

  it('rejects a bad fault over HTTP with 400 and keeps the old ones', async () => {
    emu.faults.set({ route: 'chat', status: 500 });
    const response = await fetch(`${emu.url}/_emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ route: 'chat', status: 200, retryAfter: 5 }),
    });
    expect(response.status).toBe(400);
    expect((await readJson(response)).error.message).toContain('status');
    expect(emu.faults.list()).toEqual([{ route: 'chat', status: 500 }]);
  });

  it('throws invalid_config synchronously for a bad fault or option', async () => {
    expect(() => emu.faults.set({ route: 'chat', status: 500, count: 1, rate: 0.5 })).toThrow(CloudhopError);
    expect(() => emu.faults.set({ route: 'nowhere' as 'chat', status: 500 })).toThrow(/route/);
    expect(() => emu.faults.set({ route: 'chat' })).toThrow(/at least one/);
    let thrown: unknown;
    try {
      void startEmulator({ faults: [{ route: 'chat', status: 99 }] });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CloudhopError);
    expect((thrown as CloudhopError).code).toBe('invalid_config');
    expect((thrown as CloudhopError).message).toContain('faults[0].status');
  });

  it('starts with the faults given as options', async () => {
    const faulty = await startEmulator({ faults: [{ route: 'chat', status: 503, count: 1 }] });
    try {
      expect(await outcome(chat(openaiClient(faulty)))).toBe(503);
      expect(await outcome(chat(openaiClient(faulty)))).toBe('ok');
    } finally {
      await faulty.close();
    }
  });
});
