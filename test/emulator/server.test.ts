import http from 'node:http';
import http2 from 'node:http2';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudhopError } from '../../src/core/errors.js';
import {
  type Emulator,
  type EmulatorContext,
  type EmulatorOptions,
  startEmulator,
} from '../../src/emulator/index.js';
import { bedrockClient, openaiClient, post, readJson, weatherTool } from './helpers.js';

describe('stats and recorded requests', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator();
  });
  afterAll(() => emu.close());

  it('counts requests and body bytes per route, over the API and over HTTP without credentials', async () => {
    const chatBody = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'count me' }] });
    await post(emu, '/v1/chat/completions', chatBody);
    await post(emu, '/v1/chat/completions', chatBody);
    const responsesBody = JSON.stringify({ model: 'm', input: 'and me' });
    await post(emu, '/v1/responses', responsesBody);

    const stats = emu.stats();
    expect(stats.routes.chat).toEqual({ requests: 2, bytesIn: 2 * Buffer.byteLength(chatBody) });
    expect(stats.routes.responses).toEqual({ requests: 1, bytesIn: Buffer.byteLength(responsesBody) });
    expect(stats.routes.converse).toEqual({ requests: 0, bytesIn: 0 });

    const overHttp = await fetch(`${emu.url}/_emulator/stats`);
    expect(overHttp.status).toBe(200);
    expect(await readJson(overHttp)).toEqual(stats);
  });

  it('keeps the last requests with their parsed bodies, oldest first', async () => {
    await post(emu, '/v1/responses', { model: 'm', input: 'first' });
    await post(emu, '/model/m/converse', { messages: [{ role: 'user', content: [{ text: 'second' }] }] });
    const [first, second] = emu.requests(2);
    expect(first).toMatchObject({ route: 'responses', body: { model: 'm', input: 'first' } });
    expect(second!.route).toBe('converse');
    expect(second!.bytesIn).toBe(
      Buffer.byteLength(JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'second' }] }] })),
    );

    const overHttp = await fetch(`${emu.url}/_emulator/requests?limit=1`);
    expect(await readJson(overHttp)).toEqual([second]);
    expect((await fetch(`${emu.url}/_emulator/requests?limit=-1`)).status).toBe(400);
  });

  it('never records credentials', async () => {
    const plantedKey = 'sk-planted-secret-0123456789';
    await openaiClient(emu, plantedKey).chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'hello' }],
    });
    const everything = JSON.stringify([emu.requests(), emu.stats()]);
    expect(everything).not.toContain(plantedKey);
    const overHttp = await (await fetch(`${emu.url}/_emulator/requests`)).text();
    expect(overHttp).not.toContain(plantedKey);
  });
});

describe('expiry', () => {
  it('forgets stored responses and conversations after expireAfterMs', async () => {
    const emu = await startEmulator({ expireAfterMs: 200 });
    try {
      const client = openaiClient(emu);
      const response = await client.responses.create({ model: 'm', input: 'My name is Ada.' });
      const conversation = await client.conversations.create();
      await sleep(400);
      const chained = await client.responses
        .create({ model: 'm', input: 'What is my name?', previous_response_id: response.id })
        .catch((e: unknown) => e);
      expect((chained as InstanceType<typeof OpenAI.BadRequestError>).code).toBe(
        'previous_response_not_found',
      );
      const retrieved = await client.conversations.retrieve(conversation.id).catch((e: unknown) => e);
      expect((retrieved as InstanceType<typeof OpenAI.NotFoundError>).status).toBe(404);
    } finally {
      await emu.close();
    }
  });
});

describe('the respond hook', () => {
  it('scripts replies for every protocol and sees the whole context', async () => {
    const seen: EmulatorContext[] = [];
    const emu = await startEmulator({
      respond: (context) => {
        seen.push(context);
        const last = context.entries.at(-1);
        if (last?.type === 'message' && last.text === 'weather please') {
          return { toolCalls: [{ name: 'get_weather', arguments: { city: 'Nice', unit: 'celsius' } }] };
        }
        if (last?.type === 'message' && last.text === 'default please') return undefined;
        return `scripted for ${context.protocol}`;
      },
    });
    try {
      const client = openaiClient(emu);
      const chat = await client.chat.completions.create({
        model: 'm',
        messages: [
          { role: 'system', content: 'sys' },
          { role: 'user', content: 'hi' },
        ],
      });
      expect(chat.choices[0]!.message.content).toBe('scripted for chat');
      expect(seen[0]!.entries).toEqual([
        { type: 'message', role: 'system', text: 'sys' },
        { type: 'message', role: 'user', text: 'hi' },
      ]);

      const first = await client.responses.create({ model: 'm', input: 'hello', instructions: 'be kind' });
      const second = await client.responses.create({
        model: 'm',
        input: 'again',
        previous_response_id: first.id,
      });
      expect(second.output_text).toBe('scripted for responses');
      expect(seen.at(-1)!.stateful).toBe(true);
      expect(
        seen.at(-1)!.entries.map((entry) => (entry.type === 'message' ? entry.text : entry.type)),
      ).toEqual(['hello', 'scripted for responses', 'again']);

      const tools = await client.responses.create({
        model: 'm',
        input: 'weather please',
        tools: [{ type: 'function', strict: true, ...weatherTool }],
      });
      expect(tools.output[0]).toMatchObject({ type: 'function_call', name: 'get_weather' });
      expect(seen.at(-1)!.tools[0]!.name).toBe('get_weather');

      const fallback = await client.responses.create({ model: 'm', input: 'default please' });
      expect(fallback.output_text).toBe('Echo: default please (context: 1 message)');

      const bedrock = bedrockClient(emu);
      const converse = await bedrock.send(
        new ConverseCommand({ modelId: 'm', messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
      );
      expect(converse.output?.message?.content?.[0]?.text).toBe('scripted for converse');
      bedrock.destroy();
    } finally {
      await emu.close();
    }
  });

  it('answers a throwing hook with a 500 in the vendor envelope and keeps serving', async () => {
    const emu = await startEmulator({
      respond: (context) => {
        if (context.entries.at(-1)?.type === 'message') throw new Error('hook exploded');
        return undefined;
      },
    });
    try {
      const response = await post(emu, '/v1/responses', { model: 'm', input: 'boom' });
      expect(response.status).toBe(500);
      expect((await readJson(response)).error.message).toContain('hook exploded');
      expect((await fetch(`${emu.url}/_emulator/stats`)).status).toBe(200);
    } finally {
      await emu.close();
    }
  });
});

describe('the server', () => {
  it('binds 127.0.0.1 by default and exposes the endpoints each client needs', async () => {
    const emu = await startEmulator();
    try {
      expect(emu.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(emu.azureEndpoint).toBe(emu.url);
      expect(emu.openaiBaseURL).toBe(`${emu.url}/v1`);
      expect(emu.bedrockEndpoint).toBe(emu.url);
    } finally {
      await emu.close();
    }
  });

  it('speaks HTTP/2 cleartext on the same port', async () => {
    const emu = await startEmulator();
    const session = http2.connect(emu.url);
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const request = session.request({
          ':method': 'POST',
          ':path': '/v1/responses',
          authorization: 'Bearer k',
          'content-type': 'application/json',
        });
        let text = '';
        request.setEncoding('utf8');
        request.on('data', (chunk: string) => {
          text += chunk;
        });
        request.on('end', () => resolve(text));
        request.on('error', reject);
        request.end(JSON.stringify({ model: 'm', input: 'over h2c' }));
      });
      expect(JSON.parse(body).output[0].content[0].text).toBe('Echo: over h2c (context: 1 message)');
    } finally {
      session.close();
      await emu.close();
    }
  });

  it('closes promptly with keep-alive connections and HTTP/2 sessions still open', async () => {
    const emu = await startEmulator();
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      http
        .get(`${emu.url}/_emulator/stats`, { agent }, (res) => res.resume().on('end', resolve))
        .on('error', reject);
    });
    const session = http2.connect(emu.url);
    await new Promise<void>((resolve) => session.once('connect', () => resolve()));
    const sessionClosed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    await emu.close();
    await sessionClosed;
    await emu.close();
    agent.destroy();
  });

  it('ends in-flight delayed requests when it closes', async () => {
    const emu = await startEmulator({ faults: [{ route: 'chat', latencyMs: 60_000 }] });
    const pending = openaiClient(emu)
      .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    await sleep(100);
    await emu.close();
    expect(await pending).toBeInstanceOf(OpenAI.APIConnectionError);
  });

  it('rejects bad options synchronously with invalid_config', () => {
    const attempt = (options: unknown) => {
      try {
        void startEmulator(options as EmulatorOptions);
        return undefined;
      } catch (error) {
        return error;
      }
    };
    for (const options of [
      { port: -1 },
      { port: 1.5 },
      { host: '' },
      { expireAfterMs: 0 },
      { respond: 'no' },
      { prot: 1 },
    ]) {
      const error = attempt(options);
      expect(error, JSON.stringify(options)).toBeInstanceOf(CloudhopError);
      expect((error as CloudhopError).code).toBe('invalid_config');
    }
    expect((attempt({ port: 70000 }) as CloudhopError).message).toMatch(/^port: /);
  });
});
