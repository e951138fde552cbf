import { fork } from 'node:child_process';
import OpenAI from 'openai';
import { createAgent, memoryStore, createItem, type Runtime } from './src/index.js';
import { openaiChat } from './src/openai.js';
const fake: Runtime = { id: 'fake', kind: 'stateless', family: 'x', async step() { return { items: [createItem({ type: 'message', role: 'assistant', content: [{ type: 'text', text: 'hi' }] } as any)], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2, requestBytes: 10 } }; } };
const agent = createAgent({ runtime: fake, store: memoryStore() });
const N = 20000;
for (let i = 0; i < 2000; i++) await agent.run('Hello', { session: `w${i}` });
let t = performance.now();
for (let i = 0; i < N; i++) await agent.run('Hello', { session: `s${i}` });
console.log('agent overhead per turn (µs):', ((performance.now() - t) / N * 1000).toFixed(1));

const child = fork('bench/server.mjs', [], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
const port = await new Promise<string>((r) => child.stdout!.once('data', (d) => r(d.toString().trim())));
const baseURL = `http://127.0.0.1:${port}/v1`;
const raw = new OpenAI({ apiKey: 'k', baseURL, maxRetries: 0 });
const rt = openaiChat({ model: 'm', apiKey: 'k', baseURL });
const req = { items: [createItem({ type: 'message', role: 'user', content: [{ type: 'text', text: 'Hello' }] } as any)], tools: [], stream: false };
const ctx = { signal: new AbortController().signal, emit() {} };
const M = 3000;
const rawRun = () => raw.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'Hello' }] });
const rtRun = () => rt.step(req as any, { signal: new AbortController().signal, emit() {} });
const rawSig = () => raw.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'Hello' }] }, { signal: new AbortController().signal });
for (let i = 0; i < 500; i++) { await rawRun(); await rtRun(); await rawSig(); }
const times: Record<string, number[]> = { raw: [], rt: [], rawSig: [] };
for (let i = 0; i < M; i++) {
  for (const [k, f] of [['raw', rawRun], ['rt', rtRun], ['rawSig', rawSig]] as const) { const s = performance.now(); await f(); times[k].push(performance.now() - s); }
}
const med = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1];
console.log('median ms raw', med(times.raw).toFixed(3), 'runtime.step', med(times.rt).toFixed(3), 'raw+signal', med(times.rawSig).toFixed(3));
child.kill();
