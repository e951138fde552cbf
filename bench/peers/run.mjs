// Runs under Node 22 (the peers need it): the raw openai client, cloudhop's agent.run (from the built
// dist/), the Vercel AI SDK's generateText and the OpenAI Agents SDK's run() against the benchmark
// server, same request, interleaved in one process; prints JSON stats.
import { createOpenAI } from '@ai-sdk/openai';
import { Agent, run, setDefaultOpenAIClient, setOpenAIAPI, setTracingDisabled } from '@openai/agents';
import { generateText } from 'ai';
import OpenAI from 'openai';

const [serverUrl, runsArg, warmupArg, distDir] = process.argv.slice(2);
const runs = Number(runsArg);
const warmup = Number(warmupArg);
const baseURL = `${serverUrl}/v1`;
const model = 'gpt-4o-mini';

const raw = new OpenAI({ apiKey: 'bench-key', baseURL, maxRetries: 0 });
const provider = createOpenAI({ apiKey: 'bench-key', baseURL });
setDefaultOpenAIClient(new OpenAI({ apiKey: 'bench-key', baseURL, maxRetries: 0 }));
setOpenAIAPI('chat_completions');
setTracingDisabled(true);
const agent = new Agent({ name: 'bench', model });
const { createAgent, memoryStore } = await import(`${distDir}/index.js`);
const { openaiChat } = await import(`${distDir}/openai.js`);
const hop = createAgent({
  runtime: openaiChat({ model, apiKey: 'bench-key', baseURL }),
  store: memoryStore(),
});
let session = 0;

const cases = [
  [
    'raw openai chat.completions.create',
    () => raw.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello' }] }),
  ],
  ['cloudhop agent.run (openaiChat + memoryStore)', () => hop.run('Hello', { session: `peer-${session++}` })],
  [
    'Vercel AI SDK generateText (chat)',
    () => generateText({ model: provider.chat(model), prompt: 'Hello', maxRetries: 0 }),
  ],
  ['OpenAI Agents SDK run() (chat_completions)', () => run(agent, 'Hello')],
];

const samples = cases.map(() => []);
for (let round = 0; round < warmup + runs; round++) {
  for (const [index, [, fn]] of cases.entries()) {
    const start = performance.now();
    await fn();
    if (round >= warmup) samples[index].push(performance.now() - start);
  }
}
const stats = (values) => {
  const s = values.slice().sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { min: s[0], median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, max: s.at(-1) };
};
console.log(JSON.stringify(Object.fromEntries(cases.map(([name], i) => [name, stats(samples[i])]))));
