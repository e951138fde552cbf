import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frontier } from '../../src/aws.js';
import { azureChat } from '../../src/azure.js';
import { createAgent, failover, memoryStore, type RunResult, type Runtime } from '../../src/index.js';
import { emulatorForFile, INSTRUCTIONS, MODELS, weather } from '../integration/helpers.js';

// The whole path to a backend: cloudhop's spans, the OpenTelemetry SDK's batch processor, the
// OTLP/HTTP JSON exporter, and a receiver that reads what arrived the way a collector would.

const { emu } = await emulatorForFile();
const port = Number(new URL(emu.url).port);

/** Credentials no span may carry: distinctive, so a leak anywhere in a body is found. */
const SECRETS = {
  azureKey: 'azure-otlp-key-4f1c9e7a2b',
  awsAccessKeyId: 'AKIDOTLPEXPORT7Q2W9Z',
  awsSecret: 'otlp-secret-access-key-8d3b6f0c1e',
};

const azure = azureChat({
  endpoint: emu.azureEndpoint,
  deployment: MODELS.azureChat,
  apiKey: SECRETS.azureKey,
});
const aws = frontier({
  region: 'us-east-1',
  model: MODELS.frontier,
  baseURL: emu.openaiBaseURL,
  credentials: { accessKeyId: SECRETS.awsAccessKeyId, secretAccessKey: SECRETS.awsSecret },
});

// --- an OTLP/HTTP JSON trace receiver -------------------------------------------------------------

type AnyValue = {
  stringValue?: string;
  intValue?: number | string;
  boolValue?: boolean;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
};
type KeyValue = { key: string; value: AnyValue };
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  attributes?: KeyValue[];
  events?: Array<{ name: string; attributes?: KeyValue[] }>;
  status?: { code?: number; message?: string };
}
interface ExportRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: Array<{ scope?: { name?: string }; spans?: OtlpSpan[] }>;
  }>;
}
interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** The body as it came off the wire, decompressed. */
  raw: string;
}

/** An attribute's value as a backend stores it (OTLP JSON sends int64 as a number or a string). */
function decoded(value: AnyValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return { int: Number(value.intValue) };
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.doubleValue !== undefined) return { double: value.doubleValue };
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(decoded);
  return { unknown: value };
}

/** When a span started, in nanoseconds since the epoch (OTLP JSON sends it as a decimal string). */
function startOf(span: OtlpSpan): bigint {
  return BigInt(span.startTimeUnixNano);
}

function byStart(spans: OtlpSpan[]): OtlpSpan[] {
  return spans.slice().sort((a, b) => (startOf(a) < startOf(b) ? -1 : startOf(a) > startOf(b) ? 1 : 0));
}

function attributesOf(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, decoded(value)]));
}

const received: Received[] = [];
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const raw = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString('utf8');
    received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, raw });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
});

/** Every span of the export requests, with the scope and the resource of each batch. */
function exported(requests: Received[]) {
  const spans: OtlpSpan[] = [];
  const scopes: string[] = [];
  const resources: Array<Record<string, unknown>> = [];
  for (const request of requests) {
    const body = JSON.parse(request.raw) as ExportRequest;
    for (const resourceSpans of body.resourceSpans ?? []) {
      resources.push(attributesOf(resourceSpans.resource?.attributes));
      for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
        scopes.push(scopeSpans.scope?.name ?? '');
        spans.push(...(scopeSpans.spans ?? []));
      }
    }
  }
  return { spans, scopes, resources };
}

let provider: BasicTracerProvider;

beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port: receiverPort } = receiver.address() as AddressInfo;
  provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'otlp-export-test' }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: `http://127.0.0.1:${receiverPort}/v1/traces` })),
    ],
  });
});

afterAll(async () => {
  // Shutting down flushes and closes the exporter; then the receiver closes, idle keep-alive
  // sockets included, so nothing holds the test process open.
  await provider.shutdown();
  receiver.closeAllConnections();
  await new Promise<void>((resolve, reject) =>
    receiver.close((error) => (error ? reject(error) : resolve())),
  );
});

// --- the turn ---------------------------------------------------------------------------------------

describe('spans exported over OTLP/HTTP JSON', () => {
  const session = 'otlp-session-1';
  let result: RunResult;
  let spans: OtlpSpan[];
  let scopes: string[];
  let resources: Array<Record<string, unknown>>;

  beforeAll(async () => {
    const agent = createAgent({
      runtime: failover([azure, aws]),
      store: memoryStore(),
      instructions: INSTRUCTIONS,
      tools: [weather],
      retry: { maxRetries: 0 },
      telemetry: { tracer: provider.getTracer('otlp-export-test') },
    });
    // Azure is down for one request: the first step fails over to frontier, which asks for the tool;
    // the step after the tool goes back to Azure, which answers.
    emu.faults.set({ route: 'chat', status: 503, count: 1 });
    const mark = received.length;
    result = await agent.run('Use get_weather for Paris.', { session });
    await agent.close();
    await provider.forceFlush();

    ({ spans, scopes, resources } = exported(received.slice(mark)));
  });

  const named = (name: string) => spans.filter((span) => span.name === name);
  const childrenOf = (parent: OtlpSpan) => spans.filter((span) => span.parentSpanId === parent.spanId);

  it('arrive as OTLP JSON POSTs on /v1/traces, under the service resource and the tracer scope', () => {
    expect(received.length).toBeGreaterThan(0);
    for (const request of received) {
      expect(request.method).toBe('POST');
      expect(request.url).toBe('/v1/traces');
      expect(request.headers['content-type']).toMatch(/^application\/json\b/);
    }
    expect(resources.length).toBeGreaterThan(0);
    for (const resource of resources) expect(resource['service.name']).toBe('otlp-export-test');
    expect(new Set(scopes)).toEqual(new Set(['otlp-export-test']));
  });

  it('make one trace: the turn span, and under it every request attempt and the tool call, in order', () => {
    expect(result.text).toContain('get_weather');
    expect(spans.map((span) => span.name).sort()).toEqual(
      [
        'invoke_agent',
        `chat ${MODELS.azureChat}`,
        `chat ${MODELS.frontier}`,
        'execute_tool get_weather',
        `chat ${MODELS.azureChat}`,
      ].sort(),
    );
    const [turn] = named('invoke_agent');
    expect(turn!.parentSpanId ?? '').toBe('');
    expect(turn!.kind).toBe(1); // SPAN_KIND_INTERNAL on the wire
    expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([turn!.traceId]));
    expect(turn!.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(spans.map((span) => span.spanId)).size).toBe(spans.length);
    const children = childrenOf(turn!);
    expect(children).toHaveLength(4);
    const [failed, moved, tooled, answered] = byStart(children) as [OtlpSpan, OtlpSpan, OtlpSpan, OtlpSpan];
    expect([failed.name, moved.name, tooled.name, answered.name]).toEqual([
      `chat ${MODELS.azureChat}`,
      `chat ${MODELS.frontier}`,
      'execute_tool get_weather',
      `chat ${MODELS.azureChat}`,
    ]);
    for (const chat of [failed, moved, answered]) expect(chat.kind).toBe(3); // SPAN_KIND_CLIENT
    expect(tooled.kind).toBe(1);
  });

  it('carry the GenAI attributes with their types: provider names, models, session id, integer usage', () => {
    const [turn] = named('invoke_agent');
    const [failed, answered] = byStart(named(`chat ${MODELS.azureChat}`)) as [OtlpSpan, OtlpSpan];
    const [moved] = named(`chat ${MODELS.frontier}`);
    const [tooled] = named('execute_tool get_weather');

    expect(attributesOf(turn!.attributes)).toMatchObject({
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.conversation.id': session,
      'cloudhop.answered_by': azure.id,
      'gen_ai.usage.input_tokens': { int: result.usage.inputTokens },
      'gen_ai.usage.output_tokens': { int: result.usage.outputTokens },
    });
    const chat = {
      'gen_ai.operation.name': 'chat',
      'gen_ai.conversation.id': session,
      'gen_ai.request.stream': false,
      'server.address': '127.0.0.1',
      'server.port': { int: port },
    };
    const onAzure = {
      ...chat,
      'gen_ai.provider.name': 'azure.ai.openai',
      'gen_ai.request.model': MODELS.azureChat,
      'cloudhop.runtime.id': azure.id,
    };
    expect(attributesOf(failed.attributes)).toMatchObject({
      ...onAzure,
      'cloudhop.attempt': { int: 1 },
      'error.type': 'provider_unavailable',
    });
    expect(attributesOf(moved!.attributes)).toMatchObject({
      ...chat,
      'gen_ai.provider.name': 'aws.bedrock',
      'gen_ai.request.model': MODELS.frontier,
      'gen_ai.response.model': MODELS.frontier,
      'cloudhop.runtime.id': aws.id,
      'gen_ai.response.finish_reasons': ['tool_calls'],
    });
    expect(attributesOf(answered.attributes)).toMatchObject({
      ...onAzure,
      'gen_ai.response.model': MODELS.azureChat,
      'gen_ai.response.finish_reasons': ['stop'],
    });
    // Usage arrives as integers, and the two answered requests add up to the turn's.
    const usage = (span: OtlpSpan, key: string) => attributesOf(span.attributes)[key] as { int: number };
    for (const key of ['gen_ai.usage.input_tokens', 'gen_ai.usage.output_tokens']) {
      expect(usage(moved!, key).int).toBeGreaterThan(0);
      expect(usage(answered, key).int).toBeGreaterThan(0);
    }
    expect(
      usage(moved!, 'gen_ai.usage.input_tokens').int + usage(answered, 'gen_ai.usage.input_tokens').int,
    ).toBe(result.usage.inputTokens);
    expect(
      usage(moved!, 'gen_ai.usage.output_tokens').int + usage(answered, 'gen_ai.usage.output_tokens').int,
    ).toBe(result.usage.outputTokens);

    const call = result.items.find((item) => item.type === 'tool_call');
    expect(attributesOf(tooled!.attributes)).toMatchObject({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'get_weather',
      'gen_ai.tool.type': 'function',
      'gen_ai.tool.call.id': call?.type === 'tool_call' ? call.callId : 'no tool call in the turn',
      'gen_ai.conversation.id': session,
    });
  });

  it('mark the failed Azure request as an error and record the failover as an event of the turn', () => {
    const [turn] = named('invoke_agent');
    const [failed, answered] = byStart(named(`chat ${MODELS.azureChat}`)) as [OtlpSpan, OtlpSpan];
    expect(failed.status?.code).toBe(2); // STATUS_CODE_ERROR
    expect(failed.status?.message).toBeTruthy();
    expect(attributesOf(failed.attributes)).not.toHaveProperty('gen_ai.usage.input_tokens');
    for (const ok of [answered, ...named(`chat ${MODELS.frontier}`), turn!]) {
      expect(ok.status?.code ?? 0).toBe(0);
    }
    const events = (turn!.events ?? []).map((event) => ({
      name: event.name,
      attributes: attributesOf(event.attributes),
    }));
    expect(events).toEqual([
      {
        name: 'cloudhop.failover',
        attributes: {
          'cloudhop.failover.from': azure.id,
          'cloudhop.failover.to': aws.id,
          'error.type': 'provider_unavailable',
        },
      },
    ]);
  });

  it('carry no credential anywhere in what was sent', () => {
    const everything = received.map((request) => request.raw + JSON.stringify(request.headers)).join('\n');
    expect(everything).toContain(session);
    for (const secret of Object.values(SECRETS)) expect(everything).not.toContain(secret);
  });
});

describe('a request error that echoes a credential', () => {
  it('is exported with the credential redacted from the span status', async () => {
    // A proxy or SDK that quotes the request's api-key in its error message.
    const echoing: Runtime = {
      id: azure.id,
      kind: azure.kind,
      family: azure.family,
      provider: azure.provider,
      model: azure.model,
      step: async () => {
        throw new Error(`proxy refused the request sent with api-key ${SECRETS.azureKey}`);
      },
    };
    const agent = createAgent({
      runtime: echoing,
      store: memoryStore(),
      retry: { maxRetries: 0 },
      telemetry: { tracer: provider.getTracer('otlp-export-test') },
    });
    const mark = received.length;
    await expect(agent.run('Hello', { session: 'otlp-session-2' })).rejects.toThrow(/proxy refused/);
    await agent.close();
    await provider.forceFlush();

    const requests = received.slice(mark);
    const { spans } = exported(requests);
    expect(spans.map((span) => span.name).sort()).toEqual([`chat ${MODELS.azureChat}`, 'invoke_agent']);
    for (const span of spans) {
      expect(span.status?.code).toBe(2);
      expect(span.status?.message).toContain('proxy refused the request sent with api-key [redacted]');
    }
    const everything = requests.map((request) => request.raw).join('\n');
    expect(everything).not.toContain(SECRETS.azureKey);
  });
});
