// `npm run web`: a chat page whose every message may go to another cloud (Azure chat, AWS frontier,
// AWS Bedrock Converse), one conversation kept in one store. The page speaks the Vercel AI SDK's UI
// message stream, so a `useChat` front end could replace it unchanged: POST /api/chat takes
// useChat's body ({ id, messages, ... } plus `cloud`) and answers with
// `agent.stream(...).pipeToNodeResponse(res)`; GET /api/chats/:id reloads a conversation from the
// store with `toUIMessages`. Plain node:http, no framework.
//
// Offline: the runtimes talk to the built-in emulator, started in-process. Point them at real
// endpoints the way examples/move-between-clouds.ts does to chat with real models.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import * as z from 'zod/v4';
import { bedrockConverse, frontier } from '../../src/aws.js';
import { azureChat } from '../../src/azure.js';
import { startEmulator } from '../../src/emulator/index.js';
import {
  type Agent,
  createAgent,
  memoryStore,
  type SessionStore,
  tool,
  toUIMessages,
} from '../../src/index.js';

// The AWS SDK warns about Node 20 at first use; the example's output is about the chat.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** The clouds the page offers, by the value it sends as `cloud`. */
export const CLOUDS = {
  azure: 'Azure chat',
  frontier: 'AWS frontier',
  bedrock: 'AWS Bedrock Converse',
} as const;
type Cloud = keyof typeof CLOUDS;

const weather = tool({
  name: 'get_weather',
  description: 'Current weather for a city',
  input: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, tempC: 21, sky: 'clear' }),
});

const MAX_BODY_BYTES = 1_000_000;

export interface WebChat {
  url: string;
  close(): Promise<void>;
}

/** useChat's request body: the chat id, its messages (the last one is new), and what we add: `cloud`. */
const chatRequest = z.object({
  id: z.string(),
  cloud: z.enum(Object.keys(CLOUDS) as [Cloud, ...Cloud[]]),
  messages: z
    .array(
      z.object({
        role: z.string(),
        parts: z.array(z.object({ type: z.string(), text: z.string().optional() })),
      }),
    )
    .min(1),
});

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

export async function startWebChat(
  options: { port?: number; host?: string; store?: SessionStore } = {},
): Promise<WebChat> {
  const emulator = await startEmulator({ port: 0 });
  // The emulator accepts any credentials; these fake ones make the AWS runtimes sign with SigV4.
  const fakeAws = { accessKeyId: 'AKIDEMULATOR00000000', secretAccessKey: 'emulator-secret-access-key' };
  const base = createAgent({
    runtime: azureChat({ endpoint: emulator.azureEndpoint, deployment: 'gpt-4o', apiKey: 'emulator-key' }),
    store: options.store ?? memoryStore(),
    tools: [weather],
    instructions: 'You are a helpful assistant.',
  });
  // One store, three runtimes: whichever cloud answers, the conversation is the same.
  const agents: Record<Cloud, Agent> = {
    azure: base,
    frontier: base.withRuntime(
      frontier({
        region: 'us-east-1',
        model: 'openai.gpt-oss-120b',
        baseURL: emulator.openaiBaseURL,
        credentials: fakeAws,
      }),
    ),
    bedrock: base.withRuntime(
      bedrockConverse({
        region: 'us-east-1',
        model: 'openai.gpt-oss-20b-1:0',
        endpoint: emulator.bedrockEndpoint,
        credentials: fakeAws,
      }),
    ),
  };
  const page = await readFile(new URL('./index.html', import.meta.url));

  async function chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = chatRequest.safeParse(await readJson(req).catch(() => undefined));
    if (!parsed.success) {
      sendJson(res, 400, {
        error: 'Send { id, cloud, messages } as JSON: the body useChat sends, plus cloud.',
      });
      return;
    }
    const { id, cloud, messages } = parsed.data;
    const last = messages.at(-1)!;
    const text = last.parts.map((part) => (part.type === 'text' ? (part.text ?? '') : '')).join('');
    if (last.role !== 'user' || text.trim() === '') {
      sendJson(res, 400, { error: 'The last message must be a user message with text.' });
      return;
    }
    // The store holds the conversation: only the new message is taken from the client. A client
    // that goes away aborts the turn, and nothing is committed.
    await agents[cloud].stream(text, { session: id }).pipeToNodeResponse(res);
  }

  async function transcript(res: ServerResponse, id: string): Promise<void> {
    const items = await base.session(id).items();
    sendJson(res, 200, { messages: toUIMessages(items) });
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const handled = (async () => {
      if (req.method === 'GET' && url.pathname === '/') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(page);
      } else if (req.method === 'POST' && url.pathname === '/api/chat') {
        await chat(req, res);
      } else if (req.method === 'GET' && url.pathname.startsWith('/api/chats/')) {
        await transcript(res, decodeURIComponent(url.pathname.slice('/api/chats/'.length)));
      } else {
        sendJson(res, 404, { error: 'not found' });
      }
    })();
    handled.catch((error: unknown) => {
      const status = (error as { code?: string }).code === 'invalid_session_id' ? 400 : 500;
      if (!res.headersSent) sendJson(res, status, { error: (error as Error).message });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { address, port } = server.address() as AddressInfo;

  return {
    url: `http://${address}:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const agent of Object.values(agents)) await agent.close();
      await emulator.close();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const chat = await startWebChat({ port: Number(process.env.PORT ?? 3000) });
  console.log(`cloudhop web chat — offline, on the emulator: ${chat.url}`);
  const stop = () => void chat.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
