import { createAgent, memoryStore, createItem, type Runtime } from './src/index.js';
const fake: Runtime = { id: 'fake', kind: 'stateless', family: 'x', async step() { return { items: [createItem({ type: 'message', role: 'assistant', content: [{ type: 'text', text: 'hi' }] } as any)], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2, requestBytes: 10 } }; } };
const agent = createAgent({ runtime: fake, store: memoryStore() });
const N = 60000;
let t = performance.now();
for (let i = 0; i < N; i++) await agent.run('Hello', { session: `s${i}` });
console.log('agent overhead per turn (µs):', ((performance.now() - t) / N * 1000).toFixed(1));
