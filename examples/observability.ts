// OpenTelemetry spans of a turn: Azure fails twice (one retry, then failover to AWS), the model calls a
// tool, Azure answers. Every span goes to the console as it ends, and the trace is printed as a tree.
// Run: npx tsx examples/observability.ts   (offline, on the emulator)
//
// In an application, swap ConsoleSpanExporter for an OTLP exporter to send the spans to a collector:
//   new OTLPTraceExporter({ url: 'http://localhost:4318/v1/traces' })   (@opentelemetry/exporter-trace-otlp-http)
import {
  BasicTracerProvider,
  ConsoleSpanExporter,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import * as z from 'zod/v4';
import { frontier } from '../src/aws.js';
import { azureChat } from '../src/azure.js';
import { startEmulator } from '../src/emulator/index.js';
import { createAgent, failover, memoryStore, tool } from '../src/index.js';

const emu = await startEmulator({ port: 0 });

// The OpenTelemetry SDK: the console exporter prints each span; the in-memory one keeps them for the tree.
const memory = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter()), new SimpleSpanProcessor(memory)],
});

const weather = tool({
  name: 'get_weather',
  description: 'Current weather for a city',
  input: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, tempC: 21, sky: 'clear' }),
});

const agent = createAgent({
  runtime: failover([
    azureChat({ endpoint: emu.azureEndpoint, deployment: 'gpt-4o', apiKey: 'emulator-key' }),
    frontier({
      region: 'us-east-1',
      model: 'openai.gpt-oss-120b',
      baseURL: emu.openaiBaseURL,
      auth: { apiKey: 'emulator-key' },
    }),
  ]),
  store: memoryStore(),
  tools: [weather],
  retry: { maxRetries: 1, initialDelayMs: 50 },
  prices: {
    'gpt-4o': { inputPerMTok: 2.5, outputPerMTok: 10 },
    'openai.gpt-oss-120b': { inputPerMTok: 0.15, outputPerMTok: 0.6 },
  },
  // Or register the provider globally (trace.setGlobalTracerProvider(provider) from @opentelemetry/api,
  // or the NodeSDK's start()) and write `telemetry: {}`: the agent then uses the global tracer 'cloudhop'.
  telemetry: { tracer: provider.getTracer('example'), agentName: 'weather-bot' },
});

// Azure answers 503 twice: the first is retried on Azure, the second moves the step to AWS.
emu.faults.set({ route: 'chat', status: 503, count: 2 });
const result = await agent.run('Use get_weather for Paris.', { session: 'observability-demo' });
console.log(`\n${result.runtimeId} answered: ${result.text}`);

// The trace as a tree: each span under its parent, with its duration and a few attributes.
const shown = [
  'gen_ai.provider.name',
  'cloudhop.attempt',
  'error.type',
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens',
  'gen_ai.response.finish_reasons',
  'gen_ai.tool.call.id',
  'cloudhop.cost.usd',
];
const spans = memory.getFinishedSpans();
const startOf = (span: ReadableSpan) => span.startTime[0] * 1e9 + span.startTime[1];

function printTree(parentId: string | undefined, depth: number): void {
  const children = spans.filter((span) => span.parentSpanContext?.spanId === parentId);
  for (const span of children.sort((a, b) => startOf(a) - startOf(b))) {
    const ms = span.duration[0] * 1e3 + span.duration[1] / 1e6;
    const facts = shown
      .filter((key) => span.attributes[key] !== undefined)
      .map((key) => `${key.replace(/^gen_ai\.|^cloudhop\./, '')}=${JSON.stringify(span.attributes[key])}`);
    const status = span.status.code === 2 ? ' ERROR' : '';
    const pad = '  '.repeat(depth);
    console.log(`${pad}${span.name}  ${ms.toFixed(1)} ms${status}  ${facts.join(' ')}`);
    for (const event of span.events) {
      const attributes = Object.entries(event.attributes ?? {}).map(([key, value]) => `${key}=${value}`);
      console.log(`${pad}  · event ${event.name}  ${attributes.join(' ')}`);
    }
    printTree(span.spanContext().spanId, depth + 1);
  }
}

console.log('\ntrace:');
printTree(undefined, 0);
console.log(`\ncost: ${JSON.stringify(result.cost)}`);

await agent.close();
await provider.shutdown();
await emu.close();
