import { fork } from 'node:child_process';
import OpenAI from 'openai';
globalThis.__m = [];
const { createAgent, memoryStore } = await import('./dist/index.js');
const { openaiChat } = await import('./dist/openai.js');
const child = fork('bench/server.mjs', [], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
const port = await new Promise((r) => child.stdout.once('data', (d) => r(d.toString().trim())));
const baseURL = `http://127.0.0.1:${port}/v1`;
const raw = new OpenAI({ apiKey: 'k', baseURL, maxRetries: 0 });
const rt = openaiChat({ model: 'm', apiKey: 'k', baseURL });
let tStep;
const timed = { id: rt.id, kind: rt.kind, family: rt.family, step(req, ctx) { globalThis.__m.push(['step', performance.now()]); return rt.step(req, ctx); } };
const agent = createAgent({ runtime: timed, store: memoryStore() });
const acc = {};
for (let i = 0; i < 2300; i++) {
  await raw.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'Hello' }] });
  globalThis.__m = [['call', performance.now()]];
  await agent.run('Hello', { session: `s${i}` });
  if (i >= 300) { const m = globalThis.__m; for (let j = 1; j < m.length; j++) (acc[m[j][0]] ??= []).push((m[j][1] - m[j - 1][1]) * 1000); }
}
const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
console.log(Object.fromEntries(Object.entries(acc).map(([k, v]) => [k, med(v).toFixed(1)])));
child.kill();
