import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HttpResponse, type RequestHandler } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { record, type SeenRequest } from '../../helpers/runtime-kit.js';

/**
 * `ai` 7 and `@ai-sdk/*` 4 declare Node 22 or later, so these suites run on Node 22 and 24 (CI runs
 * the whole suite there too) and are skipped on Node 20 with a reason printed. cloudhop/ai-sdk
 * itself imports nothing of the AI SDK; only the tests need the packages.
 */
export const aiSdkRuns = Number(process.versions.node.split('.')[0]) >= 22;

export function warnIfSkipped(suite: string): void {
  if (aiSdkRuns) return;
  console.warn(
    `Skipping the ${suite} tests: ai 7 and @ai-sdk/* 4 need Node 22 or later (this is Node ${process.versions.node}). ` +
      'Run them with `npx -y node@22 node_modules/vitest/vitest.mjs run test/runtimes/ai-sdk`; CI runs them on Node 22 and 24.',
  );
}

/** Imports an AI SDK package where it runs; elsewhere the value is never read (the suites are skipped). */
export async function importWhereSupported<T>(load: () => Promise<T>): Promise<T> {
  return aiSdkRuns ? load() : (undefined as unknown as T);
}

const FIXTURES = fileURLToPath(new URL('../../fixtures/ai-sdk/', import.meta.url));

export function fixtureText(name: string): string {
  return readFileSync(FIXTURES + name, 'utf8');
}

export function fixtureJson<T = any>(name: string): T {
  return JSON.parse(fixtureText(name)) as T;
}

/** One example of a `{ examples: [{ name, status, headers?, body }] }` error fixture, as a response. */
export function errorResponse(
  file: string,
  name: string,
  extraHeaders: Record<string, string> = {},
): Response {
  const example = fixtureJson(file).examples.find((entry: { name: string }) => entry.name === name);
  if (!example) throw new Error(`no example ${name} in ${file}`);
  return HttpResponse.json(example.body, {
    status: example.status,
    headers: { ...example.headers, ...extraHeaders },
  });
}

function streamOf(text: string): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text));
      controller.close();
    },
  });
  return new HttpResponse(body, { headers: { 'content-type': 'text/event-stream' } });
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}

/** Gemini's `streamGenerateContent?alt=sse`: each chunk as `data: {json}` and a blank line. */
export function geminiSse(chunks: string | unknown[]): Response {
  const json = typeof chunks === 'string' ? lines(chunks) : chunks.map((chunk) => JSON.stringify(chunk));
  return streamOf(json.map((line) => `data: ${line}\r\n\r\n`).join(''));
}

/** Anthropic's stream: each event as `event: <type>`, `data: {json}` and a blank line. */
export function anthropicSse(chunks: string, trailer = ''): Response {
  const events = lines(chunks).map((line) => {
    const { type } = JSON.parse(line) as { type: string };
    return `event: ${type}\ndata: ${line}\n\n`;
  });
  return streamOf(events.join('') + trailer);
}

/**
 * An msw server for one test file that records every request it answers. `onUnhandledRequest`
 * is 'error' for unit tests; a flow that also talks to the emulator passes 'bypass'.
 */
export function providerServer(onUnhandledRequest: 'error' | 'bypass' = 'error'): {
  seen: SeenRequest[];
  use(...handlers: RequestHandler[]): void;
  /** Wraps a resolver so each request it answers is recorded in `seen` first. */
  recorded<A extends { request: Request }>(
    resolve: (args: A) => Response | Promise<Response>,
  ): (args: A) => Promise<Response>;
} {
  const server = setupServer();
  const seen: SeenRequest[] = [];
  beforeAll(() => {
    if (aiSdkRuns) server.listen({ onUnhandledRequest });
  });
  afterEach(() => {
    server.resetHandlers();
    seen.length = 0;
  });
  afterAll(() => server.close());
  return {
    seen,
    use: (...handlers) => server.use(...handlers),
    recorded: (resolve) => async (args) => {
      await record(args.request, seen);
      return resolve(args);
    },
  };
}
