import * as z from 'zod/v4';
import { failConfig, parseOptions } from '../../core/options.js';
import { registerSecret } from '../../core/secrets.js';
import type { Runtime } from '../../runtime/runtime.js';
import { OPENAI_CLIENT_DEFAULTS } from '../../runtime/vendor-client.js';
import { createChatCompletionsRuntime } from './chat-completions-runtime.js';
import { endpointLabel, httpUrl, redactingTokenProvider, requiredString } from './chat-options.js';

export interface AzureChatOptions {
  /**
   * The resource endpoint, e.g. 'https://myres.openai.azure.com' (cloudhop adds `/openai/…`).
   * Default: the AZURE_OPENAI_ENDPOINT environment variable, as the `AzureOpenAI` client reads it.
   */
  endpoint?: string;
  /** The deployment name (not the model name). On the v1 path it is sent as the body's `model`. */
  deployment: string;
  /**
   * An API key (sent as the `api-key` header). Give exactly one of apiKey and azureADTokenProvider.
   * Default without azureADTokenProvider: the AZURE_OPENAI_API_KEY environment variable.
   */
  apiKey?: string;
  /**
   * Returns a Microsoft Entra token (scope https://cognitiveservices.azure.com/.default), called
   * before each request and sent as `Authorization: Bearer …`; e.g. `getBearerTokenProvider`
   * from `@azure/identity`.
   */
  azureADTokenProvider?: () => Promise<string>;
  /** The `api-version` query of the deployment path. Default: '2024-10-21'. Sent on the v1 path only when set. */
  apiVersion?: string;
  /** Use the v1 API (`{endpoint}/openai/v1/chat/completions`, deployment in the body) instead of the deployment path. */
  useV1?: boolean;
}

/** The latest GA version of the deployment-path API when this was written. */
export const DEFAULT_AZURE_API_VERSION = '2024-10-21';

const ENDPOINT_HINT = 'the Azure OpenAI resource URL, e.g. "https://myres.openai.azure.com"';

const endpointSchema = httpUrl(ENDPOINT_HINT).refine(
  (endpoint) => !/\/openai(\/|$)/.test(new URL(endpoint).pathname),
  'must be the resource root (e.g. "https://myres.openai.azure.com"), without "/openai…": cloudhop adds the API path',
);

const optionsSchema = z.strictObject({
  endpoint: endpointSchema.optional(),
  deployment: requiredString('the deployment name from the Azure portal, e.g. "gpt-4o"').regex(
    /^[^/\\?#%\s]+$/,
    'must be a deployment name, without "/", "?", "#", "%" or spaces',
  ),
  apiKey: requiredString('the resource key (Keys and Endpoint in the Azure portal)').optional(),
  azureADTokenProvider: z
    .custom<() => Promise<string>>((value) => typeof value === 'function', {
      error: 'must be a function returning a Microsoft Entra token, e.g. getBearerTokenProvider(...)',
    })
    .optional(),
  apiVersion: requiredString('an Azure OpenAI API version such as "2024-10-21"').optional(),
  useV1: z.boolean({ error: 'must be true or false' }).optional(),
});

/** The environment where there is one: cloudhop/azure also runs on web-standard runtimes without `process`. */
function environment(name: string): string | undefined {
  const value = globalThis.process?.env?.[name]?.trim();
  return value ? value : undefined;
}

/** The `AzureOpenAI` client's fallback, resolved here so that the runtime id names the resource really used. */
function endpointFromEnvironment(): string {
  const value = environment('AZURE_OPENAI_ENDPOINT');
  if (value === undefined) {
    failConfig(
      `azureChat: option "endpoint": is required: ${ENDPOINT_HINT} (or set AZURE_OPENAI_ENDPOINT).`,
      'endpoint',
    );
  }
  const checked = endpointSchema.safeParse(value);
  if (!checked.success) {
    failConfig(
      `azureChat: the AZURE_OPENAI_ENDPOINT environment variable ${checked.error.issues[0]!.message}; fix it or pass the "endpoint" option.`,
      'endpoint',
    );
  }
  return checked.data;
}

/**
 * Azure OpenAI chat completions, stateless: every step sends the whole context. Built on the
 * `openai` package's `AzureOpenAI` client (the v1 path uses its `OpenAI` client, as Microsoft
 * documents), loaded on first use.
 */
export function azureChat(options: AzureChatOptions): Runtime {
  const parsed = parseOptions(optionsSchema, options, 'azureChat');
  const { deployment, azureADTokenProvider, apiVersion, useV1 } = parsed;
  const endpoint = parsed.endpoint ?? endpointFromEnvironment();
  // The environment's key is the AzureOpenAI client's default, never a second credential next to a token provider.
  const apiKey = parsed.apiKey ?? (azureADTokenProvider ? undefined : environment('AZURE_OPENAI_API_KEY'));
  if ((apiKey === undefined) === (azureADTokenProvider === undefined)) {
    failConfig(
      apiKey === undefined
        ? 'azureChat: option "apiKey": give apiKey or azureADTokenProvider (exactly one of them), or set AZURE_OPENAI_API_KEY.'
        : 'azureChat: option "azureADTokenProvider": give either apiKey or azureADTokenProvider, not both.',
      apiKey === undefined ? 'apiKey' : 'azureADTokenProvider',
    );
  }
  registerSecret(apiKey);
  const tokenProvider = azureADTokenProvider && redactingTokenProvider(azureADTokenProvider);
  const id = `azure-chat:${endpointLabel(endpoint)}/${deployment}`;
  const where = useV1
    ? `${endpoint}/openai/v1`
    : `${endpoint} (api-version ${apiVersion ?? DEFAULT_AZURE_API_VERSION})`;

  return createChatCompletionsRuntime({
    id,
    family: 'azure-openai',
    provider: 'azure.ai.openai',
    factory: 'azureChat',
    model: deployment,
    errors: {
      service: 'Azure OpenAI',
      notFound: `azureChat: deployment "${deployment}" was not found at ${where}. Check the deployment name (Deployments in the Azure portal; it is not the model name), the endpoint and apiVersion`,
      authHint:
        'Check apiKey (Keys and Endpoint in the Azure portal), or that the azureADTokenProvider token has the scope https://cognitiveservices.azure.com/.default and the identity the "Cognitive Services OpenAI User" role.',
    },
    createClient(sdk) {
      if (useV1) {
        return new sdk.OpenAI({
          baseURL: `${endpoint}/openai/v1`,
          // The key goes in Azure's own `api-key` header, as on the deployment path.
          ...(apiKey === undefined
            ? { apiKey: tokenProvider }
            : { apiKey, defaultHeaders: { 'api-key': apiKey, Authorization: null } }),
          ...(apiVersion === undefined ? {} : { defaultQuery: { 'api-version': apiVersion } }),
          ...OPENAI_CLIENT_DEFAULTS,
        });
      }
      return new sdk.AzureOpenAI({
        // baseURL rather than endpoint: AZURE_OPENAI_ENDPOINT / OPENAI_BASE_URL in the environment
        // must not redirect a runtime that was given its endpoint.
        baseURL: `${endpoint}/openai`,
        deployment,
        apiVersion: apiVersion ?? DEFAULT_AZURE_API_VERSION,
        // Explicit null keeps AZURE_OPENAI_API_KEY from the environment out of token-provider auth.
        ...(apiKey === undefined
          ? { azureADTokenProvider: tokenProvider, apiKey: null as never }
          : { apiKey }),
        ...OPENAI_CLIENT_DEFAULTS,
      });
    },
  });
}
