import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { bedrockConverse } from '../../../src/aws.js';
import {
  createItem,
  type Item,
  type MessageItem,
  type ToolCallItem,
  type ToolResultItem,
  textOf,
} from '../../../src/core/items.js';
import { type Emulator, startEmulator } from '../../../src/emulator/index.js';
import { createAgent } from '../../../src/index.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { assistant, CREDENTIALS, MODEL, REGION, stepContext, stepRequest, user } from './helpers.js';

const weatherTool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

let emu: Emulator;
let runtime: Runtime;
beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
  runtime = bedrockConverse({
    region: REGION,
    model: MODEL,
    endpoint: emu.bedrockEndpoint,
    credentials: CREDENTIALS,
  });
});
afterEach(() => emu.faults.clear());
afterAll(async () => {
  await runtime.close?.();
  await emu.close();
});

function answerText(items: Item[]): string {
  const message = items.find((item): item is MessageItem => item.type === 'message');
  return message ? textOf(message) : '';
}

describe.each([false, true])('bedrockConverse on the emulator (stream: %s)', (stream) => {
  it('carries the context: a name given earlier is remembered', async () => {
    const first = await runtime.step(stepRequest([user('My name is Ada.')], { stream }), stepContext());
    const items = [user('My name is Ada.'), ...first.items, user('What is my name?')];
    const context = stepContext();
    const second = await runtime.step(stepRequest(items, { stream }), context);
    expect(answerText(second.items)).toContain('Ada');
    expect(second.finishReason).toBe('stop');
    expect(second.usage.inputTokens).toBeGreaterThan(0);
    const deltas = context.events.flatMap((e) => (e.type === 'text-delta' ? [e.delta] : []));
    expect(deltas.join('')).toBe(stream ? answerText(second.items) : '');
  });

  it('runs a tool round trip: toolUse, then the toolResult in a user message, then the answer', async () => {
    const question = user('Use get_weather for Paris.');
    const call = await runtime.step(stepRequest([question], { stream, tools: [weatherTool] }), stepContext());
    expect(call.finishReason).toBe('tool_calls');
    const toolCall = call.items.find((item): item is ToolCallItem => item.type === 'tool_call')!;
    expect(toolCall.callId).toMatch(/^tooluse_/);
    expect(JSON.parse(toolCall.arguments)).toEqual({ city: 'Paris' });

    const result = createItem<ToolResultItem>({
      type: 'tool_result',
      callId: toolCall.callId,
      output: '{"tempC":21}',
    });
    const answer = await runtime.step(
      stepRequest([question, ...call.items, result], { stream, tools: [weatherTool] }),
      stepContext(),
    );
    expect(answer.finishReason).toBe('stop');
    expect(answerText(answer.items)).toContain('{"tempC":21}');
  });

  it('answers with JSON matching the output schema through the forced output tool', async () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const result = await runtime.step(
      stepRequest([user('Extract the city: I live in Paris.')], { stream, output: { name: 'city', schema } }),
      stepContext(),
    );
    expect(result.items.map((item) => item.type)).toEqual(['message']);
    expect(JSON.parse(answerText(result.items))).toEqual({ city: expect.any(String) });
  });

  it('reports requestBytes equal to the bytes the emulator received', async () => {
    const result = await runtime.step(
      stepRequest([user('Count my bytes, ünïcödé included.')], { stream }),
      stepContext(),
    );
    const [last] = emu.requests(1);
    expect(last!.route).toBe(stream ? 'converse-stream' : 'converse');
    expect(result.usage.requestBytes).toBe(last!.bytesIn);
  });

  it('continues a session whose history has a tool call named by another provider (functions.lookup)', async () => {
    const history = [
      user('Hi, my name is Ada. Look up Paris.'),
      createItem<ToolCallItem>({
        type: 'tool_call',
        callId: 'call_Q7pq6EfVGRnauPLWSSYBGJ1l',
        name: 'functions.lookup',
        arguments: '{"city":"Paris"}',
      }),
      createItem<ToolResultItem>({
        type: 'tool_result',
        callId: 'call_Q7pq6EfVGRnauPLWSSYBGJ1l',
        output: 'sunny',
      }),
      assistant('Paris is sunny.'),
      user('What is my name?'),
    ];
    const withoutTools = await runtime.step(stepRequest(history, { stream }), stepContext());
    expect(answerText(withoutTools.items)).toContain('Ada');
    const withTools = await runtime.step(
      stepRequest(history, { stream, tools: [weatherTool] }),
      stepContext(),
    );
    expect(answerText(withTools.items)).toContain('Ada');
  });

  it('maps back a call the model makes to an offered tool under its rewritten name', async () => {
    const scripted = await startEmulator({
      respond: (context) => ({ toolCalls: [{ name: context.tools[0]!.name, arguments: { city: 'Paris' } }] }),
    });
    const scriptedRuntime = bedrockConverse({
      region: REGION,
      model: MODEL,
      endpoint: scripted.bedrockEndpoint,
      credentials: CREDENTIALS,
    });
    try {
      const result = await scriptedRuntime.step(
        stepRequest([user('Look up Paris.')], {
          stream,
          tools: [{ ...weatherTool, name: 'functions.lookup' }],
        }),
        stepContext(),
      );
      const offered = (scripted.requests(1)[0]!.body as any).toolConfig.tools[0].toolSpec.name;
      expect(offered).not.toBe('functions.lookup');
      const call = result.items.find((item): item is ToolCallItem => item.type === 'tool_call')!;
      expect(call.name).toBe('functions.lookup');
      expect(JSON.parse(call.arguments)).toEqual({ city: 'Paris' });
    } finally {
      await scriptedRuntime.close?.();
      await scripted.close();
    }
  });

  it('maps an injected 429 with retry-after to rate_limited', async () => {
    emu.faults.set({
      route: stream ? 'converse-stream' : 'converse',
      status: 429,
      retryAfterMs: 1500,
      count: 1,
    });
    await expect(runtime.step(stepRequest([user('hi')], { stream }), stepContext())).rejects.toMatchObject({
      code: 'rate_limited',
      status: 429,
      retryAfterMs: 1500,
    });
  });
});

describe('bedrockConverse on the emulator, faults and clients', () => {
  it('fails with provider_unavailable when the stream is cut before messageStop', async () => {
    emu.faults.set({ route: 'converse-stream', cutAfterChunks: 2, count: 1 });
    await expect(
      runtime.step(stepRequest([user('Tell me a long story')], { stream: true }), stepContext()),
    ).rejects.toMatchObject({ code: 'provider_unavailable', retryable: true });
  });

  it.each([
    ['its own client (HTTP/1.1 first)', false],
    ["a client on the SDK's default HTTP/2 handler", true],
  ])(
    'fails with retryable provider_unavailable when the stream is cut right after the headers, on %s',
    async (_, http2) => {
      const client = new BedrockRuntimeClient({
        region: REGION,
        endpoint: emu.bedrockEndpoint,
        credentials: CREDENTIALS,
        maxAttempts: 1,
      });
      const cutRuntime = http2 ? bedrockConverse({ region: REGION, model: MODEL, client }) : runtime;
      try {
        emu.faults.set({ route: 'converse-stream', cutAfterChunks: 0, count: 1 });
        await expect(
          cutRuntime.step(stepRequest([user('Tell me a long story')], { stream: true }), stepContext()),
        ).rejects.toMatchObject({ code: 'provider_unavailable', retryable: true });
      } finally {
        client.destroy();
      }
    },
  );

  it('retries a streamed turn cut right after the headers, and the retry answers', async () => {
    const agent = createAgent({ runtime, retry: { maxRetries: 1, initialDelayMs: 1, maxDelayMs: 5 } });
    emu.faults.set({ route: 'converse-stream', cutAfterChunks: 0, count: 1 });
    const stream = agent.stream('Hi, my name is Ada.', { session: 'cut-after-headers' });
    const events: string[] = [];
    for await (const event of stream) events.push(event.type);
    const result = await stream.result;
    expect(events).toContain('retry');
    expect(result.text).toContain('Ada');
    expect(result.runtimeId).toBe(runtime.id);
  });

  it('goes to the endpoint of AWS_ENDPOINT_URL_BEDROCK_RUNTIME and names it in its id', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_BEDROCK_RUNTIME', emu.bedrockEndpoint);
    const fromEnvironment = bedrockConverse({ region: REGION, model: MODEL, credentials: CREDENTIALS });
    try {
      expect(fromEnvironment.id).toBe(`bedrock-converse:${new URL(emu.bedrockEndpoint).host}/${MODEL}`);
      const before = emu.stats().routes['converse-stream'].requests;
      const result = await fromEnvironment.step(
        stepRequest([user('My name is Grace.')], { stream: true }),
        stepContext(),
      );
      expect(answerText(result.items)).toContain('Grace');
      expect(emu.stats().routes['converse-stream'].requests).toBe(before + 1);
    } finally {
      vi.unstubAllEnvs();
      await fromEnvironment.close?.();
    }
  });

  it('leaves an endpoint_url of the shared AWS config file aside, since its runtime id names the regional endpoint', async () => {
    const configDir = mkdtempSync(join(tmpdir(), 'cloudhop-aws-config-'));
    const configFile = join(configDir, 'config');
    writeFileSync(configFile, `[default]\nendpoint_url = ${emu.bedrockEndpoint}\n`);
    vi.stubEnv('AWS_CONFIG_FILE', configFile);
    vi.stubEnv('AWS_PROFILE', 'default');
    // A region whose regional host does not exist: the request fails fast, with or without a network.
    const regional = bedrockConverse({
      region: 'cloudhop-nowhere-1',
      model: MODEL,
      credentials: CREDENTIALS,
    });
    try {
      expect(regional.id).toBe(`bedrock-converse:bedrock-runtime.cloudhop-nowhere-1.amazonaws.com/${MODEL}`);
      const before = emu.stats().routes.converse.requests;
      await expect(regional.step(stepRequest([user('hi')]), stepContext())).rejects.toMatchObject({
        code: 'provider_unavailable',
      });
      expect(emu.stats().routes.converse.requests).toBe(before);
    } finally {
      vi.unstubAllEnvs();
      await regional.close?.();
      rmSync(configDir, { recursive: true, force: true });
    }
  });

  it("works with an injected client on the SDK's default HTTP/2 handler", async () => {
    const client = new BedrockRuntimeClient({
      region: REGION,
      endpoint: emu.bedrockEndpoint,
      credentials: CREDENTIALS,
      maxAttempts: 1,
    });
    try {
      const injected = bedrockConverse({ region: REGION, model: MODEL, client });
      const plain = await injected.step(stepRequest([user('My name is Grace.')]), stepContext());
      expect(answerText(plain.items)).toContain('Grace');
      const streamed = await injected.step(
        stepRequest([user('My name is Grace.')], { stream: true }),
        stepContext(),
      );
      expect(answerText(streamed.items)).toBe(answerText(plain.items));
    } finally {
      client.destroy();
    }
  });
});
