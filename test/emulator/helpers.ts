import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import OpenAI, { AzureOpenAI } from 'openai';
import type { Emulator } from '../../src/emulator/index.js';

export const AZURE_API_VERSION = '2024-10-21';

/** Official clients, unchanged except for retries: faults must reach the test as they are. */
export function openaiClient(emu: Emulator, apiKey = 'test-openai-key'): OpenAI {
  return new OpenAI({ apiKey, baseURL: emu.openaiBaseURL, maxRetries: 0 });
}

export function azureClient(emu: Emulator, deployment = 'gpt-4o'): AzureOpenAI {
  return new AzureOpenAI({
    endpoint: emu.azureEndpoint,
    apiKey: 'test-azure-key',
    apiVersion: AZURE_API_VERSION,
    deployment,
    maxRetries: 0,
  });
}

/** `http1: true` swaps the default HTTP/2 handler for NodeHttpHandler. */
export function bedrockClient(emu: Emulator, options: { http1?: boolean } = {}): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: emu.bedrockEndpoint,
    credentials: { accessKeyId: 'AKIDEMULATORTEST', secretAccessKey: 'emulator-test-secret' },
    maxAttempts: 1,
    ...(options.http1 ? { requestHandler: new NodeHttpHandler() } : {}),
  });
}

export const BEARER = { authorization: 'Bearer test-key' };

/** A raw POST, for what the official clients would never send. */
export function post(
  emu: Emulator,
  path: string,
  body: unknown,
  headers: Record<string, string> = BEARER,
): Promise<Response> {
  return fetch(emu.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export interface SseEvent {
  event?: string;
  data: string;
}

/** Splits an SSE body into events (comment lines ignored). */
export function parseSse(text: string): SseEvent[] {
  return text
    .split(/\n\n+/)
    .map((block) => block.trim())
    .filter((block) => block !== '')
    .map((block) => {
      const event: SseEvent = { data: '' };
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event.event = line.slice(7);
        else if (line.startsWith('data: ')) event.data += line.slice(6);
      }
      return event;
    });
}

export const weatherTool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
    required: ['city', 'unit'],
    additionalProperties: false,
  },
} as const;

/** A response body as JSON, typed loosely for assertions. */
export async function readJson(response: Response): Promise<any> {
  return response.json();
}
