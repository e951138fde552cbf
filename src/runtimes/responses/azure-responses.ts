import * as z from 'zod/v4';
import { registerSecret } from '../../core/secrets.js';
import type { Runtime } from '../../runtime/runtime.js';
import { OPENAI_CLIENT_DEFAULTS } from '../../runtime/vendor-client.js';
import {
  endpointLabel,
  functionSchema,
  httpUrlSchema,
  invalidConfig,
  modelSchema,
  parseOptions,
  stateSchema,
  trimTrailingSlashes,
} from './responses-options.js';
import { createResponsesRuntime, type ResponsesState } from './responses-runtime.js';

export interface AzureResponsesOptions {
  /** The resource endpoint, e.g. `https://myres.openai.azure.com` (a trailing `/openai` or `/openai/v1` is accepted). */
  endpoint: string;
  /** Sent as the `api-key` header. Give this or `azureADTokenProvider`. */
  apiKey?: string;
  /** Microsoft Entra ID tokens (scope `https://cognitiveservices.azure.com/.default`), sent as a bearer token. */
  azureADTokenProvider?: () => Promise<string>;
  /** The deployment name (on the v1 path it travels as the body's `model`). */
  model: string;
  /** `'previous-response'` (default): `store` + `previous_response_id`; `'conversation'`: the Conversations API. */
  state?: ResponsesState;
}

const optionsSchema = z
  .object({
    endpoint: httpUrlSchema,
    apiKey: z.string().trim().min(1).optional(),
    azureADTokenProvider: functionSchema<() => Promise<string>>().optional(),
    model: modelSchema,
    state: stateSchema,
  })
  .strict();

const hints = {
  endpoint: "the resource endpoint, e.g. 'https://myres.openai.azure.com'",
  apiKey: 'the resource key',
  azureADTokenProvider: 'a function returning a Microsoft Entra ID token',
  model: "the deployment name, e.g. 'gpt-5.4'",
  state: "'previous-response' or 'conversation'",
};

/**
 * The Responses API on Azure OpenAI, on the v1 path `{endpoint}/openai/v1/responses` (and
 * `/openai/v1/conversations`). Built on the plain `OpenAI` client rather than `AzureOpenAI`: the
 * latter always appends `api-version` and is meant for the deployment paths, which the Responses
 * API does not use. Runtime id: `azure-responses:<host>/<model>`.
 */
export function azureResponses(options: AzureResponsesOptions): Runtime {
  const parsed = parseOptions('azureResponses', optionsSchema, options, hints);
  const { apiKey, azureADTokenProvider } = parsed;
  if ((apiKey === undefined) === (azureADTokenProvider === undefined)) {
    throw invalidConfig(
      apiKey === undefined ? 'apiKey' : 'azureADTokenProvider',
      'azureResponses needs exactly one of apiKey or azureADTokenProvider.',
    );
  }
  registerSecret(apiKey);
  const resource = trimTrailingSlashes(parsed.endpoint).replace(/\/openai(\/v1)?$/, '');
  const baseURL = `${resource}/openai/v1`;

  return createResponsesRuntime({
    id: `azure-responses:${endpointLabel(resource)}/${parsed.model}`,
    family: 'azure-openai',
    provider: 'azure.ai.openai',
    model: parsed.model,
    state: parsed.state,
    createClient: async ({ OpenAI }) =>
      apiKey !== undefined
        ? // Azure's key header is `api-key`; the null drops the bearer header the client would add.
          new OpenAI({
            apiKey,
            baseURL,
            ...OPENAI_CLIENT_DEFAULTS,
            defaultHeaders: { 'api-key': apiKey, Authorization: null },
          })
        : new OpenAI({
            baseURL,
            ...OPENAI_CLIENT_DEFAULTS,
            apiKey: async () => {
              const token = await azureADTokenProvider!();
              registerSecret(token);
              return token;
            },
          }),
  });
}
