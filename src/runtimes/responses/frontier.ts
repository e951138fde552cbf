import type OpenAI from 'openai';
import * as z from 'zod/v4';
import { registerSecret } from '../../core/secrets.js';
import type { Runtime } from '../../runtime/runtime.js';
import { OPENAI_CLIENT_DEFAULTS } from '../../runtime/vendor-client.js';
import {
  type AwsCredentialIdentity,
  type AwsCredentialsProvider,
  createBedrockRuntimeSigV4Client,
} from './bedrock-runtime-sigv4.js';
import { loadBedrockAwsProvider, loadBedrockBearerProvider, loadCredentialChain } from './load-aws-sdk.js';
import type { OpenAIModule } from './load-sdk.js';
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

export type { AwsCredentialIdentity, AwsCredentialsProvider };

export type FrontierService = 'bedrock-mantle' | 'bedrock-runtime';

export type FrontierAuth = 'sigv4' | { apiKey: string } | { tokenProvider: () => string | Promise<string> };

export interface FrontierOptions {
  /** AWS region, e.g. `'us-east-1'`. */
  region: string;
  /** A Bedrock model that supports the Responses API, e.g. `'openai.gpt-5.4'`. */
  model: string;
  /** Which Bedrock endpoint serves the Responses API (default `'bedrock-mantle'`). */
  service?: FrontierService;
  /** `'sigv4'` (default: AWS credentials), or a Bedrock API key / token provider sent as a bearer token. */
  auth?: FrontierAuth;
  /** For `'sigv4'`: explicit credentials or a provider of them; default the AWS credential chain. */
  credentials?: AwsCredentialIdentity | AwsCredentialsProvider;
  /** Overrides the endpoint (a proxy, the emulator); requests go there as they are, still signed for `service`. */
  baseURL?: string;
  /** `'previous-response'` (default): `store` + `previous_response_id`; `'conversation'`: the Conversations API. */
  state?: ResponsesState;
}

interface ServiceProfile {
  baseURL(region: string): string;
  /**
   * The endpoint family the `openai` package's Bedrock provider knows the service as. openai 7
   * needs it for any baseURL that is not an AWS hostname (a proxy, the emulator); 6 ignores it.
   */
  providerEndpoint: 'mantle' | 'runtime';
  /** Stateful modes the service serves (AWS user guide, "Responses API"). */
  states: ReadonlySet<ResponsesState>;
}

/**
 * bedrock-runtime (AWS's recommendation for new applications) is synchronous only, has no
 * server-side tools and, as documented, no Conversations API; bedrock-mantle serves both modes.
 */
const SERVICES: Record<FrontierService, ServiceProfile> = {
  'bedrock-mantle': {
    baseURL: (region) => `https://bedrock-mantle.${region}.api.aws/v1`,
    providerEndpoint: 'mantle',
    states: new Set(['previous-response', 'conversation']),
  },
  'bedrock-runtime': {
    baseURL: (region) => `https://bedrock-runtime.${region}.amazonaws.com/openai/v1`,
    providerEndpoint: 'runtime',
    states: new Set(['previous-response']),
  },
};

const staticCredentialsSchema = z
  .object({
    accessKeyId: z.string().trim().min(1),
    secretAccessKey: z.string().trim().min(1),
    sessionToken: z.string().trim().min(1).optional(),
  })
  .strict();

const optionsSchema = z
  .object({
    region: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)+$/),
    model: modelSchema,
    service: z.enum(['bedrock-mantle', 'bedrock-runtime']).default('bedrock-mantle'),
    auth: z
      .union([
        z.literal('sigv4'),
        z.object({ apiKey: z.string().trim().min(1) }).strict(),
        z.object({ tokenProvider: functionSchema<() => string | Promise<string>>() }).strict(),
      ])
      .default('sigv4'),
    credentials: z.union([staticCredentialsSchema, functionSchema<AwsCredentialsProvider>()]).optional(),
    baseURL: httpUrlSchema.optional(),
    state: stateSchema,
  })
  .strict();

const hints = {
  region: "an AWS region such as 'us-east-1'",
  model: "a Bedrock model that supports the Responses API, e.g. 'openai.gpt-5.4'",
  service: "'bedrock-mantle' or 'bedrock-runtime'",
  auth: "'sigv4', { apiKey } or { tokenProvider }",
  credentials: '{ accessKeyId, secretAccessKey, sessionToken? } or a function returning them',
  baseURL: 'an http(s) URL of a Responses API server',
  state: "'previous-response' or 'conversation'",
};

/**
 * The Responses API on Amazon Bedrock's OpenAI-compatible endpoints. Runtime id:
 * `frontier:<host><path>/<model>`, e.g. `frontier:bedrock-mantle.us-east-1.api.aws/v1/openai.gpt-5.4`.
 */
export function frontier(options: FrontierOptions): Runtime {
  const parsed = parseOptions('frontier', optionsSchema, options, hints);
  const { region, model, service, auth, credentials, state } = parsed;
  const profile = SERVICES[service];
  if (parsed.baseURL === undefined && !profile.states.has(state)) {
    const alternative = (Object.keys(SERVICES) as FrontierService[]).find((name) =>
      SERVICES[name].states.has(state),
    );
    throw invalidConfig(
      'state',
      `'${state}' is not available on service '${service}' (frontier): use service: '${alternative}', or state: 'previous-response'.`,
    );
  }
  if (auth !== 'sigv4' && credentials !== undefined) {
    throw invalidConfig(
      'credentials',
      "only apply to auth: 'sigv4' (frontier); remove them or use auth: 'sigv4'.",
    );
  }
  if (typeof auth === 'object' && 'apiKey' in auth) registerSecret(auth.apiKey);
  if (credentials !== undefined && typeof credentials === 'object') {
    registerSecret(credentials.secretAccessKey);
    registerSecret(credentials.sessionToken);
  }

  const baseURL =
    parsed.baseURL !== undefined ? trimTrailingSlashes(parsed.baseURL) : profile.baseURL(region);
  const id = `frontier:${endpointLabel(baseURL)}/${model}`;
  return createResponsesRuntime({
    id,
    family: 'aws-bedrock-openai',
    provider: 'aws.bedrock',
    model,
    state,
    createClient: (sdk) => createFrontierClient(sdk, { id, region, service, auth, credentials, baseURL }),
  });
}

async function createFrontierClient(
  sdk: OpenAIModule,
  settings: {
    id: string;
    region: string;
    service: FrontierService;
    auth: FrontierAuth;
    credentials: AwsCredentialIdentity | AwsCredentialsProvider | undefined;
    baseURL: string;
  },
): Promise<OpenAI> {
  const { region, baseURL, auth } = settings;
  // Not an object literal: openai 6's option types do not list `endpoint` (and its provider ignores it).
  const endpointOptions = { region, baseURL, endpoint: SERVICES[settings.service].providerEndpoint };
  if (auth !== 'sigv4') {
    const { bedrock } = await loadBedrockBearerProvider();
    const bearer =
      'apiKey' in auth
        ? { apiKey: auth.apiKey }
        : {
            tokenProvider: async () => {
              const token = await auth.tokenProvider();
              registerSecret(token);
              return token;
            },
          };
    return new sdk.OpenAI({
      provider: bedrock({ ...endpointOptions, ...bearer }),
      ...OPENAI_CLIENT_DEFAULTS,
    });
  }
  const credentials = await credentialsProvider(settings.credentials);
  if (settings.service === 'bedrock-runtime') {
    return createBedrockRuntimeSigV4Client(sdk, { baseURL, region, credentials, runtimeId: settings.id });
  }
  const { bedrock } = await loadBedrockAwsProvider();
  // apiKey: null keeps an AWS_BEARER_TOKEN_BEDROCK in the environment from replacing SigV4.
  const sigV4Options = { ...endpointOptions, apiKey: null, credentialProvider: credentials };
  return new sdk.OpenAI({ provider: bedrock(sigV4Options), ...OPENAI_CLIENT_DEFAULTS });
}

/** Every credential source becomes one provider that registers the secrets it hands out. */
async function credentialsProvider(
  credentials: AwsCredentialIdentity | AwsCredentialsProvider | undefined,
): Promise<AwsCredentialsProvider> {
  let source: AwsCredentialsProvider;
  if (typeof credentials === 'function') source = credentials;
  else if (credentials !== undefined) source = () => credentials;
  else source = (await loadCredentialChain()).defaultProvider();
  return async () => {
    const identity = await source();
    registerSecret(identity?.secretAccessKey);
    registerSecret(identity?.sessionToken);
    return identity;
  };
}
