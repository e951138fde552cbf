// The benchmark's model server: fast canned answers in the vendors' formats, so client-side cost
// dominates. Runs in its own process (bench/run.ts forks it) and prints its port on stdout.
import { createServer } from 'node:http';

let counter = 0;
const now = () => Math.floor(Date.now() / 1000);

function chatCompletion(model) {
  counter += 1;
  return {
    id: `chatcmpl-bench${counter}`,
    object: 'chat.completion',
    created: now(),
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'Hello! How can I help you today?', refusal: null },
        finish_reason: 'stop',
        logprobs: null,
      },
    ],
    usage: { prompt_tokens: 9, completion_tokens: 9, total_tokens: 18 },
  };
}

function chatChunks(model) {
  counter += 1;
  const base = { id: `chatcmpl-bench${counter}`, object: 'chat.completion.chunk', created: now(), model };
  const words = ['Hello!', ' How', ' can', ' I', ' help', ' you', ' today?'];
  return [
    { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
    ...words.map((w) => ({ ...base, choices: [{ index: 0, delta: { content: w }, finish_reason: null }] })),
    { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
    { ...base, choices: [], usage: { prompt_tokens: 9, completion_tokens: 9, total_tokens: 18 } },
  ];
}

function response(model) {
  counter += 1;
  return {
    id: `resp_bench${counter}`,
    object: 'response',
    created_at: now(),
    status: 'completed',
    model,
    output: [
      {
        type: 'message',
        id: `msg_bench${counter}`,
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text: 'Hello! How can I help you today?', annotations: [] }],
      },
    ],
    usage: {
      input_tokens: 9,
      output_tokens: 9,
      total_tokens: 18,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens_details: { reasoning_tokens: 0 },
    },
  };
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
    const model = body.model ?? 'deployment';
    if (req.url.includes('/chat/completions')) {
      if (body.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const chunk of chatChunks(model)) res.write(`data: ${JSON.stringify(chunk)}\n\n`);
        res.end('data: [DONE]\n\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(chatCompletion(model)));
      return;
    }
    if (req.url.startsWith('/v1/responses') || req.url.startsWith('/openai/v1/responses')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(response(model)));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"not found"}}');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
