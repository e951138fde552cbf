import { createServer as createHttp1Server } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bedrockConverse } from '../../../src/aws.js';
import { type MessageItem, textOf } from '../../../src/core/items.js';
import {
  CREDENTIALS,
  converseBody,
  eventFrame,
  MODEL,
  REGION,
  stepContext,
  stepRequest,
  streamFixture,
  user,
} from './helpers.js';

interface LocalServer {
  endpoint: string;
  httpVersions: string[];
  close(): Promise<void>;
}

/** The part of node:http's and node:http2's compatibility API these servers use. */
interface MinimalRequest extends AsyncIterable<Buffer> {
  url?: string;
  httpVersion: string;
}
interface MinimalResponse {
  writeHead(status: number, headers: Record<string, string>): void;
  write(chunk: Uint8Array): boolean;
  end(data: string | Uint8Array): void;
}

/** A minimal Bedrock: Converse answers with the text it got, ConverseStream with the recorded text stream. */
async function handle(req: MinimalRequest, res: MinimalResponse, versions: string[]) {
  versions.push(req.httpVersion);
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk);
  if (req.url?.endsWith('/converse-stream')) {
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
    const frames = streamFixture('recorded-text-stream').map(eventFrame);
    for (const frame of frames.slice(0, -1)) res.write(frame);
    res.end(frames.at(-1)!);
    return;
  }
  const text = JSON.parse(Buffer.concat(chunks).toString('utf8')).messages[0].content[0].text;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(converseBody([{ text: `echo: ${text}` }])));
}

async function listen(kind: 'http1' | 'h2c'): Promise<LocalServer> {
  const httpVersions: string[] = [];
  const server =
    kind === 'http1'
      ? createHttp1Server((req, res) => handle(req, res, httpVersions))
      : createHttp2Server((req, res) => handle(req, res, httpVersions));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    httpVersions,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server) server.closeAllConnections();
      }),
  };
}

describe.each(['http1', 'h2c'] as const)(
  'bedrockConverse on its own client against a local %s server',
  (kind) => {
    let server: LocalServer;
    beforeAll(async () => {
      server = await listen(kind);
    });
    afterAll(() => server.close());

    it('answers Converse and ConverseStream requests, one after another on the same runtime', async () => {
      const runtime = bedrockConverse({
        region: REGION,
        model: MODEL,
        endpoint: server.endpoint,
        credentials: CREDENTIALS,
      });
      try {
        const first = await runtime.step(stepRequest([user('hello')]), stepContext());
        expect(textOf(first.items[0] as MessageItem)).toBe('echo: hello');

        const context = stepContext();
        const streamed = await runtime.step(stepRequest([user('count')], { stream: true }), context);
        const deltas = context.events.flatMap((e) => (e.type === 'text-delta' ? [e.delta] : []));
        expect(deltas.length).toBeGreaterThan(1);
        expect(deltas.join('')).toBe(textOf(streamed.items[0] as MessageItem));

        const again = await runtime.step(stepRequest([user('again')]), stepContext());
        expect(textOf(again.items[0] as MessageItem)).toBe('echo: again');
      } finally {
        await runtime.close?.();
      }
      expect(new Set(server.httpVersions)).toEqual(new Set([kind === 'http1' ? '1.1' : '2.0']));
    });
  },
);

describe('bedrockConverse against an endpoint nobody listens on', () => {
  it('fails with provider_unavailable so the agent can retry or fail over', async () => {
    const server = await listen('http1');
    const endpoint = server.endpoint;
    await server.close();
    const runtime = bedrockConverse({ region: REGION, model: MODEL, endpoint, credentials: CREDENTIALS });
    await expect(runtime.step(stepRequest([user('hi')]), stepContext())).rejects.toMatchObject({
      name: 'CloudhopError',
      code: 'provider_unavailable',
      retryable: true,
    });
    await runtime.close?.();
  });
});
