import * as z from 'zod/v4';
import { failConfig, parseOptions } from '../../core/options.js';
import { registerSecret } from '../../core/secrets.js';
import type { Runtime } from '../../runtime/runtime.js';
import { OPENAI_CLIENT_DEFAULTS } from '../../runtime/vendor-client.js';
import { createChatCompletionsRuntime } from './chat-completions-runtime.js';
import {
  endpointLabel,
  httpUrl,
  registerHeaderSecrets,
  requiredString,
  stringRecord,
} from './chat-options.js';

export interface OpenAIChatOptions {
  /** The model, e.g. 'gpt-4o' (or whatever name the compatible server serves). */
  model: string;
  /** Sent as `Authorization: Bearer …`. Default: the OPENAI_API_KEY environment variable; a custom baseURL may need none. */
  apiKey?: string;
  /** Any OpenAI-compatible server, e.g. 'http://localhost:11434/v1'. Default: OPENAI_BASE_URL, else https://api.openai.com/v1. */
  baseURL?: string;
  /** OpenAI organization id (the `OpenAI-Organization` header). */
  organization?: string;
  /** Extra headers sent with every request (e.g. a gateway's own key). */
  headers?: Record<string, string>;
}

const OPENAI_BASE_URL = 'https://api.openai.com/v1';

const optionsSchema = z.strictObject({
  model: requiredString('the model name, e.g. "gpt-4o"'),
  apiKey: requiredString('an API key').optional(),
  baseURL: httpUrl('the server\'s OpenAI-compatible base URL, e.g. "http://localhost:11434/v1"').optional(),
  organization: requiredString('an OpenAI organization id').optional(),
  headers: stringRecord.optional(),
});

/** The environment where there is one: cloudhop/openai also runs on web-standard runtimes without `process`. */
function environment(name: string): string | undefined {
  const value = globalThis.process?.env?.[name]?.trim();
  return value ? value : undefined;
}

/** The SDK's own fallback, resolved here so that the runtime id names the server really used. */
function baseURLFromEnvironment(): string | undefined {
  const value = environment('OPENAI_BASE_URL');
  if (value === undefined) return undefined;
  const checked = httpUrl('OPENAI_BASE_URL').safeParse(value);
  if (!checked.success) {
    failConfig(
      'openaiChat: the OPENAI_BASE_URL environment variable is not an absolute http(s) URL; fix it or pass baseURL.',
      'baseURL',
    );
  }
  return checked.data;
}

/**
 * Chat completions on OpenAI or any OpenAI-compatible server (vLLM, Ollama, LiteLLM, Bedrock's
 * OpenAI-compatible chat, …), stateless. Built on the `openai` package, loaded on first use.
 */
export function openaiChat(options: OpenAIChatOptions): Runtime {
  const parsed = parseOptions(optionsSchema, options, 'openaiChat');
  const baseURL = parsed.baseURL ?? baseURLFromEnvironment() ?? OPENAI_BASE_URL;
  const apiKey = parsed.apiKey ?? environment('OPENAI_API_KEY');
  if (apiKey === undefined && baseURL === OPENAI_BASE_URL) {
    failConfig(
      'openaiChat: option "apiKey": is required for api.openai.com (or set OPENAI_API_KEY).',
      'apiKey',
    );
  }
  registerSecret(apiKey);
  registerHeaderSecrets(parsed.headers);
  const { model, organization, headers } = parsed;

  return createChatCompletionsRuntime({
    id: `openai-chat:${endpointLabel(baseURL)}/${model}`,
    family: 'openai',
    provider: 'openai',
    factory: 'openaiChat',
    model,
    errors: {
      service: baseURL === OPENAI_BASE_URL ? 'OpenAI' : `OpenAI-compatible server ${endpointLabel(baseURL)}`,
      notFound: `openaiChat: model "${model}" was not found at ${baseURL}. Check the model name and baseURL (most servers serve the API under /v1)`,
      authHint: 'Check apiKey (or OPENAI_API_KEY) and that it belongs to this baseURL.',
    },
    createClient(sdk) {
      return new sdk.OpenAI({
        baseURL,
        // A keyless local server gets no Authorization header at all (the SDK insists on a key otherwise).
        ...(apiKey === undefined
          ? { apiKey: 'unused', defaultHeaders: { ...headers, Authorization: null } }
          : { apiKey, ...(headers === undefined ? {} : { defaultHeaders: headers }) }),
        ...(organization === undefined ? {} : { organization }),
        ...OPENAI_CLIENT_DEFAULTS,
      });
    },
  });
}
