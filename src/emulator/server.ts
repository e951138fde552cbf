import { setMaxListeners } from 'node:events';
import http, { type IncomingHttpHeaders } from 'node:http';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { messageOf } from '../core/errors.js';
import {
  faultReply,
  internalError,
  MAX_BODY_BYTES,
  malformedJson,
  notFound,
  tooLarge,
  unauthorized,
} from './errors.js';
import { type FaultController, parseFaults } from './faults.js';
import {
  jsonReply,
  type Reply,
  ReplyError,
  type RouteDefinition,
  type RouteServices,
  type Vendor,
  vendorOf,
} from './http.js';
import { bedrockConverseRoutes } from './routes/bedrock-converse.js';
import { chatCompletionRoutes } from './routes/chat-completions.js';
import { conversationRoutes } from './routes/conversations.js';
import { responsesRoutes } from './routes/responses.js';
import type { StatsRecorder } from './stats.js';

const ROUTES: RouteDefinition[] = [
  ...chatCompletionRoutes,
  ...responsesRoutes,
  ...conversationRoutes,
  ...bedrockConverseRoutes,
];

/** The bytes every HTTP/2 client sends first (RFC 9113 §3.4); anything else is HTTP/1.1. */
const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** One request/response pair, whichever protocol carried it. */
interface Exchange {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: AsyncIterable<Buffer>;
  respond(status: number, headers: Record<string, string>, body: string): void;
  startStream(headers: Record<string, string>): void;
  write(chunk: string | Uint8Array): Promise<void>;
  end(): void;
  /** Ends the exchange abruptly, the way a dropped connection looks to the client. */
  cut(): void;
  gone(): boolean;
}

function http1Exchange(req: http.IncomingMessage, res: http.ServerResponse): Exchange {
  return {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    headers: req.headers,
    body: req,
    respond(status, headers, body) {
      res.writeHead(status, headers);
      res.end(body);
    },
    startStream(headers) {
      res.writeHead(200, headers);
      res.flushHeaders();
    },
    write(chunk) {
      return new Promise((resolve) => {
        if (this.gone()) resolve();
        else res.write(chunk, () => resolve());
      });
    },
    end: () => res.end(),
    cut: () => req.socket.destroy(),
    gone: () => res.writableEnded || req.socket.destroyed,
  };
}

function http2Exchange(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): Exchange {
  return {
    method: String(headers[':method'] ?? 'GET'),
    url: String(headers[':path'] ?? '/'),
    headers,
    body: stream,
    respond(status, responseHeaders, body) {
      stream.respond({ ':status': status, ...responseHeaders });
      stream.end(body);
    },
    startStream(responseHeaders) {
      stream.respond({ ':status': 200, ...responseHeaders });
    },
    write(chunk) {
      return new Promise((resolve) => {
        if (this.gone()) resolve();
        else stream.write(chunk, () => resolve());
      });
    },
    end: () => stream.end(),
    // destroy() resets the stream at once; close() would end it cleanly first.
    cut: () => stream.destroy(new Error('stream cut by an emulator fault')),
    gone: () => stream.destroyed || stream.closed,
  };
}

/** Credentials are checked for presence only: an api-key, a bearer token or a SigV4 signature. */
function hasCredentials(headers: IncomingHttpHeaders): boolean {
  const apiKey = headers['api-key'];
  if (typeof apiKey === 'string' && apiKey.trim() !== '') return true;
  const authorization = headers.authorization ?? '';
  return /^Bearer\s+\S+/i.test(authorization) || /^AWS4-HMAC-SHA256\s+\S+/.test(authorization);
}

interface ReceivedBody {
  size: number;
  /** Undefined when the body went over the size limit (its bytes were counted, then dropped). */
  text: string | undefined;
}

async function readBody(body: AsyncIterable<Buffer>): Promise<ReceivedBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    else chunks.length = 0;
  }
  return { size, text: size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8') };
}

type ParsedJson = { ok: true; value: unknown } | { ok: false };

function parseJson(text: string): ParsedJson {
  if (text.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function matchRoute(
  method: string,
  path: string,
): { definition: RouteDefinition; params: string[] } | undefined {
  for (const definition of ROUTES) {
    if (definition.method !== method) continue;
    const match = definition.pattern.exec(path);
    if (!match) continue;
    try {
      return { definition, params: match.slice(1).map((param) => decodeURIComponent(param)) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export interface EmulatorServerDeps {
  services: RouteServices;
  faults: FaultController;
  stats: StatsRecorder;
}

export interface EmulatorServer {
  listen(port: number, host: string): Promise<AddressInfo>;
  close(): Promise<void>;
}

export function createEmulatorServer({ services, faults, stats }: EmulatorServerDeps): EmulatorServer {
  const closing = new AbortController();
  // Every request waiting out a latency fault listens for close, and there can be any number.
  setMaxListeners(Number.POSITIVE_INFINITY, closing.signal);
  const sockets = new Set<net.Socket>();

  async function send(exchange: Exchange, reply: Reply, cutAfterChunks?: number): Promise<void> {
    if (exchange.gone()) return;
    if (reply.kind === 'json') {
      const text = JSON.stringify(reply.body);
      exchange.respond(
        reply.status,
        {
          ...reply.headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(text)),
        },
        text,
      );
      return;
    }
    exchange.startStream(reply.headers);
    for (const [index, chunk] of reply.chunks.entries()) {
      if (cutAfterChunks !== undefined && index >= cutAfterChunks) {
        exchange.cut();
        return;
      }
      await exchange.write(chunk);
      if (exchange.gone()) return;
    }
    exchange.end();
  }

  async function control(exchange: Exchange, url: URL): Promise<Reply> {
    const route = `${exchange.method} ${url.pathname}`;
    const received = await readBody(exchange.body);
    switch (route) {
      case 'GET /_emulator/stats':
        return jsonReply(200, stats.stats());
      case 'GET /_emulator/requests': {
        const raw = url.searchParams.get('limit');
        const limit = raw === null ? undefined : Number(raw);
        if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
          return jsonReply(400, { error: { message: `limit: expected a whole number >= 0, got '${raw}'` } });
        }
        return jsonReply(200, stats.requests(limit));
      }
      case 'GET /_emulator/faults':
        return jsonReply(200, { faults: faults.list() });
      case 'POST /_emulator/faults': {
        const parsed = received.text === undefined ? { ok: false as const } : parseJson(received.text);
        if (!parsed.ok) return jsonReply(400, { error: { message: 'The body must be a fault as JSON.' } });
        const result = parseFaults(parsed.value);
        if (!result.ok) return jsonReply(400, { error: { message: result.message } });
        faults.replace(result.faults);
        return jsonReply(200, { faults: faults.list() });
      }
      case 'DELETE /_emulator/faults':
        faults.clear();
        return jsonReply(200, { faults: [] });
      default:
        return jsonReply(404, {
          error: {
            message: `No emulator control route ${route}. Try GET /_emulator/stats, GET /_emulator/requests, POST or DELETE /_emulator/faults.`,
          },
        });
    }
  }

  async function handle(exchange: Exchange): Promise<void> {
    let vendor: Vendor = 'openai';
    let streaming = false;
    try {
      const url = new URL(exchange.url, 'http://emulator.invalid');
      const path = url.pathname;
      vendor = vendorOf(path);
      if (path === '/_emulator' || path.startsWith('/_emulator/')) {
        await send(exchange, await control(exchange, url));
        return;
      }
      const match = matchRoute(exchange.method, path);
      if (!match || (match.definition.requiresApiVersion && !url.searchParams.get('api-version'))) {
        await readBody(exchange.body);
        await send(exchange, notFound(vendor, exchange.method, path));
        return;
      }
      const { route } = match.definition;
      const received = await readBody(exchange.body);
      const parsed: ParsedJson = received.text === undefined ? { ok: false } : parseJson(received.text);
      stats.record(route, received.size, parsed.ok ? (parsed.value ?? null) : null);
      if (received.text === undefined) return await send(exchange, tooLarge(vendor, received.size));
      if (!hasCredentials(exchange.headers)) return await send(exchange, unauthorized(vendor));

      const effect = faults.take(route);
      if (effect.latencyMs > 0) await delay(effect.latencyMs, undefined, { signal: closing.signal });
      if (effect.dropStored) services.state.dropAll();
      if (effect.status !== undefined) {
        return await send(
          exchange,
          faultReply(vendor, route, effect.status, effect.retryAfterMs, url.searchParams.get('api-version')),
        );
      }
      if (!parsed.ok) return await send(exchange, malformedJson(vendor));

      const reply = await match.definition.handle(
        {
          params: match.params,
          query: url.searchParams,
          body: parsed.value,
          vendor,
        },
        services,
      );
      streaming = reply.kind === 'stream';
      await send(exchange, reply, effect.cutAfterChunks);
    } catch (error) {
      if (closing.signal.aborted || exchange.gone()) return;
      if (streaming) {
        exchange.cut();
        return;
      }
      const reply = error instanceof ReplyError ? error.reply : internalError(vendor, messageOf(error));
      await send(exchange, reply).catch(() => exchange.cut());
    }
  }

  const http1 = http.createServer((req, res) => {
    res.on('error', () => {});
    void handle(http1Exchange(req, res));
  });
  http1.on('clientError', (_error, socket) => {
    if (socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });

  const h2 = http2.createServer();
  h2.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    void handle(http2Exchange(stream, headers));
  });
  h2.on('sessionError', () => {});
  h2.on('session', (session) => session.on('error', () => {}));

  /** Reads just enough of a new connection to tell HTTP/2 from HTTP/1.1, then hands it over unread. */
  function dispatch(socket: net.Socket): void {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const compared = Math.min(received.length, HTTP2_PREFACE.length);
      const looksLikeHttp2 = received.subarray(0, compared).equals(HTTP2_PREFACE.subarray(0, compared));
      if (looksLikeHttp2 && compared < HTTP2_PREFACE.length) return;
      socket.off('data', onData);
      socket.pause();
      socket.unshift(received);
      if (looksLikeHttp2) {
        h2.emit('connection', socket);
      } else {
        http1.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
  }

  const server = net.createServer(dispatch);

  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close() {
      closing.abort();
      return new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}
