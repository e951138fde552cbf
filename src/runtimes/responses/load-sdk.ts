import { CloudhopError } from '../../core/errors.js';

/**
 * Vendor packages are optional peers: they are imported on a runtime's first step, never at
 * `import 'cloudhop'`, and cached. A missing one becomes `invalid_config` naming what to install.
 */

export type OpenAIModule = typeof import('openai');
export type BedrockAwsModule = typeof import('openai/providers/bedrock/aws');
export type BedrockBearerModule = typeof import('openai/providers/bedrock');
export interface SigV4Modules {
  SignatureV4: typeof import('@smithy/signature-v4').SignatureV4;
  Hash: typeof import('@smithy/hash-node').Hash;
}
export type CredentialChainModule = typeof import('@aws-sdk/credential-provider-node');

const AWS_SIGNING_PACKAGES = '@aws-sdk/credential-provider-node @smithy/hash-node @smithy/signature-v4';

function cached<T>(load: () => Promise<T>, install: string, purpose: string): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw isModuleNotFound(error)
        ? new CloudhopError(
            'invalid_config',
            `${purpose} needs packages that are not installed: run \`npm install ${install}\`.`,
            { cause: error, retryable: false },
          )
        : error;
    });
    return loading;
  };
}

/** Also looks through `cause`: loaders and bundlers wrap the resolution error. */
function isModuleNotFound(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    const code = (current as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return true;
  }
  return false;
}

export const loadOpenAI = cached(() => import('openai'), 'openai', 'A Responses runtime');

export const loadBedrockAwsProvider = cached(
  () => import('openai/providers/bedrock/aws'),
  `openai ${AWS_SIGNING_PACKAGES}`,
  "frontier with auth 'sigv4'",
);

export const loadBedrockBearerProvider = cached(
  () => import('openai/providers/bedrock'),
  'openai',
  'frontier with bearer auth',
);

export const loadSigV4 = cached(
  async (): Promise<SigV4Modules> => {
    const [{ SignatureV4 }, { Hash }] = await Promise.all([
      import('@smithy/signature-v4'),
      import('@smithy/hash-node'),
    ]);
    return { SignatureV4, Hash };
  },
  AWS_SIGNING_PACKAGES,
  "frontier with auth 'sigv4'",
);

export const loadCredentialChain = cached(
  () => import('@aws-sdk/credential-provider-node'),
  '@aws-sdk/credential-provider-node',
  "frontier with auth 'sigv4' and no explicit credentials (the AWS credential chain)",
);
