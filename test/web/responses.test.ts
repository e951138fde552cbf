// agent.stream() as web responses: the text stream, cloudhop's events as SSE, the AI SDK's UI message
// stream (read back by the AI SDK itself in ai-sdk.test.ts), piping to node:http, and what happens
// when the client goes away: the turn is aborted and nothing is committed.
import { once } from 'node:events';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type AgentStream, CloudhopError, toUIMessages } from '../../src/index.js';
import {
  asJson,
  BLOCKING_SCRIPT,
  blockingTool,
  PNG_DATA_URL,
  readUntil,
  scriptedAgent,
  sseMessages,
  TOOL_SCRIPT,
  uiChunks,
  v1Transcript,
  v2Transcript,
  weather,
} from './helpers.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A node:http server whose every request is answered by `handle`. */
async function serve(
  handle: (res: ServerResponse, req: IncomingMessage) => void | Promise<void>,
): Promise<string> {
  const server = createServer((req, res) => void handle(res, req));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('toUIMessageStreamResponse', () => {
  it('answers 200 with the UI message stream headers, and the turn as start, steps, text, tools, finish, [DONE]', async () => {
    const { agent } = scriptedAgent(TOOL_SCRIPT);
    const stream = agent.stream('Weather in Paris?', { session: 'ui-1' });
    const response = stream.toUIMessageStreamResponse();

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const chunks = uiChunks(await response.text());
    const result = await stream.result;

    expect(chunks[0]).toEqual({ type: 'start', messageId: expect.any(String) });
    expect(chunks.at(-1)).toBe('[DONE]');
    // Every text-delta sits in a text part of its own step; the steps are as the AI SDK's would be.
    const shape = chunks.slice(1, -1).map((chunk) => (chunk.type === 'text-delta' ? 'delta' : chunk.type));
    const collapsed = shape.filter((type, i) => type !== 'delta' || shape[i - 1] !== 'delta');
    expect(collapsed).toEqual([
      'start-step',
      'text-start',
      'delta',
      'text-end',
      'tool-input-available',
      'tool-output-available',
      'finish-step',
      'start-step',
      'text-start',
      'delta',
      'text-end',
      'finish-step',
      'finish',
    ]);
    const textOf = (id: string) =>
      chunks
        .filter((chunk) => chunk.type === 'text-delta' && chunk.id === id)
        .map((chunk) => chunk.delta)
        .join('');
    const [first, second] = chunks.filter((chunk) => chunk.type === 'text-start').map((chunk) => chunk.id);
    expect(first).not.toBe(second);
    expect(textOf(first)).toBe('Let me check.');
    expect(textOf(second)).toBe('It is 21 degrees in Paris.');
    expect(chunks.find((chunk) => chunk.type === 'tool-input-available')).toEqual({
      type: 'tool-input-available',
      toolCallId: 'call_1',
      toolName: 'get_weather',
      input: { city: 'Paris' },
    });
    expect(chunks.find((chunk) => chunk.type === 'tool-output-available')).toEqual({
      type: 'tool-output-available',
      toolCallId: 'call_1',
      output: { city: 'Paris', tempC: 21, sky: 'clear' },
    });
    expect(chunks.at(-2)).toEqual({
      type: 'finish',
      finishReason: 'stop',
      messageMetadata: { runtimeId: 'scripted', sessionVersion: result.sessionVersion, usage: result.usage },
    });
    expect(await agent.session('ui-1').version()).toBe(5);
  });

  it('keeps the status and headers of init, the protocol headers filling in the rest', async () => {
    const { agent } = scriptedAgent(['Hello.']);
    const response = agent.stream('Hi', { session: 'ui-init' }).toUIMessageStreamResponse({
      status: 201,
      statusText: 'Created',
      headers: { 'x-chat': 'ui-init', 'cache-control': 'no-store' },
    });
    expect(response.status).toBe(201);
    expect(response.statusText).toBe('Created');
    expect(response.headers.get('x-chat')).toBe('ui-init');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');
    expect(uiChunks(await response.text()).at(-1)).toBe('[DONE]');
  });

  it('ends a failed turn with an error chunk that names only the code, unless onError says more', async () => {
    const failure = () =>
      new CloudhopError('provider_error', 'Upstream 10.0.0.7:8443 refused deployment gpt-internal', {
        retryable: false,
      });
    const { agent } = scriptedAgent([
      TOOL_SCRIPT[0]!,
      { error: failure() },
      TOOL_SCRIPT[0]!,
      { error: failure() },
    ]);

    const masked = agent.stream('Weather?', { session: 'ui-fail' }).toUIMessageStreamResponse();
    const body = await masked.text();
    const chunks = uiChunks(body);
    expect(body).not.toContain('10.0.0.7');
    expect(chunks.slice(-2)).toEqual([
      { type: 'error', errorText: 'An error occurred (provider_error).' },
      '[DONE]',
    ]);
    // What came before the failure stays: the first step's text, closed, and its tool's result.
    expect(chunks.map((chunk) => chunk.type)).toContain('text-end');
    expect(chunks.map((chunk) => chunk.type)).toContain('tool-output-available');
    expect(chunks.map((chunk) => chunk.type)).not.toContain('finish');

    const told = agent
      .stream('Weather?', { session: 'ui-fail' })
      .toUIMessageStreamResponse({ onError: (error) => `${error.code}: ${error.message}` });
    expect(uiChunks(await told.text()).at(-2)).toEqual({
      type: 'error',
      errorText: 'provider_error: Upstream 10.0.0.7:8443 refused deployment gpt-internal',
    });
    expect(await agent.session('ui-fail').version()).toBe(0);
  });

  it("ends a turn aborted by the caller's signal with an abort chunk; the signal still aborts a streamed turn", async () => {
    const blocking = blockingTool();
    const { agent } = scriptedAgent(BLOCKING_SCRIPT, { tools: [blocking.tool] });
    const controller = new AbortController();
    const stream = agent.stream('Go', { session: 'ui-abort', signal: controller.signal });
    const body = stream.toUIMessageStreamResponse().text();
    await blocking.called;
    controller.abort();

    const chunks = uiChunks(await body);
    expect(chunks.slice(-2)).toEqual([{ type: 'abort', reason: expect.stringMatching(/aborted/) }, '[DONE]']);
    await expect(stream.result).rejects.toMatchObject({ code: 'aborted' });
    expect(await agent.session('ui-abort').version()).toBe(0);
  });

  it('shows the answer of a turn replayed by its idempotency key, which streams no text', async () => {
    const { agent } = scriptedAgent(['The answer is 42.']);
    const first = await agent.run('Question?', { session: 'ui-replay', idempotencyKey: 'q-1' });
    const chunks = uiChunks(
      await agent
        .stream('Question?', { session: 'ui-replay', idempotencyKey: 'q-1' })
        .toUIMessageStreamResponse()
        .text(),
    );
    const deltas = chunks.filter((chunk) => chunk.type === 'text-delta').map((chunk) => chunk.delta);
    expect(deltas.join('')).toBe('The answer is 42.');
    expect(chunks.at(-2)).toMatchObject({
      type: 'finish',
      messageMetadata: { sessionVersion: first.sessionVersion },
    });
    const text = await agent
      .stream('Question?', { session: 'ui-replay', idempotencyKey: 'q-1' })
      .toTextStreamResponse()
      .text();
    expect(text).toBe('The answer is 42.');
  });
});

describe('toTextStreamResponse', () => {
  it('answers text/plain with the text of every step as it is written', async () => {
    const { agent } = scriptedAgent(TOOL_SCRIPT);
    const response = agent.stream('Weather in Paris?', { session: 'text-1' }).toTextStreamResponse({
      headers: { 'x-chat': 'text-1' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(response.headers.get('x-chat')).toBe('text-1');
    expect(await response.text()).toBe('Let me check.It is 21 degrees in Paris.');
  });

  it('fails the body of a failed turn, so a partial answer cannot pass for a whole one', async () => {
    const { agent } = scriptedAgent([
      TOOL_SCRIPT[0]!,
      { error: new CloudhopError('provider_error', 'down') },
    ]);
    const stream = agent.stream('Weather?', { session: 'text-fail' });
    const reader = stream.toTextStreamResponse().body!.getReader();
    expect(await readUntil(reader, (text) => text === 'Let me check.')).toBe('Let me check.');
    await expect(reader.read()).rejects.toMatchObject({ code: 'provider_error' });
    await expect(stream.result).rejects.toMatchObject({ code: 'provider_error' });
  });
});

describe('toSSEResponse', () => {
  it('sends every cloudhop event as an SSE message named by its type, its data the event as JSON', async () => {
    const script = [
      { error: new CloudhopError('rate_limited', 'slow down', { retryable: true }) },
      ...TOOL_SCRIPT,
    ];
    // The same turn, once iterated and once as SSE: the SSE messages are the iterated events.
    const iterated = scriptedAgent(script).agent.stream('Weather?', { session: 'sse-1' });
    const events = [];
    for await (const event of iterated) events.push(event);

    const { agent } = scriptedAgent(script);
    const stream = agent.stream('Weather?', { session: 'sse-1' });
    const response = stream.toSSEResponse();
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const messages = sseMessages(await response.text());
    const result = await stream.result;

    expect(messages.map((message) => message.event)).toEqual(events.map((event) => event.type));
    const data = messages.map((message) => JSON.parse(message.data));
    for (const [i, message] of messages.entries()) expect(data[i].type).toBe(message.event);
    // Ids, timestamps and token counts differ between the two runs; everything else is the same.
    const stable = (value: unknown) =>
      JSON.parse(
        JSON.stringify(value, (key, v) => (['id', 'createdAt', 'messageId'].includes(key) ? '…' : v)),
      );
    expect(stable(data.filter((event) => event.type !== 'turn-finish'))).toEqual(
      stable(events.filter((event) => event.type !== 'turn-finish').map(asJson)),
    );
    // The retry's error goes out as its public fields, not as an empty object.
    expect(data[1]).toMatchObject({
      type: 'retry',
      attempt: 1,
      error: { name: 'CloudhopError', code: 'rate_limited', message: 'slow down', retryable: true },
    });
    expect(data.at(-1)).toEqual(JSON.parse(JSON.stringify({ type: 'turn-finish', result })));
  });

  it('ends a failed turn with an error event holding the error without its cause', async () => {
    const cause = new Error('socket hang up at db.internal:5432');
    const { agent } = scriptedAgent([
      { error: new CloudhopError('provider_error', 'The provider failed.', { retryable: false, cause }) },
    ]);
    const messages = sseMessages(await agent.stream('Hi', { session: 'sse-fail' }).toSSEResponse().text());
    expect(messages.at(-1)!.event).toBe('error');
    expect(JSON.parse(messages.at(-1)!.data)).toEqual({
      type: 'error',
      error: {
        name: 'CloudhopError',
        code: 'provider_error',
        message: 'The provider failed.',
        retryable: false,
      },
    });
  });
});

describe('a client that goes away aborts the turn, and nothing is committed', () => {
  const formats = [
    ['toUIMessageStreamResponse', 'tool-input-available'],
    ['toSSEResponse', 'event: tool-call'],
    ['toTextStreamResponse', 'Working on it.'],
  ] as const;

  it.each(formats)('%s: cancelling the body mid-turn', async (method, marker) => {
    const blocking = blockingTool();
    const { agent } = scriptedAgent(['Hello.', ...BLOCKING_SCRIPT], { tools: [blocking.tool] });
    await agent.run('Hi', { session: 'gone' });
    const before = await agent.session('gone').version();

    const stream = agent.stream('Go on', { session: 'gone' });
    const reader = (stream[method]() as Response).body!.getReader();
    await readUntil(reader, (text) => text.includes(marker));
    await blocking.called;
    await reader.cancel();

    await expect(stream.result).rejects.toMatchObject({
      code: 'aborted',
      message: expect.stringMatching(/client went away.*nothing was committed/),
    });
    expect(blocking.seen.abortReason).toMatchObject({ code: 'aborted' });
    expect(await agent.session('gone').version()).toBe(before);
  });

  it('pipeToNodeResponse: the client disconnecting mid-stream', async () => {
    const blocking = blockingTool();
    const { agent } = scriptedAgent(BLOCKING_SCRIPT, { tools: [blocking.tool] });
    let stream!: AgentStream;
    let piped!: Promise<void>;
    const url = await serve((res) => {
      stream = agent.stream('Go', { session: 'node-gone' });
      piped = stream.pipeToNodeResponse(res);
    });

    const req = request(url, { method: 'POST' });
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    expect(res.headers['x-vercel-ai-ui-message-stream']).toBe('v1');
    let received = '';
    for await (const chunk of res) {
      received += chunk;
      if (received.includes('tool-input-available')) break;
    }
    await blocking.called;
    req.destroy();

    await expect(stream.result).rejects.toMatchObject({ code: 'aborted' });
    await expect(piped).resolves.toBeUndefined();
    expect(await agent.session('node-gone').version()).toBe(0);
  });

  it('pipeToNodeResponse: a response already ended, or whose client has already gone', async () => {
    const { agent } = scriptedAgent(['never sent', 'never sent']);
    const results: Promise<unknown>[] = [];
    let arrived!: () => void;
    const secondArrived = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let requests = 0;
    const url = await serve(async (res) => {
      if (++requests === 1) {
        res.end('ended by the app');
      } else {
        // The client disconnects before the app gets to answer.
        arrived();
        await once(res, 'close');
      }
      const stream = agent.stream('Hi', { session: 'node-closed' });
      results.push(stream.result);
      await stream.pipeToNodeResponse(res);
    });

    expect(await (await fetch(url)).text()).toBe('ended by the app');
    const req = request(url);
    req.on('error', () => {});
    req.end();
    await secondArrived;
    req.destroy();
    while (results.length < 2) await new Promise((resolve) => setImmediate(resolve));

    for (const result of results) await expect(result).rejects.toMatchObject({ code: 'aborted' });
    expect(await agent.session('node-closed').version()).toBe(0);
  });
});

describe('pipeToNodeResponse', () => {
  it('writes the status, headers and body of each format to a node:http response, one longer than its buffer too', async () => {
    const { agent } = scriptedAgent(() => ({ text: 'word '.repeat(5_000) }));
    const results: Promise<unknown>[] = [];
    const url = await serve(async (res, req) => {
      const format = new URL(req.url!, 'http://localhost').searchParams.get('format') as any;
      const stream = agent.stream('Talk', { session: `node-${format}` });
      results.push(stream.result);
      await stream.pipeToNodeResponse(res, { format, status: 202, headers: { 'x-format': format } });
    });

    const ui = await fetch(`${url}/?format=ui-message-stream`);
    expect([ui.status, ui.headers.get('x-format'), ui.headers.get('x-vercel-ai-ui-message-stream')]).toEqual([
      202,
      'ui-message-stream',
      'v1',
    ]);
    const chunks = uiChunks(await ui.text());
    expect(chunks.at(-1)).toBe('[DONE]');
    const deltas = chunks.filter((chunk) => chunk.type === 'text-delta').map((chunk) => chunk.delta);
    expect(deltas.join('')).toBe('word '.repeat(5_000));

    const sse = await fetch(`${url}/?format=sse`);
    expect(sse.headers.get('content-type')).toBe('text/event-stream');
    expect(sseMessages(await sse.text()).at(-1)!.event).toBe('turn-finish');

    const text = await fetch(`${url}/?format=text`);
    expect(text.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await text.text()).toBe('word '.repeat(5_000));

    for (const result of results) await expect(result).resolves.toMatchObject({ sessionVersion: 2 });
  });
});

describe('pipeToNodeResponse of a failed turn', () => {
  it('as text breaks the connection, so the client cannot take the partial answer for a whole one', async () => {
    const { agent } = scriptedAgent([
      TOOL_SCRIPT[0]!,
      { error: new CloudhopError('provider_error', 'down') },
    ]);
    let piped!: Promise<void>;
    const url = await serve((res) => {
      piped = agent
        .stream('Weather?', { session: 'node-text-fail' })
        .pipeToNodeResponse(res, { format: 'text' });
    });
    const response = await fetch(url);
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    await expect(piped).resolves.toBeUndefined();
  });
});

describe('bad calls', () => {
  it('refuses a second consumer with a clear error, and the first one still gets the whole answer', async () => {
    const { agent } = scriptedAgent(['One.', 'Two.']);
    const stream = agent.stream('Hi', { session: 'twice' });
    const response = stream.toUIMessageStreamResponse();
    for (const second of [
      () => stream.toUIMessageStreamResponse(),
      () => stream.toTextStreamResponse(),
      () => stream.toSSEResponse(),
      () => stream[Symbol.asyncIterator](),
    ]) {
      expect(second).toThrow(CloudhopError);
      expect(second).toThrow(
        /already given to toUIMessageStreamResponse\(\).*call agent\.stream\(\) once per response/,
      );
    }
    const res = { writeHead() {}, write: () => true, end() {}, once() {}, removeListener() {} };
    await expect(stream.pipeToNodeResponse(res)).rejects.toThrow(
      /stream\.pipeToNodeResponse\(\): this stream's events were already given/,
    );
    expect(uiChunks(await response.text()).at(-2)).toMatchObject({ type: 'finish' });

    const iterated = agent.stream('Again', { session: 'twice' });
    for await (const _event of iterated) {
      // drained
    }
    expect(() => iterated.toUIMessageStreamResponse()).toThrow(
      /toUIMessageStreamResponse\(\): this stream's events were already iterated/,
    );
  });

  it('rejects pipeToNodeResponse without a response, with an unknown format, or after headers were sent', async () => {
    const { agent } = scriptedAgent(['One.']);
    const stream = agent.stream('Hi', { session: 'bad-pipe' });
    await expect(stream.pipeToNodeResponse(undefined as never)).rejects.toThrow(
      /pipeToNodeResponse: pass a Node http\.ServerResponse/,
    );
    const res = { writeHead() {}, write: () => true, end() {}, once() {}, removeListener() {} };
    await expect(stream.pipeToNodeResponse(res, { format: 'xml' as never })).rejects.toThrow(
      /unknown format "xml": use ui-message-stream, sse, text/,
    );
    await expect(stream.pipeToNodeResponse({ ...res, headersSent: true })).rejects.toThrow(
      /already sent its headers/,
    );
    // None of those took the stream: it still answers.
    expect(await stream.toTextStreamResponse().text()).toBe('One.');
  });
});

describe('toUIMessages', () => {
  for (const [name, transcript] of [
    ['v1', v1Transcript],
    ['v2', v2Transcript],
  ] as const) {
    it(`turns a ${name} transcript with every item type into useChat's messages`, () => {
      const file = transcript();
      const messages = toUIMessages(file.items);
      const runtime = (id: string) => (name === 'v2' ? { runtimeId: id } : {});
      expect(messages).toEqual([
        {
          id: 'i00',
          role: 'system',
          metadata: { createdAt: '2026-01-01T00:00:00.000Z' },
          parts: [{ type: 'text', text: 'Be brief.', state: 'done' }],
        },
        {
          id: 'i01',
          role: 'user',
          metadata: { createdAt: '2026-01-01T00:00:01.000Z' },
          parts: [
            { type: 'text', text: 'What is in this picture, and the weather in Paris?', state: 'done' },
            { type: 'file', mediaType: 'image/png', url: PNG_DATA_URL },
            { type: 'file', mediaType: 'image/jpeg', url: 'https://example.com/cat.jpg' },
          ],
        },
        {
          id: 'i02',
          role: 'assistant',
          metadata: { createdAt: '2026-01-01T00:00:02.000Z', ...runtime('azure-chat:emulator/gpt-4o') },
          parts: [
            { type: 'step-start' },
            { type: 'reasoning', text: 'The user wants a description and the weather.', state: 'done' },
            { type: 'text', text: 'A cat. Checking.', state: 'done' },
            {
              type: 'tool-get_weather',
              toolCallId: 'call_a',
              state: 'output-available',
              input: { city: 'Paris' },
              output: { city: 'Paris', tempC: 21 },
            },
            {
              type: 'tool-get_weather',
              toolCallId: 'call_b',
              state: 'output-error',
              input: '{"town":',
              errorText: 'Error: the arguments for "get_weather" are not valid JSON. Send a JSON object.',
            },
            { type: 'step-start' },
            { type: 'text', text: 'A cat; 21 °C in Paris.', state: 'done' },
          ],
        },
        {
          id: 'i10',
          role: 'user',
          metadata: { createdAt: '2026-01-01T00:00:10.000Z' },
          parts: [{ type: 'text', text: 'Thanks!', state: 'done' }],
        },
        {
          id: 'i11',
          role: 'assistant',
          metadata: { createdAt: '2026-01-01T00:00:11.000Z', ...runtime('frontier:emulator/model') },
          parts: [{ type: 'step-start' }, { type: 'text', text: 'You are welcome.', state: 'done' }],
        },
      ]);
    });
  }

  it('leaves out a tool result whose call is before the page, and refuses what is not a list of items', () => {
    const items = v1Transcript().items.slice(7);
    expect(toUIMessages(items)[0]).toEqual({
      id: 'i09',
      role: 'assistant',
      metadata: { createdAt: '2026-01-01T00:00:09.000Z' },
      parts: [{ type: 'step-start' }, { type: 'text', text: 'A cat; 21 °C in Paris.', state: 'done' }],
    });
    expect(() => toUIMessages({ items } as never)).toThrow(/toUIMessages: pass an array of items/);
    expect(() => toUIMessages([...items, { type: 'note' }] as never)).toThrow(
      /items\[5\] is not a cloudhop item \(its type is "note"\)/,
    );
  });

  it('gives the tool parts the same input and output as the stream did', async () => {
    const { agent } = scriptedAgent(TOOL_SCRIPT, { tools: [weather] });
    const chunks = uiChunks(
      await agent.stream('Weather?', { session: 'same' }).toUIMessageStreamResponse().text(),
    );
    const [assistant] = toUIMessages(await agent.session('same').items()).filter(
      (m) => m.role === 'assistant',
    );
    const part = assistant!.parts.find((p) => p.type === 'tool-get_weather') as any;
    expect(part.input).toEqual(chunks.find((c) => c.type === 'tool-input-available').input);
    expect(part.output).toEqual(chunks.find((c) => c.type === 'tool-output-available').output);
  });
});
