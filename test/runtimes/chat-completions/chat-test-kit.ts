import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { vendorJson, vendorText } from '../../helpers/fixtures.js';
import { record, type SeenRequest } from '../../helpers/runtime-kit.js';

export { recordingContext, stepRequest, user } from '../../helpers/runtime-kit.js';

export const AZURE_ENDPOINT = 'https://myres.openai.azure.com';
export const AZURE_DEPLOYMENT_URL = `${AZURE_ENDPOINT}/openai/deployments/gpt-4o/chat/completions`;
export const AZURE_V1_URL = `${AZURE_ENDPOINT}/openai/v1/chat/completions`;

/**
 * An msw server for the test file: listening from the first test to the last, failing on requests
 * no handler takes, and forgetting its handlers and the requests it `seen` after each test.
 */
export function recordingServer(): {
  seen: SeenRequest[];
  /** Answers POSTs to `url` with `respond()`, recording each request in `seen` first. */
  answerWith(url: string, respond: () => Response): void;
} {
  const server = setupServer();
  const seen: SeenRequest[] = [];
  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  afterEach(() => {
    server.resetHandlers();
    seen.length = 0;
  });
  afterAll(() => server.close());
  return {
    seen,
    answerWith(url, respond) {
      server.use(
        http.post(url, async ({ request }) => {
          await record(request, seen);
          return respond();
        }),
      );
    },
  };
}

/** The body of example `name` in a JSON envelope fixture. */
export function vendorExample(file: string, name: string): any {
  const example = vendorJson(file).examples.find((entry: { name: string }) => entry.name === name);
  if (!example) throw new Error(`no example ${name} in ${file}`);
  return example.body;
}

export function sse(text: string, headers: Record<string, string> = {}): Response {
  // A stream body, as a server sends it: openai 7 cancels the body at `[DONE]`, and a string body
  // in msw never finishes cancelling.
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text));
      controller.close();
    },
  });
  return new HttpResponse(body, { headers: { 'content-type': 'text/event-stream', ...headers } });
}

/** An SSE body from chunk objects, framed like OpenAI: `data: {json}` + blank line, then `data: [DONE]`. */
export function sseOf(chunks: unknown[]): string {
  return [...chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`), 'data: [DONE]\n\n'].join('');
}

/**
 * The two streams of azure-chat-stream.msdocs-async-filter.txt, served each on its own. The doc
 * broke one JSON line of stream 2 in two (a formatting bug the fixture README points out, not wire
 * behaviour); that line is joined back.
 */
export function asyncFilterStreams(): { passes: string; blocked: string } {
  const text = vendorText('azure-chat-stream.msdocs-async-filter.txt');
  const [, passes, blocked] = text.split(/^: ===== STREAM \d.*$/m);
  if (passes === undefined || blocked === undefined) throw new Error('fixture layout changed');
  return { passes, blocked: blocked.replace('"gpt-35- \n\nturbo"', '"gpt-35-turbo"') };
}

/** A streamed body the test releases part by part. */
export function gatedStream(): {
  body: ReadableStream<Uint8Array>;
  send(text: string): void;
  end(): void;
} {
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  return {
    body,
    send: (text) => controller.enqueue(encoder.encode(text)),
    end: () => controller.close(),
  };
}
