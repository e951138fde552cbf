// Fault injection: each fault's outcome (retried, failed over, or which typed error) and what the
// store holds afterwards (the turn committed exactly once, or not at all). README "Faults and outcomes".
import { fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod/v4';
import { frontier } from '../../src/aws.js';
import { azureChat } from '../../src/azure.js';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import {
  type AgentEvent,
  type AgentOptions,
  createAgent,
  failover,
  memoryStore,
  type SessionStore,
  tool,
} from '../../src/index.js';
import { sqliteStore } from '../../src/stores/sqlite.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
});
afterAll(() => emu.close());
afterEach(() => emu.faults.clear());

const weather = tool({
  name: 'get_weather',
  input: z.object({ city: z.string() }),
  execute: ({ city }) => ({ city, tempC: 21 }),
});

const onAzure = () =>
  azureChat({ endpoint: emu.azureEndpoint, deployment: 'gpt-4o', apiKey: 'emulator-key' });
const onFrontier = () =>
  frontier({
    region: 'us-east-1',
    model: 'gpt-5',
    baseURL: emu.openaiBaseURL,
    auth: { apiKey: 'emulator-key' },
  });

async function turn(
  options: Omit<AgentOptions, 'store'> & { store?: SessionStore },
  input: string,
  runOptions: { timeoutMs?: number } = {},
) {
  const store = options.store ?? memoryStore();
  const agent = createAgent({
    retry: { initialDelayMs: 1, maxDelayMs: 5 },
    tools: [weather],
    ...options,
    store,
  });
  const stream = agent.stream(input, { session: 'fault', ...runOptions });
  const events: AgentEvent[] = [];
  let error: unknown;
  try {
    for await (const event of stream) events.push(event);
  } catch (caught) {
    error = caught;
  }
  const items = await agent.session('fault').items();
  return { events, error: error as { code?: string } | undefined, items, agent, store };
}

const count = (events: AgentEvent[], type: AgentEvent['type']) =>
  events.filter((e) => e.type === type).length;

describe('faults and outcomes', () => {
  it('429 burst: retried with the server delay, committed once', async () => {
    emu.faults.set({ route: 'chat', status: 429, retryAfterMs: 30, count: 2 });
    const { events, error, items } = await turn({ runtime: onAzure() }, 'Hello');
    expect(error).toBeUndefined();
    const retries = events.filter((e) => e.type === 'retry');
    expect(retries).toHaveLength(2);
    expect(retries[0]).toMatchObject({ delayMs: 30, error: { code: 'rate_limited' } });
    expect(items).toHaveLength(2);
  });

  it('500: retried, committed once', async () => {
    emu.faults.set({ route: 'chat', status: 500, count: 1 });
    const { events, error, items } = await turn({ runtime: onAzure() }, 'Hello');
    expect(error).toBeUndefined();
    expect(count(events, 'retry')).toBe(1);
    expect(items).toHaveLength(2);
  });

  it('503 that lasts: provider_unavailable after the retries, nothing committed', async () => {
    emu.faults.set({ route: 'chat', status: 503 });
    const { events, error, items } = await turn(
      { runtime: onAzure(), retry: { maxRetries: 2, initialDelayMs: 1 } },
      'Hello',
    );
    expect(error).toMatchObject({ code: 'provider_unavailable' });
    expect(count(events, 'retry')).toBe(2);
    expect(items).toEqual([]);
  });

  it('503 that lasts, behind failover: failed over to the next cloud, committed once', async () => {
    emu.faults.set({ route: 'chat', status: 503 });
    const { events, error, items } = await turn(
      { runtime: failover([onAzure(), onFrontier()]), retry: { maxRetries: 1, initialDelayMs: 1 } },
      'Hello',
    );
    expect(error).toBeUndefined();
    expect(events.find((e) => e.type === 'failover')).toMatchObject({
      error: { code: 'provider_unavailable' },
    });
    expect(events.at(-1)).toMatchObject({ type: 'turn-finish', result: { runtimeId: onFrontier().id } });
    expect(items).toHaveLength(2);
  });

  it('slow first byte past timeoutMs: the request times out and is retried, committed once', async () => {
    emu.faults.set({ route: 'chat', latencyMs: 2_000, count: 1 });
    const { events, error, items } = await turn({ runtime: onAzure(), timeoutMs: 300 }, 'Hello');
    expect(error).toBeUndefined();
    expect(events.find((e) => e.type === 'retry')).toMatchObject({ error: { code: 'timeout' } });
    expect(items).toHaveLength(2);
  });

  it('slow first byte past the turn timeout: timeout, nothing committed', async () => {
    emu.faults.set({ route: 'chat', latencyMs: 2_000 });
    const { error, items } = await turn({ runtime: onAzure() }, 'Hello', { timeoutMs: 200 });
    expect(error).toMatchObject({ code: 'timeout' });
    expect(items).toEqual([]);
  });

  it('stream cut before any text: retried, committed once', async () => {
    emu.faults.set({ route: 'chat', cutAfterChunks: 1, count: 1 });
    const { events, error, items } = await turn({ runtime: onAzure() }, 'Hello');
    expect(error).toBeUndefined();
    expect(count(events, 'retry')).toBe(1);
    expect(items).toHaveLength(2);
  });

  it('stream cut mid-text: the turn fails cleanly (shown text cannot be taken back), nothing committed', async () => {
    emu.faults.set({ route: 'chat', cutAfterChunks: 4, count: 1 });
    const { events, error, items, agent } = await turn(
      { runtime: onAzure() },
      'Tell me a long story about clouds',
    );
    expect(count(events, 'text-delta')).toBeGreaterThan(0);
    expect(count(events, 'retry')).toBe(0);
    expect(error).toMatchObject({ code: 'provider_unavailable' });
    expect(items).toEqual([]);
    expect((await agent.run('Again', { session: 'fault' })).sessionVersion).toBe(2);
  });

  it('stream cut mid-tool-arguments: no text was shown, so the step is retried; committed once', async () => {
    emu.faults.set({ route: 'responses', cutAfterChunks: 5, count: 1 });
    const { events, error, items } = await turn({ runtime: onFrontier() }, 'Use get_weather for Paris.');
    expect(error).toBeUndefined();
    expect(count(events, 'retry')).toBe(1);
    expect(count(events, 'tool-call')).toBe(1);
    expect(items.map((i) => i.type)).toEqual(['message', 'tool_call', 'tool_result', 'message']);
  });

  it('expired server state: reseeded from the local transcript, no error, committed once', async () => {
    const store = memoryStore();
    const first = await turn({ runtime: onFrontier(), store }, 'Hi, my name is Ada.');
    expect(first.error).toBeUndefined();
    emu.faults.set({ route: 'responses', dropStored: true, count: 1 });
    const { events, error, items } = await turn({ runtime: onFrontier(), store }, 'What is my name?');
    expect(error).toBeUndefined();
    expect(events.find((e) => e.type === 'session-reseeded')).toBeDefined();
    expect(events.at(-1)).toMatchObject({
      type: 'turn-finish',
      result: { text: expect.stringContaining('Ada') },
    });
    expect(items).toHaveLength(4);
  });

  it('store write failure after a successful model call: store_unavailable, nothing committed, next turn works', async () => {
    const inner = memoryStore();
    let failNext = true;
    const flaky: SessionStore = {
      ...inner,
      append: async (...args) => {
        if (failNext) {
          failNext = false;
          throw new Error('ECONNRESET while writing');
        }
        return inner.append(...args);
      },
    };
    const { error, items, agent } = await turn({ runtime: onAzure(), store: flaky }, 'Hello');
    expect(error).toMatchObject({ code: 'store_unavailable' });
    expect(emu.stats().routes.chat?.requests).toBeGreaterThan(0);
    expect(items).toEqual([]);
    expect((await agent.run('Hello again', { session: 'fault' })).sessionVersion).toBe(2);
  });
});

describe('connection reset (msw)', () => {
  const endpoint = 'https://reset.openai.azure.com';
  let resets = 0;
  const server = setupServer(
    http.post(`${endpoint}/openai/deployments/gpt-4o/chat/completions`, () => {
      resets += 1;
      if (resets === 1) return HttpResponse.error();
      const chunk = (delta: object, finish: string | null) =>
        `data: ${JSON.stringify({ id: 'chatcmpl-reset', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      return new HttpResponse(
        `${chunk({ role: 'assistant', content: 'Back.' }, null)}${chunk({}, 'stop')}data: [DONE]\n\n`,
        {
          headers: { 'content-type': 'text/event-stream' },
        },
      );
    }),
  );
  beforeAll(() => server.listen({ onUnhandledRequest: 'bypass' }));
  afterAll(() => server.close());

  it('a reset connection is retried, committed once', async () => {
    const events: AgentEvent[] = [];
    const agent = createAgent({
      runtime: azureChat({ endpoint, deployment: 'gpt-4o', apiKey: 'k-reset-test' }),
      retry: { initialDelayMs: 1 },
    });
    const stream = agent.stream('Hello', { session: 'reset' });
    for await (const event of stream) events.push(event);
    expect((await stream.result).text).toBe('Back.');
    expect(events.find((e) => e.type === 'retry')).toMatchObject({ error: { code: 'provider_unavailable' } });
    expect(await agent.session('reset').items()).toHaveLength(2);
  });
});

describe('double submit across processes', () => {
  it('the same turn submitted by two processes at once is committed exactly once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloudhop-double-'));
    const path = join(dir, 'sessions.db');
    const child = fileURLToPath(new URL('./helpers/submit-child.ts', import.meta.url));
    const run = () =>
      new Promise<string>((resolve, reject) => {
        const proc = fork(child, [path, emu.azureEndpoint], {
          execArgv: ['--import', 'tsx'],
          stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
        });
        let out = '';
        proc.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
        });
        proc.on('exit', (code) =>
          code === 0 ? resolve(out.trim()) : reject(new Error(`child exited ${code}`)),
        );
      });
    const before = emu.stats().routes.chat?.requests ?? 0;
    const [a, b] = await Promise.all([run(), run()]);
    expect(a).toBe(b);
    expect((emu.stats().routes.chat?.requests ?? 0) - before).toBe(1);
    const store = sqliteStore({ path });
    const snapshot = await store.load({ namespace: 'default', sessionId: 'double' });
    expect(snapshot?.version).toBe(2);
    await store.close();
  });
});
