import { fork } from 'node:child_process';
import OpenAI from 'openai';
const src = process.argv[2] === 'src';
const { createAgent, memoryStore } = await import(src ? './src/index.ts' : './dist/index.js');
const { openaiChat } = await import(src ? './src/openai.ts' : './dist/openai.js');
const child = fork('bench/server.mjs', [], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
const port = await new Promise((r) => child.stdout.once('data', (d) => r(d.toString().trim())));
const baseURL = `http://127.0.0.1:${port}/v1`;
const raw = new OpenAI({ apiKey: 'k', baseURL, maxRetries: 0 });
const agent = createAgent({ runtime: openaiChat({ model: 'm', apiKey: 'k', baseURL }), store: memoryStore() });
let n = 0;
const cases = {
  raw: () => raw.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'Hello' }] }),
  hop: () => agent.run('Hello', { session: `s${n++}` }),
};
const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let i = 0; i < 2300; i++) for (const [k, f] of Object.entries(cases)) { const s = performance.now(); await f(); if (i >= 300) times[k].push(performance.now() - s); }
const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
const r = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, med(v)]));
console.log(src ? 'src ' : 'dist', r.raw.toFixed(3), r.hop.toFixed(3), (r.hop / r.raw).toFixed(3));
child.kill();
