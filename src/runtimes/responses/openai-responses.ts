import * as z from 'zod/v4';
import { registerSecret } from '../../core/secrets.js';
import type { Runtime } from '../../runtime/runtime.js';
import { OPENAI_CLIENT_DEFAULTS } from '../../runtime/vendor-client.js';
import {
  endpointLabel,
  httpUrlSchema,
  invalidConfig,
  modelSchema,
  parseOptions,
  stateSchema,
} from './responses-options.js';
import { createResponsesRuntime, type ResponsesState } from './responses-runtime.js';

export interface OpenAIResponsesOptions {
  /** Defaults to the `OPENAI_API_KEY` environment variable. */
  apiKey?: string;
  /** Any server speaking the Responses API; defaults to `https://api.openai.com/v1`. */
  baseURL?: string;
  model: string;
  /** `'previous-response'` (default): `store` + `previous_response_id`; `'conversation'`: the Conversations API. */
  state?: ResponsesState;
}

const OPENAI_BASE_URL = 'https://api.openai.com/v1';

const optionsSchema = z
  .object({
    apiKey: z.string().trim().min(1).optional(),
    baseURL: httpUrlSchema.optional(),
    model: modelSchema,
    state: stateSchema,
  })
  .strict();

const hints = {
  apiKey: 'an OpenAI API key (or set OPENAI_API_KEY)',
  baseURL: "an http(s) URL of a Responses API server, e.g. 'https://api.openai.com/v1'",
  model: "a model name, e.g. 'gpt-5.4'",
  state: "'previous-response' or 'conversation'",
};

/** The Responses API on OpenAI (or any compatible server via `baseURL`). Runtime id: `openai-responses:<host><path>/<model>`. */
export function openaiResponses(options: OpenAIResponsesOptions): Runtime {
  const parsed = parseOptions('openaiResponses', optionsSchema, options, hints);
  // Guarded: cloudhop/openai also runs on web-standard runtimes without `process`.
  const apiKey = parsed.apiKey ?? globalThis.process?.env?.OPENAI_API_KEY?.trim();
  if (!apiKey)
    throw invalidConfig(
      'apiKey',
      'is required (openaiResponses: pass an OpenAI API key or set OPENAI_API_KEY).',
    );
  registerSecret(apiKey);
  const baseURL = parsed.baseURL ?? OPENAI_BASE_URL;
  return createResponsesRuntime({
    id: `openai-responses:${endpointLabel(baseURL)}/${parsed.model}`,
    family: 'openai',
    provider: 'openai',
    model: parsed.model,
    state: parsed.state,
    createClient: async ({ OpenAI }) => new OpenAI({ apiKey, baseURL, ...OPENAI_CLIENT_DEFAULTS }),
  });
}
