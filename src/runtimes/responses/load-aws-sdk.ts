import { cached } from './load-sdk.js';

/**
 * The AWS signing packages, in a module of their own that only frontier imports: a bundler
 * follows `import('…')` too, so were these next to `loadOpenAI` (shared by every Responses
 * runtime), an Azure- or OpenAI-only bundle would need them installed.
 */

export type BedrockAwsModule = typeof import('openai/providers/bedrock/aws');
export type BedrockBearerModule = typeof import('openai/providers/bedrock');
export interface SigV4Modules {
  SignatureV4: typeof import('@smithy/signature-v4').SignatureV4;
  Hash: typeof import('@smithy/hash-node').Hash;
}
export type CredentialChainModule = typeof import('@aws-sdk/credential-provider-node');

const AWS_SIGNING_PACKAGES = '@aws-sdk/credential-provider-node @smithy/hash-node @smithy/signature-v4';

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
