import { createAgent, memoryStore, createItem } from './dist/index.js';
let tS, tE;
const fake = { id: 'fake', kind: 'stateless', family: 'x', async step() { tS = performance.now(); await new Promise((r) => setTimeout(r, 1)); tE = performance.now(); return { items: [createItem({ type: 'message', role: 'assistant', content: [{ type: 'text', text: 'hi' }] })], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2, requestBytes: 10 } }; } };
const agent = createAgent({ runtime: fake, store: memoryStore() });
const before = [], after = [];
for (let i = 0; i < 3000; i++) { const t0 = performance.now(); await agent.run('Hello', { session: `s${i}` }); const t1 = performance.now(); if (i > 300) { before.push(tS - t0); after.push(t1 - tE); } }
const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
console.log('before', (med(before) * 1000).toFixed(1), 'µs after', (med(after) * 1000).toFixed(1), 'µs');
