import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod/v4';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import {
  AZURE_API_VERSION,
  azureClient,
  openaiClient,
  parseSse,
  post,
  readJson,
  weatherTool,
} from './helpers.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(() => emu.close());

const tools = [{ type: 'function' as const, function: weatherTool }];

describe('chat completions with the openai client', () => {
  it('answers with a deterministic echo that counts the context messages', async () => {
    const client = openaiClient(emu);
    const completion = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello there' },
      ],
    });
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('gpt-4o');
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(completion.choices[0]!.message.content).toBe('Echo: Hello there (context: 1 message)');
    expect(completion.usage!.total_tokens).toBe(
      completion.usage!.prompt_tokens + completion.usage!.completion_tokens,
    );
  });

  it('remembers a name only from the context the request carries', async () => {
    const client = openaiClient(emu);
    const history: ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Hi, my name is Grace.' },
      { role: 'assistant', content: 'Nice to meet you, Grace.' },
      { role: 'user', content: 'Actually my name is Ada.' },
      { role: 'assistant', content: 'Noted.' },
    ];
    const withContext = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [...history, { role: 'user', content: 'What is my name?' }],
    });
    expect(withContext.choices[0]!.message.content).toBe('Your name is Ada.');

    const contextLost = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'what is my name?' }],
    });
    expect(contextLost.choices[0]!.message.content).toBe("I don't know your name.");
  });

  it('charges more input tokens as the context grows', async () => {
    const client = openaiClient(emu);
    const short = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    const long = await client.chat.completions.create({
      model: 'm',
      messages: [
        { role: 'user', content: 'Hi, this is a much longer opening message than before.' },
        { role: 'assistant', content: 'Indeed it is a longer conversation.' },
        { role: 'user', content: 'Hi' },
      ],
    });
    expect(long.usage!.prompt_tokens).toBeGreaterThan(short.usage!.prompt_tokens);
    expect(long.choices[0]!.message.content).toBe('Echo: Hi (context: 3 messages)');
  });

  it('streams the text in several deltas, with a usage chunk when asked', async () => {
    const client = openaiClient(emu);
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Tell me something about streams please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const deltas = chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.delta.content ?? ''));
    expect(deltas.filter((delta) => delta !== '').length).toBeGreaterThan(2);
    expect(deltas.join('')).toBe('Echo: Tell me something about streams please (context: 1 message)');
    // OpenAI's own paths carry no Azure filter chunk.
    expect(chunks[0]!.choices).toHaveLength(1);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage!.total_tokens).toBeGreaterThan(0);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
  });

  it('names its system_fingerprint as a string, as OpenAI does, in the completion and in every chunk', async () => {
    // CreateChatCompletionResponse and CreateChatCompletionStreamResponse type it as a string.
    const request = { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello' }] };
    const completion = await readJson(await post(emu, '/v1/chat/completions', request));
    expect(completion.system_fingerprint).toMatch(/^fp_[0-9a-f]{10}$/);
    const stream = await post(emu, '/v1/chat/completions', {
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = parseSse(await stream.text()).filter((event) => event.data !== '[DONE]');
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) {
      expect(JSON.parse(chunk.data).system_fingerprint).toBe(completion.system_fingerprint);
    }
  });

  it('calls a tool the user names, with arguments built from its schema, then uses its result', async () => {
    const client = openaiClient(emu);
    const first = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Use get_weather for Paris in fahrenheit.' }],
      tools,
    });
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    const call = choice.message.tool_calls![0]!;
    expect(call.id).toMatch(/^call_/);
    if (call.type !== 'function') throw new Error('expected a function call');
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris', unit: 'fahrenheit' });

    const second = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [
        { role: 'user', content: 'Use get_weather for Paris in fahrenheit.' },
        choice.message,
        { role: 'tool', tool_call_id: call.id, content: '{"city":"Paris","tempF":70}' },
      ],
      tools,
    });
    expect(second.choices[0]!.finish_reason).toBe('stop');
    expect(second.choices[0]!.message.content).toContain('{"city":"Paris","tempF":70}');
  });

  it('streams tool calls as argument fragments the SDK reassembles', async () => {
    const client = openaiClient(emu);
    const stream = client.chat.completions.stream({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Please use get_weather for Lisbon.' }],
      tools,
    });
    const final = await stream.finalChatCompletion();
    const call = final.choices[0]!.message.tool_calls![0]!;
    if (call.type !== 'function') throw new Error('expected a function call');
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Lisbon', unit: 'celsius' });
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('answers a requested JSON schema with an object that parses', async () => {
    const client = openaiClient(emu);
    const Forecast = z.object({ city: z.string(), days: z.int().min(1), sunny: z.boolean() });
    const completion = await client.chat.completions.parse({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Give me the forecast for Rome for 3 days.' }],
      response_format: zodResponseFormat(Forecast, 'forecast'),
    });
    expect(completion.choices[0]!.message.parsed).toEqual({ city: 'Rome', days: 3, sunny: true });
  });

  it('rejects a tool message that answers no call, as OpenAI does', async () => {
    const client = openaiClient(emu);
    const error = await client.chat.completions
      .create({
        model: 'gpt-4o',
        messages: [
          { role: 'user', content: 'Hi' },
          { role: 'tool', tool_call_id: 'call_missing', content: 'orphan' },
        ],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).message).toContain(
      "messages with role 'tool'",
    );
  });

  it('rejects tool calls left without results', async () => {
    const response = await post(emu, '/v1/chat/completions', {
      model: 'gpt-4o',
      messages: [
        { role: 'user', content: 'Use get_weather for Paris.' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } },
          ],
        },
        { role: 'user', content: 'Well?' },
      ],
    });
    expect(response.status).toBe(400);
    expect((await readJson(response)).error.message).toContain('call_1');
  });
});

describe('Azure chat completions with the AzureOpenAI client', () => {
  it('serves the deployment path with Azure content-filter annotations', async () => {
    const client = azureClient(emu, 'my-deployment');
    const completion = await client.chat.completions.create({
      model: '',
      messages: [{ role: 'user', content: 'Hello Azure' }],
    });
    expect(completion.model).toBe('my-deployment');
    expect(completion.choices[0]!.message.content).toBe('Echo: Hello Azure (context: 1 message)');
    const raw = completion as unknown as {
      prompt_filter_results: Array<{ content_filter_results: Record<string, unknown> }>;
      choices: Array<{ content_filter_results: Record<string, { filtered: boolean }> }>;
    };
    expect(raw.prompt_filter_results[0]!.content_filter_results.jailbreak).toEqual({
      filtered: false,
      detected: false,
    });
    expect(raw.choices[0]!.content_filter_results.hate!.filtered).toBe(false);
    const [request] = emu.requests(1);
    expect(request!.route).toBe('chat');
  });

  it("streams with Azure's empty-choices chunks at both ends", async () => {
    const client = azureClient(emu);
    const stream = await client.chat.completions.create({
      model: '',
      messages: [{ role: 'user', content: 'Stream from Azure please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const first = chunks[0] as ChatCompletionChunk & { prompt_filter_results?: unknown[] };
    expect(first.choices).toEqual([]);
    expect(first.id).toBe('');
    expect(first.prompt_filter_results).toHaveLength(1);
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage!.prompt_tokens).toBeGreaterThan(0);
    const text = chunks
      .flatMap((chunk) => chunk.choices.map((choice) => choice.delta.content ?? ''))
      .join('');
    expect(text).toBe('Echo: Stream from Azure please (context: 1 message)');
  });

  it('ends the SSE body with data: [DONE]', async () => {
    const response = await post(
      emu,
      `/openai/deployments/d1/chat/completions?api-version=${AZURE_API_VERSION}`,
      { messages: [{ role: 'user', content: 'raw stream' }], stream: true },
      { 'api-key': 'k' },
    );
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const events = parseSse(await response.text());
    expect(events.at(-1)!.data).toBe('[DONE]');
    expect(JSON.parse(events[0]!.data).choices).toEqual([]);
  });

  it('serves the /openai/v1 path with the model in the body', async () => {
    const client = new OpenAI({
      apiKey: 'unused',
      baseURL: `${emu.azureEndpoint}/openai/v1`,
      defaultHeaders: { 'api-key': 'test-azure-key' },
      maxRetries: 0,
    });
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-deployment',
      messages: [{ role: 'user', content: 'v1 path' }],
    });
    expect(completion.model).toBe('gpt-4o-deployment');
    expect(
      (completion as unknown as { prompt_filter_results: unknown[] }).prompt_filter_results,
    ).toHaveLength(1);
  });

  it('answers a deployment path without api-version with 404, as Azure does', async () => {
    const response = await post(
      emu,
      '/openai/deployments/d1/chat/completions',
      { messages: [{ role: 'user', content: 'hi' }] },
      { 'api-key': 'k' },
    );
    expect(response.status).toBe(404);
    expect(await readJson(response)).toEqual({ error: { code: '404', message: 'Resource not found' } });
  });
});
