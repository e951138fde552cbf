import { fork } from 'node:child_process';
import OpenAI from 'openai';
import { createItem } from './dist/index.js';
import { openaiChat } from './dist/openai.js';
const child = fork('bench/server.mjs', [], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
const port = await new Promise((r) => child.stdout.once('data', (d) => r(d.toString().trim())));
const baseURL = `http://127.0.0.1:${port}/v1`;
const raw = new OpenAI({ apiKey: 'k', baseURL, maxRetries: 0 });
const rt = openaiChat({ model: 'm', apiKey: 'k', baseURL });
await rt.step({ items: [createItem({ type: 'message', role: 'user', content: [{ type: 'text', text: 'Hello' }] })], tools: [], stream: false }, { signal: new AbortController().signal, emit() {} });
const req = { items: [createItem({ type: 'message', role: 'user', content: [{ type: 'text', text: 'Hello' }] })], tools: [], stream: false };
const cases = {
  raw: () => raw.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'Hello' }] }),
  rawArr: () => raw.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }] }),
  rawSig: () => raw.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'Hello' }] }, { signal: new AbortController().signal }),
  rt: () => rt.step(req, { signal: new AbortController().signal, emit() {} }),
};
const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let i = 0; i < 3300; i++) for (const [k, f] of Object.entries(cases)) { const s = performance.now(); await f(); if (i >= 300) times[k].push(performance.now() - s); }
const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
console.log(Object.fromEntries(Object.entries(times).map(([k, v]) => [k, med(v).toFixed(3)])));
child.kill();
