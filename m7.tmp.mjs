import { fork } from 'node:child_process';
import OpenAI from 'openai';
const { createAgent, memoryStore } = await import('./dist/index.js');
const { openaiChat } = await import('./dist/openai.js');
const child = fork('bench/server.mjs', [], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
const port = await new Promise((r) => child.stdout.once('data', (d) => r(d.toString().trim())));
const baseURL = `http://127.0.0.1:${port}/v1`;
const raw = new OpenAI({ apiKey: 'k', baseURL, maxRetries: 0 });
const rt = openaiChat({ model: 'm', apiKey: 'k', baseURL });
const phases = { step: [], total: [], raw: [], beforeStep: [], afterStep: [] };
let t0, tStepStart, tStepEnd;
const timed = { ...rt, id: rt.id, kind: rt.kind, family: rt.family, async step(req, ctx) { tStepStart = performance.now(); const r = await rt.step(req, ctx); tStepEnd = performance.now(); return r; } };
const agent = createAgent({ runtime: timed, store: memoryStore() });
let n = 0;
for (let i = 0; i < 2300; i++) {
  let s = performance.now(); await raw.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'Hello' }] }); if (i >= 300) phases.raw.push(performance.now() - s);
  t0 = performance.now(); await agent.run('Hello', { session: `s${n++}` }); const end = performance.now();
  if (i >= 300) { phases.total.push(end - t0); phases.step.push(tStepEnd - tStepStart); phases.beforeStep.push(tStepStart - t0); phases.afterStep.push(end - tStepEnd); }
}
const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
console.log(Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, (med(v) * 1000).toFixed(0) + 'µs'])));
child.kill();
