import { beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod/v4';
import {
  type Binding,
  createAgent,
  createItem,
  type Item,
  type MessageItem,
  memoryStore,
  type ToolCallItem,
  type ToolResultItem,
} from '../../src/index.js';
import {
  type Clouds,
  cloudsOn,
  emulatorForFile,
  entriesOfRequest,
  expectedRequests,
  INSTRUCTIONS,
  itemsOf,
  keyOf,
  MODELS,
  type Protocol,
  routeOf,
  type Turn,
  turn,
  weather,
} from './helpers.js';

type Cloud = Exclude<keyof Clouds, 'frontierConversation'>;

const PROTOCOL: Record<Cloud, Protocol> = {
  azureChat: 'chat',
  openaiChat: 'chat',
  frontier: 'responses',
  bedrockConverse: 'converse',
  azureResponses: 'responses',
  openaiResponses: 'responses',
};

const City = z.object({ city: z.string() });

interface Hop {
  on: Cloud;
  input: string;
  structured?: true;
}

/**
 * One session, every runtime, tool calls on three protocols and structured output on three.
 * Structured turns use `run`, the others `stream`, so both paths carry the context.
 */
const PLAN: Hop[] = [
  { on: 'azureChat', input: 'Hi, my name is Ada.' },
  { on: 'azureChat', input: 'Use get_weather for Paris.' },
  { on: 'openaiChat', input: 'What is my name?' },
  { on: 'frontier', input: 'What is my name?' },
  { on: 'frontier', input: 'Use get_weather for Oslo.' },
  { on: 'bedrockConverse', input: 'What is my name?' },
  { on: 'bedrockConverse', input: 'Use get_weather for Berlin.' },
  { on: 'bedrockConverse', input: 'Extract the city: Rome.', structured: true },
  { on: 'azureChat', input: 'What is my name?' },
  { on: 'azureResponses', input: 'What is my name?' },
  { on: 'azureResponses', input: 'Extract the city: Tokyo.', structured: true },
  { on: 'openaiResponses', input: 'Use get_weather for Cairo.' },
  { on: 'openaiChat', input: 'Extract the city: Madrid.', structured: true },
  { on: 'frontier', input: 'What is my name?' },
  { on: 'azureChat', input: 'What is my name?' },
];

interface Leg {
  hop: Hop;
  turn: Turn<unknown>;
  /** The runtime's binding as stored before the turn (stateful runtimes). */
  bindingBefore: Binding | undefined;
}

const SESSION = 'traveller';
const { emu, clouds } = await emulatorForFile();
const store = memoryStore();
const legs: Leg[] = [];

beforeAll(async () => {
  const agent = createAgent({
    runtime: clouds.azureChat,
    store,
    tools: [weather],
    instructions: INSTRUCTIONS,
  });
  for (const hop of PLAN) {
    const runtime = clouds[hop.on];
    const bindingBefore = (await store.load({ namespace: 'default', sessionId: SESSION }))?.bindings[
      runtime.id
    ];
    const moved = agent.withRuntime(runtime);
    const recorded = hop.structured
      ? await turn(emu, moved, store, hop.input, { session: SESSION, output: City, stream: false })
      : await turn(emu, moved, store, hop.input, { session: SESSION });
    legs.push({ hop, turn: recorded as Turn<unknown>, bindingBefore });
  }
});

function legsOn(cloud: Cloud): Leg[] {
  return legs.filter((leg) => leg.hop.on === cloud);
}

/** An agent on azureChat with runtimes and a store of its own, apart from the travelling session. */
function agentApart() {
  const on = cloudsOn(emu);
  const local = memoryStore();
  const agent = createAgent({
    runtime: on.azureChat,
    store: local,
    tools: [weather],
    instructions: INSTRUCTIONS,
  });
  return { on, local, agent };
}

function callIds(items: readonly Item[]): string[] {
  return items.filter((item): item is ToolCallItem => item.type === 'tool_call').map((item) => item.callId);
}

describe('one session moves azureChat → openaiChat → frontier → bedrockConverse → azureChat → azureResponses → openaiResponses → openaiChat → frontier → azureChat', () => {
  it('is answered by the runtime it was moved to, every time', () => {
    expect(legs).toHaveLength(PLAN.length);
    for (const leg of legs) expect(leg.turn.result.runtimeId).toBe(clouds[leg.hop.on].id);
  });

  it('answers "What is my name?" on every cloud from a name given on another one', () => {
    const answers = legs
      .filter((leg) => leg.hop.input === 'What is my name?')
      .map((leg) => [leg.hop.on, leg.turn.result.text]);
    expect(answers).toEqual([
      ['openaiChat', 'Your name is Ada.'],
      ['frontier', 'Your name is Ada.'],
      ['bedrockConverse', 'Your name is Ada.'],
      ['azureChat', 'Your name is Ada.'],
      ['azureResponses', 'Your name is Ada.'],
      ['frontier', 'Your name is Ada.'],
      ['azureChat', 'Your name is Ada.'],
    ]);
  });

  it('runs the weather tool on chat, Responses and Converse with each provider’s own call ids', () => {
    const toolLegs = legs.filter((leg) => leg.hop.input.startsWith('Use get_weather'));
    expect(toolLegs.map((leg) => [leg.hop.on, leg.turn.result.text])).toEqual([
      ['azureChat', 'The get_weather tool returned: {"city":"Paris","tempC":21,"sky":"clear"}'],
      ['frontier', 'The get_weather tool returned: {"city":"Oslo","tempC":21,"sky":"clear"}'],
      ['bedrockConverse', 'The get_weather tool returned: {"city":"Berlin","tempC":21,"sky":"clear"}'],
      ['openaiResponses', 'The get_weather tool returned: {"city":"Cairo","tempC":21,"sky":"clear"}'],
    ]);
    const ids = toolLegs.map((leg) => callIds(leg.turn.result.items));
    expect(ids.map((list) => list.length)).toEqual([1, 1, 1, 1]);
    expect(ids[0]![0]).toMatch(/^call_/);
    expect(ids[1]![0]).toMatch(/^call_/);
    expect(ids[2]![0]).toMatch(/^tooluse_/);
    expect(ids[3]![0]).toMatch(/^call_/);
  });

  it('returns validated structured output on Converse, Responses and chat', () => {
    const structured = legs.filter((leg) => leg.hop.structured);
    expect(structured.map((leg) => [leg.hop.on, leg.turn.result.output])).toEqual([
      ['bedrockConverse', { city: 'Rome' }],
      ['azureResponses', { city: 'Tokyo' }],
      ['openaiChat', { city: 'Madrid' }],
    ]);
    const [converse, responses, chat] = structured.map((leg) => leg.turn.requests[0]!.body as any);
    expect(converse.toolConfig.tools[0].toolSpec.inputSchema.json).toMatchObject({
      properties: { city: { type: 'string' } },
    });
    expect(responses.text.format).toMatchObject({
      type: 'json_schema',
      schema: { properties: { city: { type: 'string' } } },
    });
    expect(chat.response_format).toMatchObject({
      type: 'json_schema',
      json_schema: { schema: { properties: { city: { type: 'string' } } } },
    });
  });

  it('sends every runtime the complete prior context, correctly mapped, step by step', () => {
    for (const leg of legs) {
      const runtime = clouds[leg.hop.on];
      const protocol = PROTOCOL[leg.hop.on];
      const expected = expectedRequests(leg.turn, {
        stateful: runtime.kind === 'stateful',
        ...(leg.bindingBefore ? { syncedVersion: leg.bindingBefore.syncedVersion } : {}),
      });
      const where = `${leg.hop.on}: ${leg.hop.input}`;
      expect(
        leg.turn.requests.map((request) => request.route),
        where,
      ).toEqual(expected.map(() => routeOf(protocol, !leg.hop.structured)));
      expect(
        leg.turn.requests.map((request) => entriesOfRequest(protocol, request.body)),
        where,
      ).toEqual(expected);
      if (protocol !== 'converse') {
        for (const request of leg.turn.requests)
          expect((request.body as any).model, where).toBe(MODELS[leg.hop.on]);
      }
    }
  });

  it('chains stateful requests: no handle for a new binding, the stored handle for a known one', () => {
    for (const leg of legs.filter((leg) => PROTOCOL[leg.hop.on] === 'responses')) {
      const [first, ...rest] = leg.turn.requests.map((request) => request.body as any);
      const where = `${leg.hop.on}: ${leg.hop.input}`;
      if (leg.bindingBefore)
        expect(first.previous_response_id, where).toBe(leg.bindingBefore.remote.responseId);
      else expect(first, where).not.toHaveProperty('previous_response_id');
      for (const body of rest) expect(body.previous_response_id, where).toMatch(/^resp_/);
    }
    // The second frontier turn ran on a current binding; the third after seven turns elsewhere.
    const frontierLegs = legsOn('frontier');
    expect(frontierLegs.map((leg) => leg.bindingBefore?.syncedVersion)).toEqual([
      undefined,
      frontierLegs[0]!.turn.result.sessionVersion,
      frontierLegs[1]!.turn.result.sessionVersion,
    ]);
    expect(frontierLegs[1]!.turn.requests[0]!.body).toMatchObject({
      input: [
        {
          type: 'message',
          role: 'user',
          content: [{ type: 'input_text', text: 'Use get_weather for Oslo.' }],
        },
      ],
    });
  });

  it('gives chat runtimes assistant tool_calls answered by tool messages with the same tool_call_id', () => {
    const finalChat = legsOn('azureChat').at(-1)!.turn.requests[0]!.body as any;
    const messages: any[] = finalChat.messages;
    const issued: string[] = [];
    messages.forEach((message, index) => {
      for (const call of message.tool_calls ?? []) {
        issued.push(call.id);
        expect(call).toMatchObject({ type: 'function', function: { name: 'get_weather' } });
        expect(messages[index + 1]).toMatchObject({ role: 'tool', tool_call_id: call.id });
      }
    });
    const allCalls = legs.flatMap((leg) => callIds(leg.turn.result.items));
    expect(issued).toEqual(allCalls);
    expect(
      messages.filter((message) => message.role === 'tool').map((message) => message.tool_call_id),
    ).toEqual(allCalls);
  });

  it('gives Responses runtimes function_call / function_call_output pairs with matching call_id and no item ids', () => {
    for (const leg of legs.filter((leg) => PROTOCOL[leg.hop.on] === 'responses')) {
      for (const request of leg.turn.requests) {
        for (const item of (request.body as any).input)
          expect(item, `${leg.hop.on}: ${leg.hop.input}`).not.toHaveProperty('id');
      }
    }
    // azureResponses' first turn started a new binding: the whole transcript, three tool exchanges.
    const seeded = legsOn('azureResponses')[0]!.turn.requests[0]!.body as any;
    const input: any[] = seeded.input;
    const calls = input.filter((item) => item.type === 'function_call');
    expect(calls.map((call) => call.call_id)).toEqual(
      legs.slice(0, 9).flatMap((leg) => callIds(leg.turn.result.items)),
    );
    for (const call of calls) {
      const index = input.indexOf(call);
      expect(input[index + 1]).toMatchObject({ type: 'function_call_output', call_id: call.call_id });
      expect(JSON.parse(call.arguments)).toEqual({ city: expect.any(String) });
    }
  });

  it('gives Converse toolUse / toolResult blocks with matching ids in alternating, merged roles', () => {
    const last = legsOn('bedrockConverse').at(-1)!.turn.requests[0]!.body as any;
    const messages: any[] = last.messages;
    expect(messages[0].role).toBe('user');
    messages.forEach((message, index) => {
      if (index > 0) expect(message.role).not.toBe(messages[index - 1].role);
    });
    const uses = messages.flatMap((message) =>
      message.content
        .filter((block: any) => block.toolUse)
        .map((block: any) => ({ role: message.role, ...block.toolUse })),
    );
    const results = messages.flatMap((message) =>
      message.content
        .filter((block: any) => block.toolResult)
        .map((block: any) => ({ role: message.role, ...block.toolResult })),
    );
    expect(uses.map((use) => use.role)).toEqual(['assistant', 'assistant', 'assistant']);
    expect(results.map((result) => result.role)).toEqual(['user', 'user', 'user']);
    expect(results.map((result) => result.toolUseId)).toEqual(uses.map((use) => use.toolUseId));
    expect(uses.map((use) => use.input)).toEqual([{ city: 'Paris' }, { city: 'Oslo' }, { city: 'Berlin' }]);
    expect(uses.map((use) => use.toolUseId)).toEqual(
      legs.slice(0, 7).flatMap((leg) => callIds(leg.turn.result.items)),
    );
    expect(last.system).toEqual([{ text: INSTRUCTIONS }]);
  });

  it('keeps every message, tool call and tool result in the store exactly once, in order', async () => {
    const stored = await itemsOf(store, SESSION);
    const produced = legs.flatMap((leg) => leg.turn.result.items);
    expect(stored).toEqual(produced);
    expect(new Set(stored.map((item) => item.id)).size).toBe(stored.length);
    expect(legs.at(-1)!.turn.result.sessionVersion).toBe(stored.length);

    const userInputs = stored.filter((item) => item.type === 'message' && item.role === 'user');
    expect(userInputs.map((item) => (item.type === 'message' ? item.content : []))).toEqual(
      PLAN.map((hop) => [{ type: 'text', text: hop.input }]),
    );
    const calls = callIds(stored);
    expect(calls).toHaveLength(4);
    expect(new Set(calls).size).toBe(4);
    for (const callId of calls) {
      const callAt = stored.findIndex((item) => item.type === 'tool_call' && item.callId === callId);
      const resultsAt = stored.flatMap((item, index) =>
        item.type === 'tool_result' && item.callId === callId ? [index] : [],
      );
      expect(resultsAt).toHaveLength(1);
      expect(resultsAt[0]).toBeGreaterThan(callAt);
    }
    expect(stored.filter((item) => item.type === 'message' && item.role === 'assistant')).toHaveLength(
      PLAN.length,
    );
    expect(stored.every((item) => item.type !== 'reasoning')).toBe(true);
    expect(stored).toHaveLength(PLAN.length * 2 + 4 * 2);
  });
});

describe('a tool call id that Bedrock cannot take', () => {
  // Some OpenAI-compatible servers (vLLM with Kimi models, for one) issue ids like this one.
  const FOREIGN_ID = 'functions.get_weather:0';

  it('is rewritten the same way for toolUse and toolResult on Converse, and sent unchanged everywhere else', async () => {
    const { on, local, agent } = agentApart();
    const session = 'foreign-call-id';
    await turn(emu, agent, local, 'Hi, my name is Ada.', { session });
    await local.append(
      keyOf(session),
      [
        createItem<MessageItem>({
          type: 'message',
          role: 'user',
          content: [{ type: 'text', text: 'Look up Paris.' }],
        }),
        createItem<ToolCallItem>({
          type: 'tool_call',
          callId: FOREIGN_ID,
          name: 'get_weather',
          arguments: '{"city":"Paris"}',
        }),
        createItem<ToolResultItem>({ type: 'tool_result', callId: FOREIGN_ID, output: '{"tempC":21}' }),
        createItem<MessageItem>({
          type: 'message',
          role: 'assistant',
          content: [{ type: 'text', text: 'It is 21 °C in Paris.' }],
        }),
      ],
      { expectedVersion: 2 },
    );

    const onBedrock = agent.withRuntime(on.bedrockConverse);
    const asked = await turn(emu, onBedrock, local, 'What is my name?', { session });
    const oslo = await turn(emu, onBedrock, local, 'Use get_weather for Oslo.', { session });
    expect(asked.result.text).toBe('Your name is Ada.');
    expect(oslo.result.text).toBe('The get_weather tool returned: {"city":"Oslo","tempC":21,"sky":"clear"}');

    const converse = oslo.requests.at(-1)!.body as any;
    const blocks = converse.messages.flatMap((message: any) => message.content);
    const uses = blocks.filter((block: any) => block.toolUse).map((block: any) => block.toolUse.toolUseId);
    const results = blocks
      .filter((block: any) => block.toolResult)
      .map((block: any) => block.toolResult.toolUseId);
    expect(uses).toHaveLength(2);
    expect(uses[0]).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(uses[0]).not.toBe(FOREIGN_ID);
    expect(uses[1]).toMatch(/^tooluse_/);
    expect(results).toEqual(uses);

    const osloCall = callIds(oslo.result.items)[0]!;
    expect(callIds(await itemsOf(local, session))).toEqual([FOREIGN_ID, osloCall]);
    expect(osloCall).toBe(uses[1]);

    const chat = await turn(emu, agent, local, 'What is my name?', { session });
    const chatBody = chat.requests[0]!.body as any;
    expect(
      chatBody.messages.flatMap((message: any) => (message.tool_calls ?? []).map((call: any) => call.id)),
    ).toEqual([FOREIGN_ID, osloCall]);
    expect(
      chatBody.messages
        .filter((message: any) => message.role === 'tool')
        .map((message: any) => message.tool_call_id),
    ).toEqual([FOREIGN_ID, osloCall]);

    const responses = await turn(emu, agent.withRuntime(on.frontier), local, 'What is my name?', { session });
    const input: any[] = (responses.requests[0]!.body as any).input;
    expect(input.filter((item) => item.type === 'function_call').map((item) => item.call_id)).toEqual([
      FOREIGN_ID,
      osloCall,
    ]);
    expect(input.filter((item) => item.type === 'function_call_output').map((item) => item.call_id)).toEqual([
      FOREIGN_ID,
      osloCall,
    ]);
    expect(responses.result.text).toBe('Your name is Ada.');
  });
});

describe('an image in the history', () => {
  // A 1×1 transparent PNG.
  const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

  it('reaches chat, Responses and Converse runtimes as each one takes images', async () => {
    const { on, local, agent } = agentApart();
    const session = 'image-travels';
    await agent.run(
      [
        { type: 'text', text: 'Hi, my name is Ada. Here is my photo.' },
        { type: 'image', mediaType: 'image/png', data: PNG },
      ],
      { session },
    );

    const chat = await turn(emu, agent.withRuntime(on.openaiChat), local, 'What is my name?', { session });
    const responses = await turn(emu, agent.withRuntime(on.frontier), local, 'What is my name?', { session });
    const converse = await turn(emu, agent.withRuntime(on.bedrockConverse), local, 'What is my name?', {
      session,
    });
    for (const moved of [chat, responses, converse]) expect(moved.result.text).toBe('Your name is Ada.');

    const chatFirst = (chat.requests[0]!.body as any).messages[1];
    expect(chatFirst).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'Hi, my name is Ada. Here is my photo.' },
        { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
      ],
    });
    const responsesFirst = (responses.requests[0]!.body as any).input[0];
    expect(responsesFirst.content).toEqual([
      { type: 'input_text', text: 'Hi, my name is Ada. Here is my photo.' },
      { type: 'input_image', image_url: `data:image/png;base64,${PNG}`, detail: 'auto' },
    ]);
    const converseFirst = (converse.requests[0]!.body as any).messages[0];
    expect(converseFirst).toEqual({
      role: 'user',
      content: [
        { text: 'Hi, my name is Ada. Here is my photo.' },
        { image: { format: 'png', source: { bytes: PNG } } },
      ],
    });
  });
});
