import type OpenAI from 'openai';
import { CloudhopError } from '../../core/errors.js';
import { OPENAI_CLIENT_DEFAULTS } from '../../runtime/vendor-client.js';
import { loadSigV4 } from './load-aws-sdk.js';
import type { OpenAIModule } from './load-sdk.js';

export interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export type AwsCredentialsProvider = () => AwsCredentialIdentity | Promise<AwsCredentialIdentity>;

/** SigV4 scope of the bedrock-runtime endpoint (the signing name its AWS SDK client uses). */
const BEDROCK_RUNTIME_SIGNING_NAME = 'bedrock';

/**
 * An `openai` client whose requests are SigV4-signed for bedrock-runtime. The `openai` package's
 * Bedrock provider signs every request for the `bedrock-mantle` scope, which bedrock-runtime
 * rejects, so requests to that service are signed here, the same way, with its own scope.
 */
export async function createBedrockRuntimeSigV4Client(
  sdk: OpenAIModule,
  settings: { baseURL: string; region: string; credentials: AwsCredentialsProvider; runtimeId: string },
): Promise<OpenAI> {
  const { SignatureV4, Hash } = await loadSigV4();
  const signer = new SignatureV4({
    credentials: async () => settings.credentials(),
    region: settings.region,
    service: BEDROCK_RUNTIME_SIGNING_NAME,
    sha256: Hash.bind(null, 'sha256'),
  });

  class SigV4Client extends sdk.OpenAI {
    protected override async prepareRequest(request: RequestInit, { url }: { url: string }): Promise<void> {
      const target = new URL(url);
      const headers = new Headers(request.headers);
      headers.set('host', target.host);
      const query: Record<string, string | string[]> = {};
      for (const [name, value] of target.searchParams) {
        const existing = query[name];
        query[name] =
          existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
      }
      const method = (request.method ?? 'GET').toUpperCase();
      let signed: { headers: Record<string, string> };
      try {
        signed = await signer.sign({
          method,
          protocol: target.protocol,
          hostname: target.hostname,
          ...(target.port ? { port: Number(target.port) } : {}),
          path: target.pathname,
          query,
          headers: Object.fromEntries(headers.entries()),
          ...(typeof request.body === 'string' ? { body: request.body } : {}),
        });
      } catch (error) {
        throw new CloudhopError(
          'auth_failed',
          'Could not resolve AWS credentials to sign the request: pass credentials to frontier(), configure the AWS credential chain, or use auth: { apiKey }.',
          { runtimeId: settings.runtimeId, cause: error, retryable: false },
        );
      }
      request.method = method;
      // A signed request must not be replayed to another host by a redirect.
      request.redirect = 'manual';
      request.headers = new Headers(signed.headers);
    }
  }

  // The client insists on a key; the header it would make is dropped so only SigV4 authenticates.
  return new SigV4Client({
    apiKey: 'unused-with-sigv4',
    baseURL: settings.baseURL,
    ...OPENAI_CLIENT_DEFAULTS,
    defaultHeaders: { Authorization: null },
  });
}
