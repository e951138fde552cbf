import OpenAI from 'openai';
import { zodTextFormat } from 'openai/helpers/zod';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod/v4';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { azureClient, openaiClient, parseSse, post, readJson, weatherTool } from './helpers.js';

let emu: Emulator;
let client: OpenAI;
beforeAll(async () => {
  emu = await startEmulator();
  client = openaiClient(emu);
});
afterAll(() => emu.close());

const tools = [{ type: 'function' as const, strict: true, ...weatherTool }];

async function errorOf(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof OpenAI.APIError)) throw new Error(`expected an APIError, got ${String(error)}`);
  return error;
}

describe('Responses API', () => {
  it('creates, stores and returns a response', async () => {
    const response = await client.responses.create({ model: 'gpt-5.4', input: 'Hello Responses' });
    expect(response.id).toMatch(/^resp_/);
    expect(response.status).toBe('completed');
    expect(response).toHaveProperty('store', true);
    expect(response.output[0]!.id).toMatch(/^msg_/);
    expect(response.output_text).toBe('Echo: Hello Responses (context: 1 message)');
    expect(response.usage!.input_tokens).toBeGreaterThan(0);

    const fetched = await client.responses.retrieve(response.id);
    expect(fetched.output_text).toBe(response.output_text);

    const items = await client.responses.inputItems.list(response.id);
    expect(items.data).toHaveLength(1);
    expect(items.data[0]).toMatchObject({
      type: 'message',
      role: 'user',
      content: [{ type: 'input_text', text: 'Hello Responses' }],
    });
  });

  it('reports usage with every field of ResponseUsage, cache_write_tokens included, also in the stream', async () => {
    const usage = {
      input_tokens: expect.any(Number),
      input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      output_tokens: expect.any(Number),
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: expect.any(Number),
    };
    const created = await readJson(
      await post(emu, '/v1/responses', { model: 'gpt-5.4', input: 'Hello usage' }),
    );
    expect(created.usage).toEqual(usage);
    const streamed = await post(emu, '/v1/responses', {
      model: 'gpt-5.4',
      input: 'Hello usage',
      stream: true,
    });
    const completed = parseSse(await streamed.text())
      .map((event) => JSON.parse(event.data))
      .find((event) => event.type === 'response.completed');
    expect(completed.response.usage).toEqual(usage);
  });

  it('rebuilds the context from a previous_response_id chain held by the server', async () => {
    const first = await client.responses.create({ model: 'gpt-5.4', input: 'My name is Ada.' });
    expect(first.output_text).toBe('Nice to meet you, Ada. (context: 1 message)');
    const second = await client.responses.create({
      model: 'gpt-5.4',
      input: 'Something else.',
      previous_response_id: first.id,
    });
    expect(second.output_text).toBe('Echo: Something else. (context: 3 messages)');
    const third = await client.responses.create({
      model: 'gpt-5.4',
      input: 'What is my name?',
      previous_response_id: second.id,
    });
    expect(third.output_text).toBe('Your name is Ada.');
    expect(third.previous_response_id).toBe(second.id);
    expect(third.usage!.input_tokens).toBeGreaterThan(first.usage!.input_tokens);
    // The request carried only the new input; the server supplied the rest.
    expect(emu.requests(1)[0]!.body).toMatchObject({
      input: 'What is my name?',
      previous_response_id: second.id,
    });

    const fresh = await client.responses.create({ model: 'gpt-5.4', input: 'What is my name?' });
    expect(fresh.output_text).toBe("I don't know your name.");
  });

  it('answers an unknown previous response as OpenAI does: 400 previous_response_not_found', async () => {
    const error = await errorOf(
      client.responses.create({ model: 'gpt-5.4', input: 'hi', previous_response_id: 'resp_missing' }),
    );
    expect(error.status).toBe(400);
    expect(error.code).toBe('previous_response_not_found');
    const raw = await post(emu, '/v1/responses', { model: 'm', input: 'hi', previous_response_id: 'resp_x' });
    expect(raw.status).toBe(400);
    expect(await readJson(raw)).toEqual({
      error: {
        message: "Previous response with id 'resp_x' not found.",
        type: 'invalid_request_error',
        param: 'previous_response_id',
        code: 'previous_response_not_found',
      },
    });
  });

  it('does not keep a response created with store: false', async () => {
    const response = await client.responses.create({ model: 'gpt-5.4', input: 'ephemeral', store: false });
    expect(response).toHaveProperty('store', false);
    expect((await errorOf(client.responses.retrieve(response.id))).status).toBe(404);
    const chained = await errorOf(
      client.responses.create({ model: 'gpt-5.4', input: 'next', previous_response_id: response.id }),
    );
    expect(chained.code).toBe('previous_response_not_found');
  });

  it('deletes a stored response', async () => {
    const response = await client.responses.create({ model: 'gpt-5.4', input: 'to delete' });
    await client.responses.delete(response.id);
    expect((await errorOf(client.responses.retrieve(response.id))).status).toBe(404);
    expect((await errorOf(client.responses.delete(response.id))).status).toBe(404);
  });

  it('streams the documented event sequence with sequence numbers and no [DONE]', async () => {
    const raw = await post(emu, '/v1/responses', {
      model: 'm',
      input: 'Stream this text please',
      stream: true,
    });
    const events = parseSse(await raw.text());
    const payloads = events.map(
      (event) => JSON.parse(event.data) as { type: string; sequence_number: number },
    );
    for (const [index, event] of events.entries()) {
      expect(event.event).toBe(payloads[index]!.type);
      expect(payloads[index]!.sequence_number).toBe(index);
    }
    const types = payloads.map((p) => p.type).filter((type, i, all) => type !== all[i - 1]);
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(payloads.filter((p) => p.type === 'response.output_text.delta').length).toBeGreaterThan(1);
    expect(events.some((event) => event.data === '[DONE]')).toBe(false);
  });

  it('streams through the SDK helpers', async () => {
    const deltas: string[] = [];
    const stream = await client.responses.create({
      model: 'm',
      input: 'Streaming with the SDK',
      stream: true,
    });
    for await (const event of stream)
      if (event.type === 'response.output_text.delta') deltas.push(event.delta);
    expect(deltas.join('')).toBe('Echo: Streaming with the SDK (context: 1 message)');

    const helper = client.responses.stream({ model: 'm', input: 'And the stream helper' });
    const final = await helper.finalResponse();
    expect(final.output_text).toBe('Echo: And the stream helper (context: 1 message)');
  });

  it('calls a named tool and answers from its output on the next chained request', async () => {
    const call = await client.responses.create({ model: 'm', input: 'Use get_weather for Oslo.', tools });
    const item = call.output[0]!;
    if (item.type !== 'function_call') throw new Error('expected a function call');
    expect(item.id).toMatch(/^fc_/);
    expect(item.call_id).toMatch(/^call_/);
    expect(JSON.parse(item.arguments)).toEqual({ city: 'Oslo', unit: 'celsius' });

    const answer = await client.responses.create({
      model: 'm',
      previous_response_id: call.id,
      input: [{ type: 'function_call_output', call_id: item.call_id, output: '{"tempC":4}' }],
      tools,
    });
    expect(answer.output_text).toBe('The get_weather tool returned: {"tempC":4}');
  });

  it('streams a function call with argument deltas and no name on arguments.done', async () => {
    const stream = await client.responses.create({
      model: 'm',
      input: 'Use get_weather for Cairo.',
      tools,
      stream: true,
    });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const added = events.find((e) => e.type === 'response.output_item.added');
    const deltas = events.filter((e) => e.type === 'response.function_call_arguments.delta');
    const done = events.find((e) => e.type === 'response.function_call_arguments.done');
    expect(added && added.type === 'response.output_item.added' && added.item.type).toBe('function_call');
    expect(deltas.length).toBeGreaterThan(1);
    expect(done).toBeDefined();
    expect(done).not.toHaveProperty('name');
    if (done?.type !== 'response.function_call_arguments.done') throw new Error('missing arguments.done');
    expect(JSON.parse(done.arguments)).toEqual({ city: 'Cairo', unit: 'celsius' });
    expect(events.at(-1)!.type).toBe('response.completed');
  });

  it('rejects a function_call_output whose call is not in the context', async () => {
    const error = await errorOf(
      client.responses.create({
        model: 'm',
        input: [{ type: 'function_call_output', call_id: 'call_nowhere', output: 'x' }],
      }),
    );
    expect(error.status).toBe(400);
    expect(error.message).toContain('No tool call found for function call output with call_id call_nowhere');
  });

  it('answers a json_schema text format with an object that parses', async () => {
    const City = z.object({ city: z.string(), population: z.number() });
    const response = await client.responses.parse({
      model: 'm',
      input: 'Tell me about Tokyo, population 14000000.',
      text: { format: zodTextFormat(City, 'city') },
    });
    expect(response.output_parsed).toEqual({ city: 'Tokyo', population: 14000000 });
  });

  it('serves the Azure preview path the AzureOpenAI client uses', async () => {
    const azure = azureClient(emu);
    const response = await azure.responses.create({ model: 'my-deployment', input: 'Hi from Azure' });
    expect(response.output_text).toBe('Echo: Hi from Azure (context: 1 message)');
    expect(response.model).toBe('my-deployment');
  });
});

describe('Conversations API', () => {
  it('holds items and feeds them to responses that name the conversation', async () => {
    const conversation = await client.conversations.create({
      metadata: { topic: 'demo' },
      items: [{ type: 'message', role: 'user', content: 'My name is Lin.' }],
    });
    expect(conversation.id).toMatch(/^conv_/);
    expect(conversation.metadata).toEqual({ topic: 'demo' });

    const response = await client.responses.create({
      model: 'm',
      conversation: conversation.id,
      input: 'What is my name?',
    });
    expect(response.output_text).toBe('Your name is Lin.');
    expect(response.conversation).toEqual({ id: conversation.id });

    const newestFirst = await client.conversations.items.list(conversation.id);
    expect(newestFirst.data.map((item) => item.type === 'message' && item.role)).toEqual([
      'assistant',
      'user',
      'user',
    ]);
    const oldestFirst = await client.conversations.items.list(conversation.id, { order: 'asc' });
    expect(oldestFirst.data[0]).toMatchObject({
      type: 'message',
      role: 'user',
      content: [{ type: 'input_text', text: 'My name is Lin.' }],
    });

    const again = await client.responses.create({
      model: 'm',
      conversation: conversation.id,
      input: 'Hello',
    });
    expect(again.output_text).toBe('Echo: Hello (context: 4 messages)');
  });

  it('adds, reads and deletes items, and updates and deletes the conversation', async () => {
    const conversation = await client.conversations.create();
    const added = await client.conversations.items.create(conversation.id, {
      items: [
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'one' }] },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'two' }] },
      ],
    });
    expect(added.data).toHaveLength(2);
    const firstId = added.data[0]!.id!;
    expect(firstId).toMatch(/^msg_/);
    const item = await client.conversations.items.retrieve(firstId, { conversation_id: conversation.id });
    expect(item).toMatchObject({ id: firstId, type: 'message' });

    const afterDelete = await client.conversations.items.delete(firstId, {
      conversation_id: conversation.id,
    });
    expect(afterDelete.id).toBe(conversation.id);
    expect((await client.conversations.items.list(conversation.id)).data).toHaveLength(1);

    const updated = await client.conversations.update(conversation.id, { metadata: { stage: 'two' } });
    expect(updated.metadata).toEqual({ stage: 'two' });

    const deleted = await client.conversations.delete(conversation.id);
    expect(deleted).toMatchObject({ id: conversation.id, deleted: true });
    expect((await errorOf(client.conversations.retrieve(conversation.id))).status).toBe(404);
  });

  it('answers an unknown conversation with 404 in the OpenAI envelope', async () => {
    const error = await errorOf(
      client.responses.create({ model: 'm', conversation: 'conv_missing', input: 'hi' }),
    );
    expect(error.status).toBe(404);
    const raw = await fetch(`${emu.openaiBaseURL}/conversations/conv_missing`, {
      headers: { authorization: 'Bearer k' },
    });
    expect(raw.status).toBe(404);
    const body = await readJson(raw);
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param: null, code: null });
    expect(body.error.message).toContain('conv_missing');
  });

  it('rejects previous_response_id together with conversation', async () => {
    const conversation = await client.conversations.create();
    const previous = await client.responses.create({ model: 'm', input: 'hi' });
    const error = await errorOf(
      client.responses.create({
        model: 'm',
        input: 'hi',
        conversation: conversation.id,
        previous_response_id: previous.id,
      }),
    );
    expect(error.status).toBe(400);
    expect(error.message).toContain('previous_response_id');
  });
});
