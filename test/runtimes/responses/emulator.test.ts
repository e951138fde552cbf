import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Item, type MessageItem, textOf } from '../../../src/core/items.js';
import { type Emulator, startEmulator } from '../../../src/emulator/index.js';
import type { Runtime, StepRequest, StepResult } from '../../../src/runtime/runtime.js';
import { azureResponses } from '../../../src/runtimes/responses/azure-responses.js';
import { frontier } from '../../../src/runtimes/responses/frontier.js';
import { openaiResponses } from '../../../src/runtimes/responses/openai-responses.js';
import { recordingContext, toolResult, user } from './responses-test-kit.js';

let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator();
});
afterEach(() => emu.faults.clear());
afterAll(() => emu.close());

const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'emulator-test-secret-key' };

const runtimes: Array<[string, () => Runtime]> = [
  [
    'openaiResponses',
    () => openaiResponses({ apiKey: 'sk-emulator', baseURL: emu.openaiBaseURL, model: 'gpt-5.4' }),
  ],
  [
    'azureResponses',
    () => azureResponses({ endpoint: emu.azureEndpoint, apiKey: 'azure-emulator', model: 'gpt-4o' }),
  ],
  [
    'frontier (SigV4)',
    () => frontier({ region: 'us-east-1', model: 'openai.gpt-5.4', baseURL: emu.openaiBaseURL, credentials }),
  ],
];

/** A session the way the agent drives a stateful runtime: the transcript plus the binding. */
class Session {
  readonly items: Item[] = [];
  binding: StepResult['remote'];
  synced = 0;
  readonly context = recordingContext();

  constructor(
    readonly runtime: Runtime,
    readonly stream = false,
  ) {}

  async step(newItems: Item[], extra: Partial<StepRequest> = {}): Promise<StepResult> {
    this.items.push(...newItems);
    const request: StepRequest = {
      items: [...this.items],
      tools: [],
      stream: this.stream,
      ...(this.binding ? { remoteState: { remote: this.binding, syncedCount: this.synced } } : {}),
      ...extra,
    };
    const result = await this.runtime.step(request, this.context);
    this.items.push(...result.items);
    this.binding = result.remote;
    this.synced = this.items.length;
    return result;
  }

  say(text: string, extra: Partial<StepRequest> = {}): Promise<StepResult> {
    return this.step([user(text)], extra);
  }
}

function replyText(result: StepResult): string {
  const message = result.items.find((item): item is MessageItem => item.type === 'message');
  return message ? textOf(message) : '';
}

function lastResponsesBody(): any {
  return emu
    .requests()
    .filter((request) => request.route === 'responses')
    .at(-1)!.body;
}

describe.each(runtimes)('%s against the emulator', (_name, makeRuntime) => {
  it('chains turns with previous_response_id, sending only the new input', async () => {
    const session = new Session(makeRuntime());
    await session.say('My name is Ada.');
    const first = lastResponsesBody();
    await session.say('Some filler to grow the transcript.');
    const result = await session.say('What is my name?');

    const last = lastResponsesBody();
    expect(replyText(result)).toBe('Your name is Ada.');
    expect(first).not.toHaveProperty('previous_response_id');
    expect(last.previous_response_id).toMatch(/^resp_/);
    expect(last.input).toHaveLength(1);
    expect(session.context.events).toEqual([]);
  });

  it('streams a chained turn', async () => {
    const session = new Session(makeRuntime(), true);
    await session.say('My name is Grace.');
    const result = await session.say('What is my name?');
    expect(replyText(result)).toBe('Your name is Grace.');
    expect(session.context.deltas().join('')).toContain('Your name is Grace.');
  });

  it('runs a tool round-trip on the server-held context', async () => {
    const session = new Session(makeRuntime());
    const tools = [
      {
        name: 'get_weather',
        description: 'Current weather',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    ];
    const call = await session.say('Use get_weather for Paris.', { tools });
    expect(call.finishReason).toBe('tool_calls');
    const toolCall = call.items.find((item) => item.type === 'tool_call')!;
    expect(toolCall).toMatchObject({ name: 'get_weather', arguments: '{"city":"Paris"}' });

    const answer = await session.step([toolResult((toolCall as { callId: string }).callId, { tempC: 21 })], {
      tools,
    });
    const sent = lastResponsesBody();
    expect(sent.input).toEqual([
      {
        type: 'function_call_output',
        call_id: (toolCall as { callId: string }).callId,
        output: '{"tempC":21}',
      },
    ]);
    expect(answer.finishReason).toBe('stop');
    expect(replyText(answer)).toContain('"tempC":21');
  });

  it('reseeds from the local transcript when the server dropped its state', async () => {
    const session = new Session(makeRuntime());
    await session.say('My name is Linus.');
    emu.faults.set({ route: 'responses', dropStored: true, count: 1 });
    const result = await session.say('What is my name?');

    expect(replyText(result)).toBe('Your name is Linus.');
    expect(session.context.events).toEqual([
      expect.objectContaining({ type: 'session-reseeded', runtimeId: session.runtime.id }),
    ]);
    const reseeded = lastResponsesBody();
    expect(reseeded).not.toHaveProperty('previous_response_id');
    expect(reseeded.input).toHaveLength(3);
  });
});

describe('conversation mode against the emulator', () => {
  const makeRuntime = () =>
    openaiResponses({
      apiKey: 'sk-emulator',
      baseURL: emu.openaiBaseURL,
      model: 'gpt-5.4',
      state: 'conversation',
    });

  it('keeps the session in one conversation', async () => {
    const session = new Session(makeRuntime());
    const first = await session.say('My name is Barbara.');
    const result = await session.say('What is my name?');

    expect(replyText(result)).toBe('Your name is Barbara.');
    expect(result.remote!.conversationId).toBe(first.remote!.conversationId);
    expect(result.remote!.conversationId).toMatch(/^conv_/);
    const last = lastResponsesBody();
    expect(last.conversation).toBe(first.remote!.conversationId);
    expect(last.input).toHaveLength(1);
    expect(emu.stats().routes.conversations!.requests).toBeGreaterThanOrEqual(1);
  });

  it('reseeds into a new conversation when the old one is gone', async () => {
    const session = new Session(makeRuntime());
    const first = await session.say('My name is Edsger.');
    emu.faults.set({ route: 'responses', dropStored: true, count: 1 });
    const result = await session.say('What is my name?');

    expect(replyText(result)).toBe('Your name is Edsger.');
    expect(result.remote!.conversationId).not.toBe(first.remote!.conversationId);
    expect(session.context.events.map((event) => event.type)).toEqual(['session-reseeded']);
  });
});

describe('expired stored responses', () => {
  it('reseed like dropped ones', async () => {
    const expiring = await startEmulator({ expireAfterMs: 1 });
    try {
      const session = new Session(
        openaiResponses({ apiKey: 'sk-emulator', baseURL: expiring.openaiBaseURL, model: 'gpt-5.4' }),
      );
      await session.say('My name is Margaret.');
      await new Promise((resolve) => setTimeout(resolve, 20));
      const result = await session.say('What is my name?');
      expect(replyText(result)).toBe('Your name is Margaret.');
      expect(session.context.events.map((event) => event.type)).toEqual(['session-reseeded']);
    } finally {
      await expiring.close();
    }
  });
});
