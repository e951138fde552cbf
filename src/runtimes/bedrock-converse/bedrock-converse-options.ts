import * as z from 'zod/v4';
import { failConfig, parseOptions } from '../../core/options.js';

/** Static AWS credentials, as the AWS SDK takes them. */
export interface BedrockCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** A function resolving AWS credentials (e.g. `fromIni()` from `@aws-sdk/credential-providers`). */
export type BedrockCredentialsProvider = () => Promise<BedrockCredentials>;

/**
 * The part of a `BedrockRuntimeClient` cloudhop uses. Typed structurally so that `cloudhop/aws`
 * can be type-checked without `@aws-sdk/client-bedrock-runtime` installed.
 */
export interface BedrockRuntimeClientLike {
  send(command: any, options?: any): Promise<any>;
}

/** Converse `inferenceConfig`, sent with every request. */
export interface BedrockInferenceConfig {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stopSequences?: string[];
}

export interface BedrockConverseOptions {
  /** AWS region, e.g. 'us-east-1'. Also names the runtime (see `id`). */
  region: string;
  /** Bedrock model id, inference profile id or ARN, e.g. 'anthropic.claude-3-5-sonnet-20240620-v1:0'. */
  model: string;
  /**
   * Your own `BedrockRuntimeClient`, used as it is (its retries, handler and credentials are
   * yours to set). Without it cloudhop builds one with `maxAttempts: 1`.
   */
  client?: BedrockRuntimeClientLike;
  /**
   * Another endpoint (the emulator, a proxy, a VPC endpoint); `http://` works over HTTP/1.1 and
   * HTTP/2. Default: `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`, else `AWS_ENDPOINT_URL` (as the AWS SDK
   * reads them, unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`), else Bedrock's regional
   * endpoint. An `endpoint_url` in the shared AWS config file is not read: pass it here.
   */
  endpoint?: string;
  /** Credentials for the client cloudhop builds; default: the AWS SDK's credential chain. */
  credentials?: BedrockCredentials | BedrockCredentialsProvider;
  inferenceConfig?: BedrockInferenceConfig;
  /** Model-specific request fields passed through as they are (e.g. `{ top_k: 200 }`, reasoning settings). */
  additionalModelRequestFields?: Record<string, unknown>;
}

const requiredString = (what: string) =>
  z
    .string({
      error: (issue) => (issue.input === undefined ? `is required: ${what}` : `must be a string: ${what}`),
    })
    .trim()
    .min(1, `must not be empty: ${what}`);

const credentialsSchema = z.union(
  [
    z.looseObject({
      accessKeyId: z.string().min(1),
      secretAccessKey: z.string().min(1),
      sessionToken: z.string().optional(),
      expiration: z.date().optional(),
    }),
    z.custom<BedrockCredentialsProvider>((value) => typeof value === 'function'),
  ],
  {
    error:
      'must be { accessKeyId, secretAccessKey, sessionToken? } or a function resolving them (an AWS credential provider)',
  },
);

const optionsSchema = z.strictObject({
  region: requiredString('the AWS region, e.g. "us-east-1"').regex(
    /^[a-z0-9-]+$/,
    'must be an AWS region name such as "us-east-1"',
  ),
  model: requiredString('the Bedrock model id, e.g. "anthropic.claude-3-5-sonnet-20240620-v1:0"'),
  client: z
    .custom<BedrockRuntimeClientLike>(
      (value) =>
        typeof value === 'object' &&
        value !== null &&
        typeof (value as { send?: unknown }).send === 'function',
      {
        error: 'must be a BedrockRuntimeClient from @aws-sdk/client-bedrock-runtime (an object with send())',
      },
    )
    .optional(),
  endpoint: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL, e.g. "http://127.0.0.1:4010"' })
    .optional(),
  credentials: credentialsSchema.optional(),
  inferenceConfig: z
    .strictObject({
      maxTokens: z.number().int().positive().optional(),
      temperature: z.number().min(0).optional(),
      topP: z.number().min(0).max(1).optional(),
      stopSequences: z.array(z.string()).optional(),
    })
    .optional(),
  additionalModelRequestFields: z.record(z.string(), z.unknown()).optional(),
});

export type ParsedBedrockConverseOptions = z.output<typeof optionsSchema>;

const ENDPOINT_VARIABLES = ['AWS_ENDPOINT_URL_BEDROCK_RUNTIME', 'AWS_ENDPOINT_URL'] as const;

/**
 * The endpoint the AWS SDK would take from the environment, resolved here so that the runtime id
 * names the server really used and an `http://` one gets the cleartext handler.
 */
function endpointFromEnvironment(): string | undefined {
  if (process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.trim().toLowerCase() === 'true') return undefined;
  for (const variable of ENDPOINT_VARIABLES) {
    const value = process.env[variable]?.trim();
    if (!value) continue;
    if (!optionsSchema.shape.endpoint.safeParse(value).success) {
      failConfig(
        `bedrockConverse: the ${variable} environment variable must be an http:// or https:// URL, e.g. "http://127.0.0.1:4010"; fix it or pass the endpoint option.`,
        'endpoint',
      );
    }
    return value;
  }
  return undefined;
}

export function parseBedrockConverseOptions(options: unknown): ParsedBedrockConverseOptions {
  const parsed = parseOptions(optionsSchema, options ?? {}, 'bedrockConverse');
  if (parsed.client && parsed.credentials) {
    failConfig(
      'bedrockConverse: option "credentials" cannot be combined with "client": set the credentials on your BedrockRuntimeClient, or drop "client" and let cloudhop build one.',
      'credentials',
    );
  }
  if (parsed.client && parsed.endpoint) {
    failConfig(
      'bedrockConverse: option "endpoint" cannot be combined with "client": set the endpoint on your BedrockRuntimeClient, or drop "client" and let cloudhop build one.',
      'endpoint',
    );
  }
  if (parsed.client || parsed.endpoint) return parsed;
  const endpoint = endpointFromEnvironment();
  return endpoint === undefined ? parsed : { ...parsed, endpoint };
}
