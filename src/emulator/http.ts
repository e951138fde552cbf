import type { EmulatorRoute } from './faults.js';
import type { EmulatorRespond } from './model.js';
import type { ServerState } from './state.js';

/** Whose wire conventions (error envelopes, 401/404 shapes) a path follows. */
export type Vendor = 'openai' | 'azure' | 'bedrock';

/** What a route answers; the server writes it over HTTP/1.1 or HTTP/2. */
export type Reply =
  | { kind: 'json'; status: number; headers?: Record<string, string>; body: unknown }
  | { kind: 'stream'; headers: Record<string, string>; chunks: Array<string | Uint8Array> };

/** Thrown by route code to answer with an error reply from deep inside validation. */
export class ReplyError extends Error {
  readonly reply: Reply;
  constructor(reply: Reply) {
    super('reply');
    this.reply = reply;
  }
}

export function jsonReply(status: number, body: unknown, headers?: Record<string, string>): Reply {
  return headers === undefined ? { kind: 'json', status, body } : { kind: 'json', status, body, headers };
}

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
};

/** One server-sent event: `data:` only (chat completions) or `event:` + `data:` (Responses). */
export function sseEvent(data: unknown, event?: string): string {
  const line = `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
  return event === undefined ? line : `event: ${event}\n${line}`;
}

export interface RouteInput {
  /** The pattern's capture groups, URL-decoded. */
  params: string[];
  query: URLSearchParams;
  /** The parsed JSON body; undefined when the request had none. */
  body: unknown;
  vendor: Vendor;
}

export interface RouteServices {
  state: ServerState;
  respond: EmulatorRespond | undefined;
}

export interface RouteDefinition {
  method: 'GET' | 'POST' | 'DELETE';
  pattern: RegExp;
  route: EmulatorRoute;
  /** Azure's deployment routes answer 404 without an `api-version` query parameter, as Azure does. */
  requiresApiVersion?: boolean;
  handle(input: RouteInput, services: RouteServices): Promise<Reply> | Reply;
}

/** Paths under /openai/ are Azure's, under /model/ Bedrock's, the rest OpenAI's. */
export function vendorOf(path: string): Vendor {
  if (path.startsWith('/openai/')) return 'azure';
  if (path.startsWith('/model/')) return 'bedrock';
  return 'openai';
}

export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
